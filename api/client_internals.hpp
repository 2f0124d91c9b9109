#pragma once
// Private to api/: what environment and sync_client hold. Includes CAF.

#include "mxsync/sync_client.hpp"

#include "messages/messages.hpp"
#include "persistence/sync_config.hpp"

#include "transport/http_client.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>

namespace mxsync {

struct environment::internals {
  explicit internals(unsigned worker_threads);
  ~internals();
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system; ///< after config: it refers to it

  /// The HTTP client every session of the process shares (one per TLS setting).
  std::shared_ptr<transport::http_client> http(bool insecure, const std::string& ca_file);

private:
  std::mutex http_mutex;
  std::map<std::pair<bool, std::string>, std::shared_ptr<transport::http_client>> http_clients;
};

struct sync_client::internals {
  std::shared_ptr<environment> env;
  std::shared_ptr<const sync_config> config;
  std::string database_path;
  runtime_actor runtime;
  /// Shared with queued work, which may outlive a call's stack frame.
  std::shared_ptr<std::atomic<bool>> initialized = std::make_shared<std::atomic<bool>>(false);

  caf::actor_system& system() { return *env->get().system; }

  /// Callback form: the work runs on the database actor, the callback on the listener.
  void call(bool write, std::string label, std::function<nlohmann::json(msg::db_context&)> work,
            success_callback on_success, error_callback on_error);
  /// Blocking form.
  result call(bool write, std::string label,
              std::function<nlohmann::json(msg::db_context&)> work);
  /// Hands `error` to `on_error` through the listener, in order with other callbacks.
  void report(std::string label, sync_error error, error_callback on_error);
  /// Runs on the listener once a session has ended, after its terminal event.
  using session_end = std::function<void(const session_outcome&)>;
  /// sync.startSession. Every call ends with exactly one terminal event (onsyncsuccess,
  /// onsyncerror, or the stop callback of a stopped session; a refused start gets
  /// onsyncerror), then `on_ended` (may be empty).
  void start_session(session_config keys, session_end on_ended);
  /// Started from the app's thread and from callbacks: atomic.
  std::atomic<std::uint64_t> sessions_started{0};
  std::atomic<std::uint64_t> reconciliations_started{0};
  /// Fails with 7777 until init succeeded, as the original does.
  std::function<nlohmann::json(msg::db_context&)>
  requires_init(std::function<nlohmann::json(msg::db_context&)> work);
};

/// What synchronize answers for a session that ended: the onsyncerror error, else
/// {"stopped": bool, "session": n}.
result session_result(const session_outcome& outcome);

/// The plan of sync.startSession from its keys (also what the exchanges of a
/// reconciliation use). Throws sync_exception naming the key at fault.
std::shared_ptr<session_plan> make_plan(session_config config,
                                        std::shared_ptr<const sync_config> sync,
                                        environment::internals& env);

} // namespace mxsync
