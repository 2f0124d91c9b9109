#pragma once
// The uploader of one scope: sends the scope's pending changes in replay-sequence
// windows of uploadbatchsize rows. Each request is cached in the device database
// before it is sent and re-sent unchanged after a crash; the upload sequence number
// advances per accepted batch; OTA acknowledgements are applied from the answer.

#include "actors/listener.hpp"
#include "messages/messages.hpp"

#include <memory>

namespace mxsync {

struct uploader_state {
  static inline const char* name = "uploader";
  session_plan_ptr plan;
  scope_job job;
  const scope_def* scope = nullptr;
  database_actor database;
  listener_actor listener;
  caf::typed_response_promise<upload_outcome> promise;
  upload_outcome outcome;
  std::string stage = "idle";
  std::int64_t batch_number = 0;
  nlohmann::json scope_overrides;  ///< what onuploadstart returned
  // The batch in flight:
  std::shared_ptr<const syncdb::upload_window> window; ///< null when re-sending a cached request
  std::optional<syncdb::cached_upload_request> resend;
  std::int64_t upload_sequence = 0;
  /// The upload limit of the last batch the server accepted: the next window starts
  /// after it, so a change the server refused (put back among the pending uploads)
  /// goes up with the next session, not again and again in this one.
  std::int64_t uploaded_through = 0;
  std::string upload_blob;
  std::string download_blob;
  std::optional<transport::server_details> server; ///< of the last upload answer
  exchange_actor exchange;
};

uploader_actor::behavior_type uploader(uploader_actor::stateful_pointer<uploader_state> self,
                                       session_plan_ptr plan, scope_job job,
                                       database_actor database, listener_actor listener);

} // namespace mxsync
