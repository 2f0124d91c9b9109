#pragma once
// Every atom, message type and typed actor interface of the runtime, in one place.
// Actors are local to one process, so closures and JSON travel by value as
// "unsafe" (non-serializable) message types.

#include "messages/reconciliation.hpp"
#include "messages/session.hpp"
#include "mxsync/error.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

namespace mxsync {

namespace db {
class connection;
}
struct sync_config;

namespace msg {

using status_atom = caf::atom_constant<caf::atom("status")>;
using write_atom = caf::atom_constant<caf::atom("write")>;
using read_atom = caf::atom_constant<caf::atom("read")>;
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using call_atom = caf::atom_constant<caf::atom("call")>;
using invoke_atom = caf::atom_constant<caf::atom("invoke")>;
using start_atom = caf::atom_constant<caf::atom("start")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using run_atom = caf::atom_constant<caf::atom("run")>;
using http_atom = caf::atom_constant<caf::atom("http")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using apply_atom = caf::atom_constant<caf::atom("apply")>;
using reconcile_atom = caf::atom_constant<caf::atom("reconcile")>;

/// What a unit of database work sees: the connection and the configuration.
struct db_context {
  db::connection& connection;
  const sync_config& config;
};

/// A unit of database work: a call into persistence/, run on the database
/// actor's connection inside one transaction (writes) or on its read connection.
struct db_work {
  std::string label; ///< for status and errors, e.g. "WorkOrder.create"
  std::function<nlohmann::json(db_context&)> run;
};

/// The answer to a db_work: a JSON value or the error it raised.
struct outcome {
  nlohmann::json value;
  std::optional<sync_error> error;

