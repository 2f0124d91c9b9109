#include "actors/uploader.hpp"

#include "actors/app_callback.hpp"
#include "actors/database_call.hpp"
#include "actors/http_exchange.hpp"
#include "actors/status_tree.hpp"
#include "api/session_contexts.hpp"
#include "persistence/sync_state.hpp"

#include <algorithm>

namespace mxsync {

namespace {

using self_pointer = uploader_actor::stateful_pointer<uploader_state>;

/// What the uploader reads before each batch.
struct next_upload {
  std::optional<syncdb::cached_upload_request> cached;
  std::shared_ptr<const syncdb::upload_window> window;
  syncdb::scope_position position;
};

contexts::scope_view view_of(const uploader_state& st) {
  return {st.scope->name,
          transport::endpoint_url(st.plan->endpoint, transport::endpoint::upload),
          transport::endpoint_url(st.plan->endpoint, transport::endpoint::download),
          st.upload_blob, // upload callbacks carry the upload blob (docs/callbacks.md 2.1)
          st.upload_sequence,
          st.server};
}

/// uploadcontext: cumulative over the scope's batches.
nlohmann::json cumulative_context(const uploader_state& st) {
  std::vector<std::string> objects;
  for (const auto& table : st.scope->tables)
    objects.push_back(table.name);
  return contexts::upload_context(st.outcome.totals, st.outcome.per_object, st.outcome.acks,
                                  st.scope->strategy == sync_strategy::ota_sync, objects);
}

void finish(self_pointer self) {
  auto& st = self->state;
  st.stage = "done";
  st.outcome.server = st.server;
  if (st.outcome.batches > 0 && !st.outcome.error)
    notify(self, "onuploadsuccess", st.plan->config.onuploadsuccess,
           contexts::upload_success_context(view_of(st), cumulative_context(st)));
  st.promise.deliver(std::move(st.outcome));
  self->quit();
}

void fail(self_pointer self, sync_error error) {
  self->state.outcome.error = std::move(error);
  finish(self);
}

void load_next(self_pointer self);

/// Adds a batch's counts to the session totals.
void count_batch(uploader_state& st, const syncdb::change_counts& totals,
                 const std::vector<std::pair<std::string, syncdb::change_counts>>& per_object) {
  st.outcome.totals.inserted += totals.inserted;
  st.outcome.totals.updated += totals.updated;
  st.outcome.totals.deleted += totals.deleted;
  for (const auto& [name, counts] : per_object) {
    auto it = std::find_if(st.outcome.per_object.begin(), st.outcome.per_object.end(),
                           [&](const auto& entry) { return entry.first == name; });
    if (it == st.outcome.per_object.end()) {
      st.outcome.per_object.emplace_back(name, counts);
    } else {
      it->second.inserted += counts.inserted;
      it->second.updated += counts.updated;
      it->second.deleted += counts.deleted;
    }
  }
}

void on_accepted(self_pointer self, transport::upload_answer answer) {
  auto& st = self->state;
  st.stage = "recording accepted batch";
  st.outcome.session = answer.session ? answer.session : st.outcome.session;
  st.job.session = st.outcome.session; // the next batch echoes it (docs/protocol.md 1.2)
  st.server = answer.server;
  auto limit = st.window ? st.window->last_sequence : st.resend->upload_limit;
  auto scope = st.scope->name;
  bool ota = st.scope->strategy == sync_strategy::ota_sync;
  auto policy = ack_policy_for(st.plan->config, scope);
  auto shared_answer = std::make_shared<transport::upload_answer>(std::move(answer));
  database_call<syncdb::batch_result>(
    self, st.database, "commit uploaded batch " + scope,
    [scope, limit, ota, policy, shared_answer](msg::db_context& ctx) {
      if (ota)
        return syncdb::commit_ota_upload(ctx.connection, ctx.config, scope, limit,
                                         shared_answer->server_blob, shared_answer->ack_rows,
                                         policy);
      syncdb::commit_uploaded_batch(ctx.connection, ctx.config, scope, limit,
                                    shared_answer->server_blob);
      return syncdb::batch_result{};
    },
    [self, limit](syncdb::batch_result& acks) {
      auto& st = self->state;
      ++st.outcome.batches;
      syncdb::change_counts batch_totals;
      std::vector<std::pair<std::string, syncdb::change_counts>> batch_objects;
      if (st.window) {
        batch_totals = st.window->totals;
        batch_objects = st.window->per_object;
      } else {
        batch_totals = st.resend->batch_counts;
      }
      count_batch(st, batch_totals, batch_objects);
      st.outcome.acks.merge(acks);
      st.uploaded_through = std::max(st.uploaded_through, limit);
      ++st.upload_sequence; // the scope's versionnumber moved on with the accepted batch
      notify(self, "onuploadbatchsuccess", st.plan->config.onuploadbatchsuccess,
             contexts::upload_batch_success_context(
               cumulative_context(st), contexts::upload_batch_counts(batch_totals, st.server)));
      bool more = st.window ? st.window->more_pending : true;
      if (st.plan->stopping()) {
        st.outcome.stopped = more;
        finish(self);
        return;
      }
      load_next(self);
    },
    [self](sync_error& error) { fail(self, std::move(error)); });
}

void on_answer(self_pointer self, exchange_result& result) {
  auto& st = self->state;
  st.exchange = nullptr;
  if (auto error = transport::transport_error(result.response)) {
    // The request may have reached the server: the cached request stays, so the
    // next session re-sends it unchanged and the server applies it once.
    fail(self, error->to_sync_error());
    return;
  }
  auto answer = transport::parse_upload_answer(result.response.body);
  if (!answer) {
    auto error = answer.error().to_sync_error();
    if (error.code == transport::codes::invalid_json) {
      fail(self, std::move(error));
      return;
    }
    // The server refused the request: it is not re-sent (docs/protocol.md 1.4).
    auto scope = st.scope->name;
    database_call<bool>(
      self, st.database, "clear cached upload " + scope,
      [scope](msg::db_context& ctx) {
        syncdb::clear_cached_request(ctx.connection, ctx.config, scope);
        return true;
      },
      [self, error](bool&) mutable { fail(self, std::move(error)); },
      [self, error](sync_error&) mutable { fail(self, std::move(error)); });
    return;
  }
  on_accepted(self, std::move(answer).value());
}

void send(self_pointer self, transport::wire_request request) {
  auto& st = self->state;
  st.stage = "uploading batch " + std::to_string(st.batch_number);
  st.exchange = self->spawn(http_exchange, st.plan, st.listener, std::move(request),
                            std::string{"upload"},
                            nlohmann::json{{"currentScope", st.scope->name}, {"request", "upload"}});
  self->request(st.exchange, caf::infinite, msg::run_atom::value)
    .then([self](exchange_result& result) { on_answer(self, result); },
          [self](caf::error& err) {
            fail(self, sync_error{transport::codes::upload_failed,
                                  "Error occurred in Uploading changes to Server",
                                  {{"reason", self->system().render(err)}}});
          });
}

/// Caches the exact request before sending it (crash safety), then sends it.
void cache_and_send(self_pointer self, transport::wire_request request) {
  auto& st = self->state;
  if (!st.window) { // a re-send of the cached request: it is cached already
    send(self, std::move(request));
    return;
  }
  const std::string* upload_text = request.param("UploadRequest");
  syncdb::cached_upload_request cached;
  cached.upload_request = upload_text ? *upload_text : std::string{};
  cached.batch_counts = st.window->totals;
  cached.session_counts = st.outcome.totals;
  cached.upload_limit = st.window->last_sequence;
  auto scope = st.scope->name;
  st.stage = "caching request";
  database_call<bool>(
    self, st.database, "cache upload request " + scope,
    [scope, cached](msg::db_context& ctx) {
      syncdb::put_cached_request(ctx.connection, ctx.config, scope, cached);
      return true;
    },
    [self, request = std::move(request)](bool&) mutable { send(self, std::move(request)); },
    [self](sync_error& error) { fail(self, std::move(error)); });
}

transport::wire_request build_request(const uploader_state& st) {
  transport::upload_request request;
  request.scope = scope_settings_for(*st.plan, *st.scope, st.job);
  request.scope_database_name = st.scope->database_name;
  request.server_blob = st.upload_blob;
  request.sequence_number = st.upload_sequence;
  if (st.window) {
    request.more_changes_available = st.window->more_pending;
    request.rows = st.window->rows;
  }
  auto wire = transport::build_upload(request_context_for(*st.plan, st.job), request);
  if (st.resend) // the cached UploadRequest goes out byte for byte
    contexts::apply_overrides(wire, nlohmann::json{{"UploadRequest", st.resend->upload_request}});
  return wire;
}

/// Runs the start callbacks (their answers replace request parameters), then sends.
void start_batch(self_pointer self) {
  auto& st = self->state;
  ++st.batch_number;
  auto request = build_request(st);
  auto after_batch_start = [self](transport::wire_request request, nlohmann::json returned) {
    contexts::apply_overrides(request, self->state.scope_overrides);
    contexts::apply_overrides(request, returned);
    cache_and_send(self, std::move(request));
  };
  auto ask_batch_start = [self, after_batch_start](transport::wire_request request) {
    auto& st = self->state;
    auto callback = st.plan->config.onuploadbatchstart;
    if (!callback) {
      after_batch_start(std::move(request), nullptr);
      return;
    }
    auto context = contexts::upload_start_context(view_of(st), request);
    st.stage = "waiting for onuploadbatchstart";
    self->request(st.listener, caf::infinite, msg::invoke_atom::value,
                  msg::callback_call{"onuploadbatchstart", [callback, context] {
                                       return callback(context);
                                     }})
      .then([after_batch_start, request](nlohmann::json& returned) mutable {
        after_batch_start(std::move(request), std::move(returned));
      });
  };
  auto callback = st.plan->config.onuploadstart;
  if (st.batch_number > 1 || !callback) {
    ask_batch_start(std::move(request));
    return;
  }
  auto context = contexts::upload_start_context(view_of(st), request);
  st.stage = "waiting for onuploadstart";
  self->request(st.listener, caf::infinite, msg::invoke_atom::value,
                msg::callback_call{"onuploadstart", [callback, context] { return callback(context); }})
    .then([self, ask_batch_start, request](nlohmann::json& returned) mutable {
      self->state.scope_overrides = std::move(returned);
      ask_batch_start(std::move(request));
    });
}

void load_next(self_pointer self) {
  auto& st = self->state;
  st.stage = "reading pending changes";
  auto scope = st.scope->name;
  auto batch_size = static_cast<std::size_t>(st.plan->config.uploadbatchsize);
  database_call<next_upload>(
    self, st.database, "next upload batch " + scope,
    [scope, batch_size, after = st.uploaded_through](msg::db_context& ctx) {
      next_upload next;
      next.position = syncdb::read_scope_position(ctx.connection, ctx.config, scope);
      next.cached = syncdb::get_cached_request(ctx.connection, ctx.config, scope);
      if (!next.cached)
        next.window = std::make_shared<const syncdb::upload_window>(
          syncdb::next_batch(ctx.connection, ctx.config, scope, batch_size, after));
      return next;
    },
    [self](next_upload& next) {
      auto& st = self->state;
      st.upload_sequence = next.position.upload_sequence;
      st.upload_blob = next.position.upload_blob;
      st.download_blob = next.position.download_blob;
      st.resend = std::move(next.cached);
      st.window = std::move(next.window);
      if (!st.resend && st.window->empty()) {
        finish(self);
        return;
      }
      start_batch(self);
    },
    [self](sync_error& error) { fail(self, std::move(error)); });
}

} // namespace

uploader_actor::behavior_type uploader(self_pointer self, session_plan_ptr plan, scope_job job,
                                       database_actor database, listener_actor listener) {
  auto& st = self->state;
  st.plan = std::move(plan);
  st.job = std::move(job);
  st.scope = st.plan->sync->find_scope(st.job.scope);
  st.database = std::move(database);
  st.listener = std::move(listener);
  st.outcome.session = st.job.session;
  return {
    [self](msg::run_atom) -> caf::typed_response_promise<upload_outcome> {
      auto& st = self->state;
      st.promise = self->make_response_promise<upload_outcome>();
      if (!st.scope)
        fail(self, sync_error{static_cast<int>(error_code::scope_does_not_exist),
                              "Scope:" + st.job.scope + " Doesnot exists ", nullptr});
      else
        load_next(self);
      return st.promise;
    },
    [self](msg::status_atom) {
      const auto& st = self->state;
      nlohmann::json own{
        {"name", uploader_state::name},
        {"state", st.stage},
        {"scope", st.job.scope},
        {"counters",
         {{"batches", st.outcome.batches},
          {"rowsuploaded", st.outcome.totals.total()},
          {"currentBatch", st.batch_number}}},
      };
      return status_with_children(self, std::move(own),
                                  {{caf::actor_cast<caf::actor>(st.exchange), "http_exchange"}});
    },
  };
}

} // namespace mxsync
