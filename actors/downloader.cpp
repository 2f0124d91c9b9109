#include "actors/downloader.hpp"

#include "actors/batch_processor.hpp"
#include "actors/app_callback.hpp"
#include "actors/database_call.hpp"
#include "actors/http_exchange.hpp"
#include "actors/status_tree.hpp"
#include "api/session_contexts.hpp"
#include "persistence/chunk_store.hpp"
#include "persistence/sync_state.hpp"

namespace mxsync {

namespace {

using self_pointer = downloader_actor::stateful_pointer<downloader_state>;

/// Where the scope stands before the download starts.
struct start_point {
  syncdb::scope_position position;
  bool initialized = false;
  std::optional<std::string> payload_to_acknowledge;
  std::optional<syncdb::chunk_payload> unfinished_payload;
};

contexts::scope_view view_of(const downloader_state& st) {
  return {st.scope->name,
          transport::endpoint_url(st.plan->endpoint, transport::endpoint::upload),
          transport::endpoint_url(st.plan->endpoint, transport::endpoint::download),
          st.download_blob,
          st.upload_sequence,
          st.server};
}

void finish(self_pointer self) {
  auto& st = self->state;
  st.stage = "done";
  if (st.prefetch) { // a batch asked for ahead is never applied after a stop or failure
    self->send_exit(st.prefetch->exchange, caf::exit_reason::user_shutdown);
    st.prefetch.reset();
  }
  st.outcome.server = st.server;
  if (!st.outcome.error && !st.outcome.stopped)
    notify(self, "ondownloadsuccess", st.plan->config.ondownloadsuccess,
           contexts::download_success_context(view_of(st)));
  if (st.processor)
    self->send_exit(st.processor, caf::exit_reason::user_shutdown);
  st.promise.deliver(std::move(st.outcome));
  self->quit();
}

void fail(self_pointer self, sync_error error) {
  self->state.outcome.error = std::move(error);
  finish(self);
}

sync_error chunk_failure(const sync_error& cause) {
  return {static_cast<int>(error_code::chunking),
          "Error occurred while downloading one or more chunks.", cause.to_json()};
}

void request_batch(self_pointer self);
void on_answer(self_pointer self, exchange_result& result);
void prefetch_next(self_pointer self, const transport::download_answer& answer);

/// Sends one built request through an exchange actor; `then` gets the final result.
template <class Then>
void exchange(self_pointer self, transport::wire_request request, std::string label, Then then) {
  auto& st = self->state;
  st.exchange = self->spawn(http_exchange, st.plan, st.listener, std::move(request), label,
                            nlohmann::json{{"currentScope", st.scope->name}, {"request", label}});
  self->request(st.exchange, caf::infinite, msg::run_atom::value)
    .then(
      [self, then](exchange_result& result) mutable {
        self->state.exchange = nullptr;
        then(result);
      },
      [self](caf::error& err) {
        fail(self, sync_error{transport::codes::download_failed,
                              "Error occurred in Downloading changes from Sever",
                              {{"reason", self->system().render(err)}}});
      });
}

/// After a batch is stored: callbacks, then the next batch or the end.
void on_applied(self_pointer self, std::shared_ptr<const transport::download_answer> answer,
                syncdb::batch_result& result) {
  auto& st = self->state;
  ++st.outcome.batches;
  st.download_blob = answer->server_blob;
  auto counts = contexts::batch_counts(result, answer->pending_batches,
                                       st.scope->strategy == sync_strategy::ota_sync);
  auto context = contexts::batch_context(view_of(st), std::move(counts), st.batch_number);
  notify(self, "onbatchstored", st.plan->config.onbatchstored, context);
  notify(self, "onbatchprocessingsuccess", st.plan->config.onbatchprocessingsuccess,
         std::move(context));
  st.outcome.totals.merge(result);
  if (answer->error_after_rows) { // d.error "true" with rows: rows first, then the error
    fail(self, answer->error_after_rows->to_sync_error());
    return;
  }
  if (!answer->more_changes_available) {
    finish(self);
    return;
  }
  if (st.plan->stopping()) {
    st.outcome.stopped = true;
    finish(self);
    return;
  }
  if (st.prefetch) { // the next batch is on its way (or here) already
    ++st.batch_number;
    notify(self, "onbatchprocessingstart", st.plan->config.onbatchprocessingstart,
           std::move(st.prefetch->start_context));
    st.stage = "downloading batch " + std::to_string(st.batch_number);
    if (st.prefetch->result) {
      auto result = std::move(*st.prefetch->result);
      st.prefetch.reset();
      on_answer(self, result);
    } else {
      st.prefetch->awaited = true;
    }
    return;
  }
  request_batch(self);
}

void apply(self_pointer self, std::shared_ptr<const transport::download_answer> answer,
           std::optional<std::string> finished_payload) {
  auto& st = self->state;
  st.stage = "storing batch " + std::to_string(st.batch_number);
  st.server = answer->server ? answer->server : st.server;
  if (answer->session)
    st.outcome.session = answer->session;
  batch_to_apply batch{st.scope->name, st.filter_value, ack_policy_for(st.plan->config, st.scope->name),
                       answer, finished_payload};
  self->request(st.processor, caf::infinite, msg::apply_atom::value, std::move(batch))
    .then(
      [self, answer, finished_payload](batch_applied& applied) {
        if (applied.error) {
          fail(self, std::move(*applied.error));
          return;
        }
        // The next download request acknowledges the payload (docs/protocol.md 1.6).
        if (finished_payload)
          self->state.payload_to_acknowledge = finished_payload;
        on_applied(self, answer, applied.result);
      },
      [self](caf::error& err) {
        fail(self, sync_error{transport::codes::download_failed,
                              "Error occurred in Downloading changes from Sever",
                              {{"reason", self->system().render(err)}}});
      });
}

void refill_chunks(self_pointer self);

/// Every chunk is stored: assemble them in order, check the checksum, apply.
void assemble_chunks(self_pointer self, syncdb::chunk_payload payload) {
  auto& st = self->state;
  st.stage = "assembling chunks";
  auto scope = st.scope->name;
  using chunks_t = std::map<std::uint32_t, std::string>;
  database_call<chunks_t>(
    self, st.database, "load chunks " + scope,
    [scope, id = payload.payload_id](msg::db_context& ctx) {
      return syncdb::load_chunks(ctx.connection, scope, id);
    },
    [self, payload](chunks_t& chunks) {
      auto& st = self->state;
      auto answer = transport::assemble_chunks(chunks, payload.chunk_count, payload.checksum);
      if (!answer) {
        auto error = answer.error().to_sync_error();
        if (st.plan->config.onchunkerror)
          notify(self, "onchunkerror", st.plan->config.onchunkerror,
                 contexts::chunk_error(contexts::chunk_progress_context(
                                         st.scope->name, payload.payload_id, payload.chunk_count,
                                         payload.chunk_count, st.chunks_downloaded, st.server),
                                       error));
        // A payload that does not verify can never complete: drop it, so the next
        // download asks for the batch again instead of reassembling the same chunks.
        auto scope = st.scope->name;
        database_call<bool>(
          self, st.database, "discard payload " + scope,
          [scope, id = payload.payload_id](msg::db_context& ctx) {
            syncdb::clear_payload(ctx.connection, scope, id);
            return true;
          },
          [self, error](bool&) { fail(self, chunk_failure(error)); },
          [self, error](sync_error&) { fail(self, chunk_failure(error)); });
        return;
      }
      apply(self, std::make_shared<const transport::download_answer>(std::move(answer).value()),
            payload.payload_id);
    },
    [self](sync_error& error) { fail(self, chunk_failure(error)); });
}

/// All chunk requests have settled after a failure.
void end_failed_fetch(self_pointer self) {
  auto& st = self->state;
  auto fetch = std::move(*st.chunks);
  st.chunks.reset();
  if (!fetch.payload_unknown) { // the stored chunks stay: the next session fetches the rest
    fail(self, chunk_failure(*fetch.failure));
    return;
  }
  // The server forgot the payload (expired or restarted): its chunks can never
  // complete. Drop them and ask for the batch again from the same cursor, once.
  auto scope = st.scope->name;
  database_call<bool>(
    self, st.database, "discard payload " + scope,
    [scope, id = fetch.payload.payload_id](msg::db_context& ctx) {
      syncdb::clear_payload(ctx.connection, scope, id);
      return true;
    },
    [self, error = *fetch.failure](bool&) {
      auto& st = self->state;
      if (st.payload_restarts > 0 || st.plan->stopping()) {
        fail(self, chunk_failure(error));
        return;
      }
      ++st.payload_restarts;
      --st.batch_number; // the same batch, asked again
      request_batch(self);
    },
    [self, error = *fetch.failure](sync_error&) { fail(self, chunk_failure(error)); });
}

/// A chunk failed: tell the app, and start no further chunk of this payload.
void chunk_failed(self_pointer self, std::uint32_t number, sync_error error,
                  bool payload_unknown) {
  auto& st = self->state;
  auto& fetch = *st.chunks;
  if (st.plan->config.onchunkerror)
    notify(self, "onchunkerror", st.plan->config.onchunkerror,
           contexts::chunk_error(contexts::chunk_progress_context(
                                   st.scope->name, fetch.payload.payload_id, fetch.payload.chunk_count,
                                   number, st.chunks_downloaded, st.server),
                                 error));
  if (!fetch.failure)
    fetch.failure = std::move(error);
  fetch.payload_unknown = fetch.payload_unknown || payload_unknown;
  fetch.queue.clear();
}

/// One chunk's answer: store it (or record the failure), then keep the pipe full.
void on_chunk_answer(self_pointer self, std::uint32_t number, exchange_result& result) {
  auto& st = self->state;
  auto& fetch = *st.chunks;
  fetch.requests.erase(number);
  if (auto failure = transport::transport_error(result.response)) {
    chunk_failed(self, number, failure->to_sync_error(), false);
    refill_chunks(self);
    return;
  }
  auto chunk = transport::parse_download_chunk_answer(result.response.body);
  if (!chunk) {
    auto unknown = chunk.error().server_errcode() == std::optional<std::string>{"SY3008E"};
    chunk_failed(self, number, chunk.error().to_sync_error(), unknown);
    refill_chunks(self);
    return;
  }
  ++fetch.storing;
  auto scope = st.scope->name;
  database_call<bool>(
    self, st.database, "store chunk " + scope,
    [scope, id = fetch.payload.payload_id, number, data = std::move(chunk).value()](msg::db_context& ctx) {
      syncdb::store_chunk(ctx.connection, scope, id, number, data);
      return true;
    },
    [self, number](bool&) {
      auto& st = self->state;
      auto& fetch = *st.chunks;
      --fetch.storing;
      ++st.chunks_downloaded;
      notify(self, "onchunksuccess", st.plan->config.onchunksuccess,
             contexts::chunk_progress_context(st.scope->name, fetch.payload.payload_id,
                                              fetch.payload.chunk_count, number,
                                              st.chunks_downloaded, st.server));
      refill_chunks(self);
    },
    [self, number](sync_error& error) {
      --self->state.chunks->storing;
      chunk_failed(self, number, std::move(error), false);
      refill_chunks(self);
    });
}

void request_chunk(self_pointer self, std::uint32_t number) {
  auto& st = self->state;
  auto& fetch = *st.chunks;
  const auto& payload = fetch.payload;
  auto request = transport::build_download_chunk(request_context_for(*st.plan, st.job),
                                                 st.last_request, payload.payload_id,
                                                 payload.chunk_count, number);
  notify(self, "onchunkstart", st.plan->config.onchunkstart,
         contexts::chunk_start_context(st.scope->name, payload.payload_id, payload.chunk_count,
                                       number, request));
  auto exchange = self->spawn(http_exchange, st.plan, st.listener, std::move(request),
                              "downloadchunk " + std::to_string(number),
                              nlohmann::json{{"currentScope", st.scope->name},
                                             {"request", "downloadchunk"}});
  fetch.requests.emplace(number, exchange);
  self->request(exchange, caf::infinite, msg::run_atom::value)
    .then([self, number](exchange_result& result) { on_chunk_answer(self, number, result); },
          [self, number](caf::error& err) {
            self->state.chunks->requests.erase(number);
            chunk_failed(self, number,
                         sync_error{transport::codes::download_failed,
                                    "Error occurred in Downloading changes from Sever",
                                    {{"reason", self->system().render(err)}}},
                         false);
            refill_chunks(self);
          });
}

/// Keeps up to maxparallelchunks chunk requests on the network; when nothing is left
/// in flight, the payload is complete, failed, or stopped.
void refill_chunks(self_pointer self) {
  auto& st = self->state;
  auto& fetch = *st.chunks;
  auto limit = static_cast<std::size_t>(std::max<std::int64_t>(1, st.plan->config.maxparallelchunks));
  // A stop lets the chunks on the network land; the rest wait for the next session.
  while (!fetch.failure && !st.plan->stopping() && !fetch.queue.empty()
         && fetch.requests.size() < limit) {
    auto number = fetch.queue.front();
    fetch.queue.pop_front();
    request_chunk(self, number);
  }
  st.stage = "downloading chunks: " + std::to_string(st.chunks_downloaded) + " of "
             + std::to_string(fetch.payload.chunk_count) + " stored, "
             + std::to_string(fetch.requests.size()) + " on the network";
  if (!fetch.idle())
    return;
  if (fetch.failure) {
    end_failed_fetch(self);
    return;
  }
  auto payload = fetch.payload;
  if (!fetch.queue.empty()) { // stopping
    st.chunks.reset();
    st.outcome.stopped = true;
    finish(self);
    return;
  }
  st.chunks.reset();
  assemble_chunks(self, std::move(payload));
}

/// Fetches the chunks of `payload` that are not stored yet, then assembles and applies.
void fetch_chunks(self_pointer self, syncdb::chunk_payload payload) {
  auto& st = self->state;
  auto scope = st.scope->name;
  database_call<std::vector<std::uint32_t>>(
    self, st.database, "missing chunks " + scope,
    [scope, id = payload.payload_id](msg::db_context& ctx) {
      return syncdb::missing_chunks(ctx.connection, scope, id);
    },
    [self, payload](std::vector<std::uint32_t>& missing) {
      auto& st = self->state;
      st.chunks_downloaded = payload.chunk_count - static_cast<std::uint32_t>(missing.size());
      chunk_fetch fetch;
      fetch.payload = payload;
      fetch.queue.assign(missing.begin(), missing.end());
      st.chunks = std::move(fetch);
      refill_chunks(self);
    },
    [self](sync_error& error) { fail(self, chunk_failure(error)); });
}

/// The first answer of a chunked batch: record the payload and its first chunk.
void begin_chunks(self_pointer self, transport::chunk_info chunking) {
  auto& st = self->state;
  auto scope = st.scope->name;
  syncdb::chunk_payload payload{chunking.payload_id, chunking.chunk_count, chunking.checksum, false};
  database_call<bool>(
    self, st.database, "begin chunked payload " + scope,
    [scope, chunking](msg::db_context& ctx) {
      syncdb::begin_payload(ctx.connection, scope, chunking.payload_id, chunking.chunk_count,
                            chunking.checksum);
      syncdb::store_chunk(ctx.connection, scope, chunking.payload_id, 1, chunking.first_chunk);
      return true;
    },
    [self, payload](bool&) {
      auto& st = self->state;
      notify(self, "onchunksuccess", st.plan->config.onchunksuccess,
             contexts::chunk_progress_context(st.scope->name, payload.payload_id,
                                              payload.chunk_count, 1, 1, st.server));
      fetch_chunks(self, payload);
    },
    [self](sync_error& error) { fail(self, chunk_failure(error)); });
}

void on_answer(self_pointer self, exchange_result& result) {
  auto& st = self->state;
  if (auto error = transport::transport_error(result.response)) {
    fail(self, error->to_sync_error());
    return;
  }
  auto answer = transport::parse_download_answer(result.response.body);
  if (!answer) {
    fail(self, answer.error().to_sync_error());
    return;
  }
  // The server took the acknowledgement of the previous chunked payload.
  if (st.payload_to_acknowledge) {
    auto scope = st.scope->name;
    auto id = *st.payload_to_acknowledge;
    st.payload_to_acknowledge.reset();
    database_call<bool>(
      self, st.database, "clear acknowledged payload " + scope,
      [scope, id](msg::db_context& ctx) {
        syncdb::clear_payload(ctx.connection, scope, id);
        return true;
      },
      [](bool&) {}, [](sync_error&) {}); // a leftover row is acknowledged again next time
  }
  if (answer->session) // the next request echoes it (docs/protocol.md 1.2)
    st.job.session = answer->session;
  if (answer->chunking) {
    begin_chunks(self, *answer->chunking);
    return;
  }
  prefetch_next(self, answer.value());
  apply(self, std::make_shared<const transport::download_answer>(std::move(answer).value()),
        std::nullopt);
}

/// onbatchprocessingstart fires before each request (docs/callbacks.md).
void send_batch(self_pointer self, transport::wire_request request) {
  auto& st = self->state;
  contexts::apply_overrides(request, st.scope_overrides);
  notify(self, "onbatchprocessingstart", st.plan->config.onbatchprocessingstart,
         contexts::download_start_context(view_of(st), request, st.batch_number));
  st.stage = "downloading batch " + std::to_string(st.batch_number);
  exchange(self, std::move(request), "download",
           [self](exchange_result& result) { on_answer(self, result); });
}

/// The download request for the batch after `tick_count` (kept as last_request: the
/// chunk requests of that batch repeat its parameters).
transport::wire_request build_batch_request(downloader_state& st, const std::string& tick_count) {
  transport::download_request request;
  request.scope = scope_settings_for(*st.plan, *st.scope, st.job);
  request.tick_count = tick_count;
  request.batch_size = static_cast<std::uint32_t>(st.plan->config.batchsize);
  if (st.plan->config.chunksize)
    request.chunk_size = static_cast<std::uint32_t>(*st.plan->config.chunksize);
  if (auto it = st.plan->config.filterparams.find(st.scope->name);
      it != st.plan->config.filterparams.end())
    request.filters = it->second;
  request.initial_sync = !st.initialized;
  request.delete_chunk_payload_id = st.payload_to_acknowledge;
  st.last_request = request;
  return transport::build_download(request_context_for(*st.plan, st.job), request);
}

/// Asks for the batch after `answer` while `answer` is being stored. Its
/// onbatchprocessingstart is told after the current batch's onbatchprocessingsuccess,
/// so the app sees the real client's order.
///
/// Not past a batch holding acknowledgements or upload errors: the server takes the blob
/// of such a batch as proof that the device committed it and drops what it had queued
/// (docs/protocol.md 5, the commit receipt). Sent before the commit, a crash or a failed commit would lose
/// them for good. The server sends queued messages before any change, so once a batch
/// brings none, the rest of the download brings none either and prefetching resumes.
void prefetch_next(self_pointer self, const transport::download_answer& answer) {
  auto& st = self->state;
  if (!answer.more_changes_available || answer.error_after_rows || answer.chunking
      || !answer.ack_rows.empty() || !answer.upload_errors.empty() || st.plan->stopping())
    return;
  auto request = build_batch_request(st, answer.server_blob);
  contexts::apply_overrides(request, st.scope_overrides);
  auto view = view_of(st);
  view.last_sync_timestamp = answer.server_blob; // the blob this batch starts from
  prefetched_batch next;
  next.start_context = contexts::download_start_context(view, request);
  next.exchange = self->spawn(http_exchange, st.plan, st.listener, std::move(request), "download",
                              nlohmann::json{{"currentScope", st.scope->name}, {"request", "download"}});
  auto arrived = [self](exchange_result result) {
    auto& st = self->state;
    if (!st.prefetch)
      return;
    if (!st.prefetch->awaited) {
      st.prefetch->result = std::move(result);
      return;
    }
    st.prefetch.reset();
    on_answer(self, result);
  };
  self->request(next.exchange, caf::infinite, msg::run_atom::value)
    .then([arrived](exchange_result& result) mutable { arrived(std::move(result)); },
          [self, arrived](caf::error& err) mutable {
            exchange_result failed;
            failed.response.network_code = transport::codes::request_failed;
            failed.response.error_message = self->system().render(err);
            arrived(std::move(failed));
          });
  st.prefetch = std::move(next);
  ++st.prefetched;
}

void request_batch(self_pointer self) {
  auto& st = self->state;
  ++st.batch_number;
  auto wire = build_batch_request(st, st.download_blob);
  auto callback = st.plan->config.ondownloadstart;
  if (st.batch_number > 1 || !callback) {
    send_batch(self, std::move(wire));
    return;
  }
  auto context = contexts::download_start_context(view_of(st), wire, st.batch_number);
  st.stage = "waiting for ondownloadstart";
  self->request(st.listener, caf::infinite, msg::invoke_atom::value,
                msg::callback_call{"ondownloadstart", [callback, context] { return callback(context); }})
    .then([self, wire](nlohmann::json& returned) mutable {
      self->state.scope_overrides = std::move(returned);
      send_batch(self, std::move(wire));
    });
}

void start(self_pointer self) {
  auto& st = self->state;
  st.stage = "reading download position";
  auto scope = st.scope->name;
  nlohmann::json filters;
  if (auto it = st.plan->config.filterparams.find(scope); it != st.plan->config.filterparams.end())
    filters = it->second;
  st.filter_value = syncdb::filter_value_text(filters);
  database_call<start_point>(
    self, st.database, "download position " + scope,
    [scope, filter = st.filter_value](msg::db_context& ctx) {
      start_point point;
      point.position = syncdb::read_scope_position(ctx.connection, ctx.config, scope, filter);
      point.initialized = syncdb::is_scope_initialized(ctx.connection, scope);
      point.payload_to_acknowledge = syncdb::payload_to_acknowledge(ctx.connection, scope);
      point.unfinished_payload = syncdb::unfinished_payload(ctx.connection, scope);
      return point;
    },
    [self](start_point& point) {
      auto& st = self->state;
      st.download_blob = point.position.download_blob;
      st.upload_sequence = point.position.upload_sequence;
      st.initialized = point.initialized;
      st.payload_to_acknowledge = point.payload_to_acknowledge;
      if (point.unfinished_payload) { // a crash interrupted a chunked batch: finish it
        ++st.batch_number;
        transport::download_request request;
        request.scope = scope_settings_for(*st.plan, *st.scope, st.job);
        request.tick_count = st.download_blob;
        request.batch_size = static_cast<std::uint32_t>(st.plan->config.batchsize);
        request.chunk_size = st.plan->config.chunksize
                               ? std::optional<std::uint32_t>(
                                   static_cast<std::uint32_t>(*st.plan->config.chunksize))
                               : std::nullopt;
        request.initial_sync = !st.initialized;
        st.last_request = request;
        fetch_chunks(self, *point.unfinished_payload);
        return;
      }
      request_batch(self);
    },
    [self](sync_error& error) { fail(self, std::move(error)); });
}

} // namespace

downloader_actor::behavior_type downloader(self_pointer self, session_plan_ptr plan, scope_job job,
                                           database_actor database, listener_actor listener) {
  auto& st = self->state;
  st.plan = std::move(plan);
  st.job = std::move(job);
  st.scope = st.plan->sync->find_scope(st.job.scope);
  st.database = std::move(database);
  st.listener = std::move(listener);
  st.outcome.session = st.job.session;
  st.processor = self->spawn(batch_processor, st.database);
  return {
    [self](msg::run_atom) -> caf::typed_response_promise<download_outcome> {
      auto& st = self->state;
      st.promise = self->make_response_promise<download_outcome>();
      if (!st.scope)
        fail(self, sync_error{static_cast<int>(error_code::scope_does_not_exist),
                              "Scope:" + st.job.scope + " Doesnot exists ", nullptr});
      else
        start(self);
      return st.promise;
    },
    [self](msg::status_atom) {
      const auto& st = self->state;
      nlohmann::json own{
        {"name", downloader_state::name},
        {"state", st.stage},
        {"scope", st.job.scope},
        {"counters",
         {{"batches", st.outcome.batches},
          {"rowsdownloaded", st.outcome.totals.rows_downloaded},
          {"prefetchedbatches", st.prefetched},
          {"currentBatch", st.batch_number}}},
      };
      std::vector<status_child> children{
        {caf::actor_cast<caf::actor>(st.processor), "batch_processor"},
        {caf::actor_cast<caf::actor>(st.exchange), "http_exchange"}};
      if (st.prefetch)
        children.push_back({caf::actor_cast<caf::actor>(st.prefetch->exchange), "http_exchange"});
      if (st.chunks) {
        own["counters"]["chunksdownloaded"] = st.chunks_downloaded;
        own["counters"]["chunkcount"] = st.chunks->payload.chunk_count;
        for (const auto& [number, exchange] : st.chunks->requests) // the exchange shows its chunk
          children.push_back({caf::actor_cast<caf::actor>(exchange), "http_exchange"});
      }
      return status_with_children(self, std::move(own), std::move(children));
    },
  };
}

} // namespace mxsync