  bool ok() const noexcept { return !error.has_value(); }
};

/// A callback to run for the app, in order, by the listener.
struct callback_task {
  std::string event; ///< e.g. "oninitsuccess", for status and tests
  std::function<void()> run;
};

/// An API call in callback form: the work, then the app's callback for its outcome.
struct api_call {
  bool write = true; ///< a write goes to the one writer; a read to a read connection
  db_work work;
  std::function<void(const nlohmann::json&)> on_success; ///< may be empty
  std::function<void(const sync_error&)> on_error;       ///< may be empty
};

/// A callback whose return value the pipeline waits for (onuploadstart, ...).
struct callback_call {
  std::string event;
  std::function<nlohmann::json()> run; ///< returns the callback's answer (null: none)
};

/// sync.stopSession(callback).
struct stop_request {
  std::function<void(const nlohmann::json&)> on_stopped; ///< the app's stop callback
  std::function<void(const sync_error&)> on_error;       ///< "Session is in Progress" etc.
};

/// sync.startSession(config): the plan, and where the start outcome goes.
struct start_request {
  session_plan_ptr plan;
  /// Runs (through the listener) when the session ended: after its terminal event
  /// and every other callback of it.
  std::function<void(const session_outcome&)> on_finished;
};

} // namespace msg

// -- typed actor interfaces ----------------------------------------------------

/// The one writer of a device database. Spawned detached: SQLite blocks.
using database_actor = caf::typed_actor<
  // Runs a write in one transaction on the only write connection.
  caf::replies_to<msg::write_atom, msg::db_work>::with<msg::outcome>,
  // Runs a read on a read-only connection.
  caf::replies_to<msg::read_atom, msg::db_work>::with<msg::outcome>,
  // State, counters and mailbox size.
  caf::replies_to<msg::status_atom>::with<nlohmann::json>>;

/// Delivers results and events to the app's callbacks, one at a time, in order.
using listener_actor = caf::typed_actor<
  // Queues a callback for the app.
  caf::reacts_to<msg::deliver_atom, msg::callback_task>,
  // Runs a callback whose answer the pipeline needs, in order with the others.
  caf::replies_to<msg::invoke_atom, msg::callback_call>::with<nlohmann::json>,
  // Replies once every callback queued before it has run.
  caf::replies_to<msg::flush_atom>::with<bool>,
  caf::replies_to<msg::status_atom>::with<nlohmann::json>>;

/// One HTTP exchange: sends a request (or hands it to invokeservicefunction), retries
/// per numberofretryattempts/retryerrorcodes/retrywaittime, and answers the last response.
using exchange_actor = caf::typed_actor<
  caf::replies_to<msg::run_atom>::with<exchange_result>,
  // The transport's completion, posted from its I/O thread (or the app's callback).
  caf::reacts_to<msg::http_atom, transport::http_response>,
  // The retry timer.
  caf::reacts_to<msg::retry_atom>,
  caf::replies_to<msg::status_atom>::with<nlohmann::json>>;

/// Applies download batches through the database actor.
using batch_processor_actor = caf::typed_actor<
  caf::replies_to<msg::apply_atom, batch_to_apply>::with<batch_applied>,
  caf::replies_to<msg::status_atom>::with<nlohmann::json>>;

/// Uploads a scope's pending changes in batches.
using uploader_actor = caf::typed_actor<
  caf::replies_to<msg::run_atom>::with<upload_outcome>,
  caf::replies_to<msg::status_atom>::with<nlohmann::json>>;

/// Downloads a scope's server changes in batches.
using downloader_actor = caf::typed_actor<
  caf::replies_to<msg::run_atom>::with<download_outcome>,
  caf::replies_to<msg::status_atom>::with<nlohmann::json>>;

/// One scope of a session: upload, then download, then removeafterupload.
using scope_actor = caf::typed_actor<
  caf::replies_to<msg::run_atom>::with<scope_outcome>,
  caf::replies_to<msg::status_atom>::with<nlohmann::json>>;

/// One session: registers the device, runs the scopes in order, reports the end.
/// Reads the device's registration, registers it with the server when it is new.
using device_registrar_actor = caf::typed_actor<
  caf::replies_to<msg::run_atom>::with<device_identity>,
  caf::replies_to<msg::status_atom>::with<nlohmann::json>>;

using session_coordinator_actor = caf::typed_actor<
  caf::replies_to<msg::run_atom>::with<session_outcome>,
  caf::replies_to<msg::status_atom>::with<nlohmann::json>>;

/// One sync.startReconciliation: per scope getAllPKs batches, deletions, bulkGet
/// batches; reports the totals or the error.
using reconciler_actor = caf::typed_actor<
  caf::replies_to<msg::run_atom>::with<reconciliation_outcome>,
  caf::replies_to<msg::status_atom>::with<nlohmann::json>>;

/// One per runtime instance: takes API calls, forwards database work, hands the
/// outcome to the listener, and answers status for the whole actor tree.
using runtime_actor = caf::typed_actor<
  // Blocking API form: the outcome comes back to the caller.
  caf::replies_to<msg::write_atom, msg::db_work>::with<msg::outcome>,
  caf::replies_to<msg::read_atom, msg::db_work>::with<msg::outcome>,
  // Callback API form: the outcome goes to the app's callbacks via the listener.
  caf::reacts_to<msg::call_atom, msg::api_call>,
  // Replies once every call made before it has had its callback run.
  caf::replies_to<msg::flush_atom>::with<bool>,
  // sync.startSession: 7008 when a session is already running.
  caf::replies_to<msg::start_atom, msg::start_request>::with<msg::outcome>,
  // sync.stopSession: replies once the stop is recorded (its callback comes later).
  caf::replies_to<msg::stop_atom, msg::stop_request>::with<bool>,
  // sync.startReconciliation: 7034 while a session or another reconciliation runs.
  caf::replies_to<msg::reconcile_atom, msg::reconcile_request>::with<msg::outcome>,
  // The actor tree: this actor's state and counters with its children's.
  caf::replies_to<msg::status_atom>::with<nlohmann::json>>;

} // namespace mxsync

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::msg::api_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::msg::callback_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::msg::stop_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::msg::start_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::msg::reconcile_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::reconciliation_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::exchange_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::transport::http_response)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::batch_applied)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::upload_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::download_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::scope_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::device_identity)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::session_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::batch_to_apply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::msg::db_work)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::msg::outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mxsync::msg::callback_task)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nlohmann::json)
