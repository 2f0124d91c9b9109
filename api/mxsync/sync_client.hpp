#pragma once
// The application-level Volt MX sync API (sync.init, sync.reset, ...) for one
// device database. Each call has the original's callback form and a blocking form
// that returns a mxsync::result. No CAF type appears here.

#include "mxsync/error.hpp"
#include "mxsync/reconciliation_config.hpp"
#include "mxsync/session_config.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace mxsync {

using success_callback = std::function<void(const nlohmann::json&)>;
using error_callback = std::function<void(const sync_error&)>;
/// Runs a callback for the app (on its UI queue, say). Empty: mxsync's listener thread.
using callback_executor = std::function<void(std::function<void()>)>;

/// The blocking form's answer: a JSON value or a sync_error.
class result {
public:
  result(nlohmann::json value) : value_(std::move(value)) {}
  result(sync_error error) : error_(std::move(error)) {}

  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const nlohmann::json& value() const& { return value_; }
  nlohmann::json&& value() && { return std::move(value_); }
  const nlohmann::json& operator*() const& { return value_; }
  const nlohmann::json* operator->() const { return &value_; }
  /// The error; only meaningful when !ok().
  const sync_error& error() const { return *error_; }
  /// The value, or throws sync_exception with the error.
  const nlohmann::json& value_or_throw() const {
    if (error_)
      throw sync_exception(*error_);
    return value_;
  }

private:
  nlohmann::json value_;
  std::optional<sync_error> error_;
};

/// The actor system (and, with sync sessions, the HTTP transport) that many
/// sync_client instances of one process share.
class environment {
public:
  /// `worker_threads` 0 picks CAF's default (one per core).
  explicit environment(unsigned worker_threads = 0);
  ~environment();
  environment(const environment&) = delete;
  environment& operator=(const environment&) = delete;

  struct internals; ///< defined in api/ sources only
  internals& get() noexcept { return *internals_; }

private:
  std::unique_ptr<internals> internals_;
};

struct client_options {
  std::string database_path;   ///< the device database file (":memory:" for tests)
  std::string config_path;     ///< the generated sync config file, or:
  nlohmann::json config;       ///< the konysyncClientSyncConfig object itself
  std::shared_ptr<environment> shared_environment; ///< empty: a private one
  callback_executor executor;  ///< where callbacks run
};

class sync_object;

/// One device database with its sync configuration: the `sync` namespace of the
/// original API. Thread-safe; callbacks run in call order.
class sync_client {
public:
  /// Loads and checks the configuration; throws sync_exception 7004 with the
  /// config's fault (scope, table, key) in errorInfo when it is invalid.
  explicit sync_client(client_options options);
  ~sync_client(); ///< waits for every pending callback, then stops the actors
  sync_client(const sync_client&) = delete;
  sync_client& operator=(const sync_client&) = delete;

  // sync.init: creates the device database on first use, else initializes the
  // environment; a config Version other than the stored one fails with 7004.
  void init(success_callback on_success, error_callback on_error);
  result init();
  // sync.reset: removes all data, back to the state right after the first init.
  void reset(success_callback on_success, error_callback on_error);
  result reset();
  // <scope>.reset
  void resetScope(const std::string& scope, success_callback on_success, error_callback on_error);
  result resetScope(const std::string& scope);
  // sync.rollbackPendingLocalChanges -> {rowsrolledback}
  void rollbackPendingLocalChanges(success_callback on_success, error_callback on_error);
  result rollbackPendingLocalChanges();
  // -> {totalCount, totalData: {<table>: {count, data[]}}}
  void getPendingAcknowledgement(success_callback on_success, error_callback on_error);
  result getPendingAcknowledgement();
  void getPendingUpload(success_callback on_success, error_callback on_error);
  result getPendingUpload();
  void getDeferredUpload(success_callback on_success, error_callback on_error);
  result getDeferredUpload();
  // sync.executeSelectQuery: one read-only SELECT -> array of rows
  void executeSelectQuery(const std::string& sql, success_callback on_success,
                          error_callback on_error);
  result executeSelectQuery(const std::string& sql);

  // sync.startSession: one sync cycle with the config's keys and callbacks. It ends with
  // exactly one terminal event: onsyncsuccess, onsyncerror, or the stop callback of a
  // stopped session (which calls neither of the other two). A start that is refused (7008
  // while a session runs, invalid keys, before init) gets onsyncerror. The session is
  // over when its terminal event runs: a startSession from inside it is accepted.
  void startSession(session_config config);
  // sync.stopSession: returns once the stop is recorded. The network call in flight
  // completes, no further batch or scope starts, pending callbacks run, then `on_stopped`
  // ({"stopped": true}): the stopped session's terminal event. {"stopped": false} when no
  // session was stopped: none ran (the original never calls back then) or it had ended.
  // A second stop while stopping gets 7008 "Session is in Progress" on `on_error`. From
  // inside a callback the session waits for (onuploadstart, onuploadbatchstart,
  // ondownloadstart, invokeservicefunction) it takes effect at the next check point.
  void stopSession(success_callback on_stopped, error_callback on_error = {});
  /// Blocking form of startSession: returns once the session ended (callbacks in
  /// `config` run too). Success: {"stopped": false, "session": n} when it ran to the
  /// end, {"stopped": true, "session": n} when stopSession cut it short (n counts this
  /// client's sessions); not the onsyncsuccess context, which only that callback gets.
  /// Failure: the error onsyncerror gets, or the refusal of the start (an invalid key
  /// 7777, 7008 while a session or reconciliation runs, 7777 before init), which
  /// onsyncerror gets too.
  result synchronize(session_config config);

  // sync.startReconciliation: compares the keys of the configured objects with the
  // server's (getAllPKs), removes local rows the server does not have and fetches the
  // ones the device lacks (bulkGet); scopes with pending local changes are skipped. The
  // outcome goes to onreconciliationsuccess / onreconciliationerror: 7033 without a
  // reconciliation key, 7030/7031 for an unknown scope/object, 7032 for other invalid
  // keys, 7034 while a sync session or another reconciliation runs (a startSession
  // during a reconciliation gets 7008).
  void startReconciliation(reconciliation_config config);
  /// Blocking form of startReconciliation: returns once the run ended, with the
  /// onreconciliationsuccess context or the error (callbacks in `config` run too).
  result reconcile(reconciliation_config config);

  /// The ORM object of a sync object (table); throws sync_exception 7031 if unknown.
  sync_object object(const std::string& name);

  /// The actor tree with each actor's state, counters and mailbox size.
  nlohmann::json status();
  /// Returns once every callback of calls made before it has run.
  void flush();

  const nlohmann::json& configuration() const;

  struct internals; ///< defined in api/ sources only
  internals& get() noexcept { return *internals_; }

private:
  std::unique_ptr<internals> internals_;
};

} // namespace mxsync
