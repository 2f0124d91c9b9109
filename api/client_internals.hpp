#pragma once
// Private to api/: what environment and sync_client hold. Includes CAF.

#include "mxsync/sync_client.hpp"

#include "messages/messages.hpp"
#include "persistence/sync_config.hpp"

#include <atomic>
#include <memory>

namespace mxsync {

struct environment::internals {
  explicit internals(unsigned worker_threads);
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system; ///< after config: it refers to it
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
  /// Fails with 7777 until init succeeded, as the original does.
  std::function<nlohmann::json(msg::db_context&)>
  requires_init(std::function<nlohmann::json(msg::db_context&)> work);
};

} // namespace mxsync
