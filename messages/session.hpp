#pragma once
// Message payloads of sync sessions (sync.startSession): the immutable plan every
// session actor shares, and the outcomes actors report to their parents.

#include "mxsync/error.hpp"
#include "mxsync/session_config.hpp"
#include "persistence/download_batch.hpp"
#include "persistence/sync_config.hpp"
#include "persistence/upload_batch.hpp"
#include "transport/http_client.hpp"
#include "transport/protocol_codec.hpp"
#include "transport/retry_policy.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mxsync {

/// Everything a session needs, fixed when it starts. Shared (read-only) by the
/// coordinator, the scope actors and their children.
struct session_plan {
  session_config config;                    ///< keys and the app's callbacks
  std::shared_ptr<const sync_config> sync;  ///< the generated sync configuration
  transport::endpoint_config endpoint;
  transport::credentials user;
  transport::device_info device;
  transport::retry_policy retry;
  std::chrono::milliseconds network_timeout{0}; ///< 0 = the transport default
  std::shared_ptr<transport::http_client> http;
  /// Set by sync.stopSession: no further batch or scope starts.
  std::shared_ptr<std::atomic<bool>> stop_requested = std::make_shared<std::atomic<bool>>(false);
  std::uint64_t session_number = 0; ///< 1, 2, ... per runtime, for status and logs

  bool stopping() const { return stop_requested->load(); }
};

using session_plan_ptr = std::shared_ptr<const session_plan>;

/// What a scope's actors need beyond the plan: who the device is for the server.
struct scope_job {
  std::string scope;
  std::string device_id;
  std::string instance_id;
  std::optional<transport::session_info> session;
};

/// sessiontasks semantics of the real client (docs/protocol.md 2.1): without sessiontasks
/// everything runs; with it, a scope missing from it is not uploaded but is downloaded.
bool scope_uploads(const session_config& config, const std::string& scope);
bool scope_downloads(const session_config& config, const std::string& scope);
/// sessiontasks[scope].uploaderrorpolicy, when given (sent only then: docs/protocol.md 8.2).
std::optional<std::string> scope_upload_error_policy(const session_config& config,
                                                     const std::string& scope);

/// The transport's view of a scope's requests, from the plan and the job.
transport::request_context request_context_for(const session_plan& plan, const scope_job& job);
transport::scope_settings scope_settings_for(const session_plan& plan, const scope_def& scope,
                                             const scope_job& job);
syncdb::upload_error_policy ack_policy_for(const session_config& config, const std::string& scope);

/// What one HTTP exchange ended with (after retries).
struct exchange_result {
  transport::http_response response;
  int attempts = 1;
};

/// The uploader's report to its scope.
struct upload_outcome {
  bool stopped = false;
  std::optional<sync_error> error;
  std::int64_t batches = 0;
  syncdb::change_counts totals;
  std::vector<std::pair<std::string, syncdb::change_counts>> per_object;
  syncdb::batch_result acks; ///< OTA acks applied from upload answers
  std::optional<transport::session_info> session;
  std::optional<transport::server_details> server; ///< of the last answer
};

/// The downloader's report to its scope.
struct download_outcome {
  bool stopped = false;
  std::optional<sync_error> error;
  std::int64_t batches = 0;
  syncdb::batch_result totals;
  std::optional<transport::session_info> session;
  std::optional<transport::server_details> server; ///< of the last answer
};

/// A scope actor's report to the coordinator.
struct scope_outcome {
  std::string scope;
  bool stopped = false;
  std::optional<sync_error> error;
  std::optional<transport::session_info> session;
  std::optional<transport::server_details> server; ///< of the scope's last answer
};

/// Who the device is for the server (docs/protocol.md 1.3): its id and the instance id the
/// server gave at registration, or why it could not be registered.
struct device_identity {
  std::string device_id;
  std::string instance_id;
  std::optional<transport::session_info> session; ///< of the registration answer
  bool registered_now = false;
  std::optional<sync_error> error;
};

/// The coordinator's report to the runtime when the session is over. The runtime calls
/// the terminal callback from it: the stop callback when stopped, else onsyncerror with
/// `error`, else onsyncsuccess with `success_context`.
struct session_outcome {
  std::uint64_t session_number = 0;
  bool stopped = false;
  std::optional<sync_error> error;
  nlohmann::json success_context; ///< null unless it succeeded and onsyncsuccess is set
};

/// A batch processor's answer: the counts of the applied batch, or why it failed.
struct batch_applied {
  syncdb::batch_result result;
  std::optional<sync_error> error;
};

/// A download answer travelling from downloader to batch processor, with where it applies.
struct batch_to_apply {
  std::string scope;
  std::string filter_value;
  syncdb::upload_error_policy policy = syncdb::upload_error_policy::abort_on_error;
  std::shared_ptr<const transport::download_answer> answer;
  /// A chunked payload this batch completes: marked finished in the same transaction.
  std::optional<std::string> finished_payload_id;
};

} // namespace mxsync
