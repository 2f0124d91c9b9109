#include "actors/scope.hpp"

#include "actors/database_call.hpp"
#include "actors/downloader.hpp"
#include "actors/status_tree.hpp"
#include "actors/uploader.hpp"
#include "actors/app_callback.hpp"
#include "api/session_contexts.hpp"
#include "persistence/download_batch.hpp"
#include "persistence/sync_state.hpp"

namespace mxsync {

namespace {

using self_pointer = scope_actor::stateful_pointer<scope_state>;

/// The server of the scope's last answer: the download's, else the upload's.
std::optional<transport::server_details> last_server(const scope_state& st) {
  return st.downloaded.server ? st.downloaded.server : st.uploaded.server;
}

contexts::scope_view view_of(const scope_state& st, std::string last_sync = {},
                             std::int64_t upload_sequence = 0) {
  return {st.job.scope,
          transport::endpoint_url(st.plan->endpoint, transport::endpoint::upload),
          transport::endpoint_url(st.plan->endpoint, transport::endpoint::download),
          std::move(last_sync), upload_sequence, last_server(st)};
}

void deliver(self_pointer self) {
  auto& st = self->state;
  st.stage = "done";
  st.outcome.server = last_server(st);
  st.promise.deliver(std::move(st.outcome));
  self->quit();
}

void fail(self_pointer self, const sync_error& error) {
  auto& st = self->state;
  auto scoped = contexts::scope_error(st.job.scope, error);
  notify(self, "onscopeerror", st.plan->config.onscopeerror, scoped);
  st.outcome.error = std::move(scoped);
  deliver(self);
}

void succeed(self_pointer self) {
  auto& st = self->state;
  auto& onscopesuccess = st.plan->config.onscopesuccess;
  if (!onscopesuccess) {
    deliver(self);
    return;
  }
  // onscopesuccess carries where the scope ended: the final download blob, or the
  // upload state when the download was skipped (docs/callbacks.md 2.2).
  st.stage = "reading final position";
  bool downloaded = scope_downloads(st.plan->config, st.job.scope);
  auto filters = nlohmann::json{};
  if (auto it = st.plan->config.filterparams.find(st.job.scope);
      it != st.plan->config.filterparams.end())
    filters = it->second;
  auto filter = downloaded ? syncdb::filter_value_text(filters) : std::string{"no filter"};
  using position_t = syncdb::scope_position;
  auto announce = [self, downloaded](const position_t* position) {
    auto& st = self->state;
    auto view = view_of(st);
    std::string blob;
    if (position) {
      blob = downloaded ? position->download_blob : position->upload_blob;
      view.upload_sequence = position->upload_sequence;
    }
    view.last_sync_timestamp = std::move(blob);
    auto context = downloaded ? contexts::scope_success_context(view)
                              : contexts::scope_upload_only_context(view);
    notify(self, "onscopesuccess", st.plan->config.onscopesuccess, std::move(context));
    deliver(self);
  };
  database_call<position_t>(
    self, st.database, "final position " + st.job.scope,
    [scope = st.job.scope, filter](msg::db_context& ctx) {
      return syncdb::read_scope_position(ctx.connection, ctx.config, scope, filter);
    },
    [announce](position_t& position) { announce(&position); },
    [announce](sync_error&) { announce(nullptr); });
}

/// removeafterupload: the acknowledged rows of the listed objects go, locally only.
void remove_after_upload(self_pointer self) {
  auto& st = self->state;
  auto it = st.plan->config.removeafterupload.find(st.job.scope);
  if (it == st.plan->config.removeafterupload.end()) {
    succeed(self);
    return;
  }
  std::vector<syncdb::acknowledged_row> acknowledged = st.uploaded.acks.acknowledged;
  const auto& from_download = st.downloaded.totals.acknowledged;
  acknowledged.insert(acknowledged.end(), from_download.begin(), from_download.end());
  if (acknowledged.empty()) {
    succeed(self);
    return;
  }
  st.stage = "removing uploaded rows";
  using removed_t = std::vector<std::pair<std::string, std::int64_t>>;
  database_call<removed_t>(
    self, st.database, "removeafterupload " + st.job.scope,
    [scope = st.job.scope, objects = it->second,
     acknowledged = std::move(acknowledged)](msg::db_context& ctx) {
      return syncdb::remove_after_upload(ctx.connection, ctx.config, scope, objects, acknowledged);
    },
    [self](removed_t&) { succeed(self); },
    [self](sync_error& error) { fail(self, error); });
}

void run_download(self_pointer self) {
  auto& st = self->state;
  if (st.plan->stopping()) {
    st.outcome.stopped = true;
    deliver(self);
    return;
  }
  if (!scope_downloads(st.plan->config, st.job.scope)) {
    remove_after_upload(self);
    return;
  }
  st.stage = "downloading";
  auto job = st.job;
  job.session = st.uploaded.session ? st.uploaded.session : st.job.session;
  st.downloader = self->spawn(downloader, st.plan, job, st.database, st.listener);
  self->request(st.downloader, caf::infinite, msg::run_atom::value)
    .then(
      [self](download_outcome& outcome) {
        auto& st = self->state;
        st.downloader = nullptr;
        st.outcome.session = outcome.session;
        st.downloaded = std::move(outcome);
        if (st.downloaded.error) {
          fail(self, *st.downloaded.error);
          return;
        }
        if (st.downloaded.stopped) {
          st.outcome.stopped = true;
          deliver(self);
          return;
        }
        remove_after_upload(self);
      },
      [self](caf::error& err) {
        fail(self, sync_error{static_cast<int>(error_code::download_failed),
                              "Error occurred in Downloading changes from Sever",
                              {{"reason", self->system().render(err)}}});
      });
}

void run_upload(self_pointer self) {
  auto& st = self->state;
  if (!scope_uploads(st.plan->config, st.job.scope)) {
    run_download(self);
    return;
  }
  st.stage = "uploading";
  st.uploader = self->spawn(uploader, st.plan, st.job, st.database, st.listener);
  self->request(st.uploader, caf::infinite, msg::run_atom::value)
    .then(
      [self](upload_outcome& outcome) {
        auto& st = self->state;
        st.uploader = nullptr;
        st.outcome.session = outcome.session;
        st.uploaded = std::move(outcome);
        if (st.uploaded.error) { // the scope's download is skipped (docs/protocol.md 2.1)
          fail(self, *st.uploaded.error);
          return;
        }
        if (st.uploaded.stopped) {
          st.outcome.stopped = true;
          deliver(self);
          return;
        }
        run_download(self);
      },
      [self](caf::error& err) {
        fail(self, sync_error{static_cast<int>(error_code::upload_failed),
                              "Error occurred in Uploading changes to Server",
                              {{"reason", self->system().render(err)}}});
      });
}

} // namespace

scope_actor::behavior_type scope(self_pointer self, session_plan_ptr plan, scope_job job,
                                 database_actor database, listener_actor listener) {
  auto& st = self->state;
  st.plan = std::move(plan);
  st.job = std::move(job);
  st.database = std::move(database);
  st.listener = std::move(listener);
  st.outcome.scope = st.job.scope;
  st.outcome.session = st.job.session;
  return {
    [self](msg::run_atom) -> caf::typed_response_promise<scope_outcome> {
      auto& st = self->state;
      st.promise = self->make_response_promise<scope_outcome>();
      st.stage = "starting";
      using position_t = syncdb::scope_position;
      // onscopestart carries the scope's position: read it first.
      database_call<position_t>(
        self, st.database, "scope position " + st.job.scope,
        [scope = st.job.scope](msg::db_context& ctx) {
          return syncdb::read_scope_position(ctx.connection, ctx.config, scope);
        },
        [self](position_t& position) {
          auto& st = self->state;
          if (st.plan->config.onscopestart) {
            // Where the scope stands before it starts, in the terms of onscopesuccess:
            // the download blob (the upload blob for an upload-only scope) and the
            // upload sequence number.
            bool downloads = scope_downloads(st.plan->config, st.job.scope);
            auto view = view_of(st, downloads ? position.download_blob : position.upload_blob,
                                position.upload_sequence);
            notify(self, "onscopestart", st.plan->config.onscopestart,
                   contexts::scope_start_context(view));
          }
          run_upload(self);
        },
        [self](sync_error& error) { fail(self, error); });
      return st.promise;
    },
    [self](msg::status_atom) {
      const auto& st = self->state;
      nlohmann::json own{{"name", scope_state::name}, {"state", st.stage}, {"scope", st.job.scope},
                         {"counters",
                          {{"uploadBatches", st.uploaded.batches},
                           {"downloadBatches", st.downloaded.batches}}}};
      return status_with_children(self, std::move(own),
                                  {{caf::actor_cast<caf::actor>(st.uploader), "uploader"},
                                   {caf::actor_cast<caf::actor>(st.downloader), "downloader"}});
    },
  };
}

} // namespace mxsync
