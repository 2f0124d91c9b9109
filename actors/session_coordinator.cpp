#include "actors/session_coordinator.hpp"

#include "actors/database_call.hpp"
#include "actors/device_registrar.hpp"
#include "actors/scope.hpp"
#include "actors/status_tree.hpp"
#include "actors/app_callback.hpp"
#include "api/session_contexts.hpp"
#include "persistence/sync_state.hpp"

namespace mxsync {

namespace {

using self_pointer = session_coordinator_actor::stateful_pointer<session_coordinator_state>;

contexts::scope_view view_of(const session_coordinator_state& st) {
  return {st.current_scope,
          transport::endpoint_url(st.plan->endpoint, transport::endpoint::upload),
          transport::endpoint_url(st.plan->endpoint, transport::endpoint::download),
          {}, 0, st.last_server};
}

/// Reports the end to the runtime. The runtime ends the session and only then calls the
/// terminal callback, so that a startSession from inside it is accepted (docs/callbacks.md
/// 11). `success_context`: what onsyncsuccess gets (read by finish_with_success).
void finish(self_pointer self, nlohmann::json success_context = nullptr) {
  auto& st = self->state;
  st.stage = "done";
  // A stop requested before the end makes it a stopped session, whatever the last step
  // gave: the real library checks for the stop on its error paths too and then calls the
  // stop callback alone, neither onsyncsuccess nor onsyncerror (docs/callbacks.md 5).
  if (st.plan->stopping()) {
    st.outcome.stopped = true;
    st.outcome.error.reset();
  } else if (!st.outcome.error && st.plan->config.onsyncsuccess) {
    st.outcome.success_context = success_context.is_object()
                                   ? std::move(success_context)
                                   : contexts::session_context(view_of(st));
  }
  st.promise.deliver(std::move(st.outcome));
  self->quit();
}

/// onsyncsuccess gets the context after the last scope: its final blob (the upload
/// blob when its download was skipped) as lastsynctimestamp (docs/callbacks.md 2.2).
void finish_with_success(self_pointer self) {
  auto& st = self->state;
  if (!st.plan->config.onsyncsuccess || st.current_scope.empty() || st.plan->stopping()) {
    finish(self);
    return;
  }
  st.stage = "reading final position";
  const auto& config = st.plan->config;
  bool downloaded = scope_downloads(config, st.current_scope);
  auto filters = nlohmann::json{};
  if (auto it = config.filterparams.find(st.current_scope); it != config.filterparams.end())
    filters = it->second;
  auto filter = downloaded ? syncdb::filter_value_text(filters) : std::string{"no filter"};
  database_call<syncdb::scope_position>(
    self, st.database, "final position " + st.current_scope,
    [scope = st.current_scope, filter](msg::db_context& ctx) {
      return syncdb::read_scope_position(ctx.connection, ctx.config, scope, filter);
    },
    [self, downloaded](syncdb::scope_position& position) {
      auto view = view_of(self->state);
      view.last_sync_timestamp = downloaded ? position.download_blob : position.upload_blob;
      view.upload_sequence = position.upload_sequence;
      finish(self, downloaded ? contexts::session_context(view)
                              : contexts::scope_upload_only_context(view));
    },
    [self](sync_error&) { finish(self); });
}

void run_next_scope(self_pointer self) {
  auto& st = self->state;
  const auto& scopes = st.plan->sync->scopes;
  if (st.next_scope >= scopes.size()) {
    if (!st.failed_scopes.empty()) {
      st.outcome.error = contexts::session_error(st.failed_scopes);
      finish(self);
    } else {
      finish_with_success(self);
    }
    return;
  }
  if (st.plan->stopping()) {
    st.outcome.stopped = true;
    finish(self);
    return;
  }
  const auto& scope_config = scopes[st.next_scope++];
  st.current_scope = scope_config.name;
  st.stage = "syncing scope " + scope_config.name;
  scope_job job{scope_config.name, st.device_id, st.instance_id, st.session};
  st.running_scope = self->spawn(scope, st.plan, std::move(job), st.database, st.listener);
  self->request(st.running_scope, caf::infinite, msg::run_atom::value)
    .then(
      [self](scope_outcome& outcome) {
        auto& st = self->state;
        st.running_scope = nullptr;
        ++st.scopes_done;
        if (outcome.session)
          st.session = outcome.session;
        st.last_server = outcome.server;
        if (outcome.error)
          st.failed_scopes.emplace_back(outcome.scope, *outcome.error);
        if (outcome.stopped) {
          st.outcome.stopped = true;
          finish(self);
          return;
        }
        run_next_scope(self);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.running_scope = nullptr;
        st.failed_scopes.emplace_back(
          st.current_scope, sync_error{static_cast<int>(error_code::unknown),
                                       "The scope actor failed: " + self->system().render(err),
                                       nullptr});
        run_next_scope(self);
      });
}

void fail_registration(self_pointer self, sync_error error) {
  self->state.outcome.error = std::move(error);
  finish(self);
}

} // namespace

session_coordinator_actor::behavior_type
session_coordinator(self_pointer self, session_plan_ptr plan, database_actor database,
                    listener_actor listener) {
  auto& st = self->state;
  st.plan = std::move(plan);
  st.database = std::move(database);
  st.listener = std::move(listener);
  st.outcome.session_number = st.plan->session_number;
  return {
    [self](msg::run_atom) -> caf::typed_response_promise<session_outcome> {
      auto& st = self->state;
      st.promise = self->make_response_promise<session_outcome>();
      if (!st.plan->sync->scopes.empty())
        st.current_scope = st.plan->sync->scopes.front().name;
      notify(self, "onsyncstart", st.plan->config.onsyncstart, contexts::sync_start_context(view_of(st)));
      st.stage = "registering device";
      st.registrar = self->spawn(device_registrar, st.plan, st.database, st.listener);
      self->request(st.registrar, caf::infinite, msg::run_atom::value)
        .then(
          [self](device_identity& identity) {
            auto& st = self->state;
            st.registrar = nullptr;
            if (identity.error) {
              fail_registration(self, std::move(*identity.error));
              return;
            }
            st.device_id = std::move(identity.device_id);
            st.instance_id = std::move(identity.instance_id);
            if (identity.session)
              st.session = std::move(identity.session);
            run_next_scope(self);
          },
          [self](caf::error& err) {
            fail_registration(self, sync_error{static_cast<int>(error_code::register_device),
                                               "Register device failed.",
                                               {{"reason", self->system().render(err)}}});
          });
      return st.promise;
    },
    [self](msg::status_atom) {
      const auto& st = self->state;
      nlohmann::json own{
        {"name", session_coordinator_state::name},
        {"state", st.stage},
        {"session", st.plan->session_number},
        {"currentScope", st.current_scope},
        {"stopping", st.plan->stopping()},
        {"counters",
         {{"scopesDone", st.scopes_done},
          {"scopesFailed", st.failed_scopes.size()},
          {"scopes", st.plan->sync->scopes.size()}}},
      };
      return status_with_children(self, std::move(own),
                                  {{caf::actor_cast<caf::actor>(st.running_scope), "scope"},
                                   {caf::actor_cast<caf::actor>(st.registrar), "device_registrar"}});
    },
  };
}

} // namespace mxsync
