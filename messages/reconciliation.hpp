#pragma once
// Message payloads of sync.startReconciliation: the immutable plan the reconciler
// shares with its HTTP exchanges, and its report when the run is over.

#include "messages/session.hpp"
#include "mxsync/reconciliation_config.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mxsync {

/// The objects of one scope to reconcile, in reconcile order (names as the sync config
/// spells them).
struct reconcile_scope {
  std::string scope;
  std::vector<std::string> objects;
};

/// Everything a reconciliation needs, fixed when it starts.
struct reconciliation_plan {
  /// Endpoint, user, retry policy and HTTP client: what every exchange of a session
  /// uses, built from reconciliation_config::session by the startSession rules.
  std::shared_ptr<const session_plan> session;
  reconciliation_config config; ///< batch sizes and the onreconciliation* callbacks
  std::vector<reconcile_scope> scopes; ///< checked against the sync config, in order
  std::uint64_t run_number = 0; ///< 1, 2, ... per runtime, for status
};

using reconciliation_plan_ptr = std::shared_ptr<const reconciliation_plan>;

/// The reconciler's report to the runtime.
struct reconciliation_outcome {
  std::uint64_t run_number = 0;
  nlohmann::json summary; ///< onreconciliationsuccess's context (null after an error)
  std::optional<sync_error> error;
};

namespace msg {

/// sync.startReconciliation: the plan, and where the end goes.
struct reconcile_request {
  reconciliation_plan_ptr plan;
  /// Runs (through the listener, after every callback of the run) when it ended.
  std::function<void(const reconciliation_outcome&)> on_finished;
};

} // namespace msg

} // namespace mxsync
