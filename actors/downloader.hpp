#pragma once
// The downloader of one scope: asks for the server's changes batch after batch
// (following the serverblob cursor) until moreChangesAvailable is false, fetches
// chunked payloads chunk by chunk (stored, so a crash resumes them), and hands each
// batch to the batch processor, which commits the rows with their cursor.

#include "actors/listener.hpp"
#include "messages/messages.hpp"

namespace mxsync {

struct downloader_state {
  static inline const char* name = "downloader";
  session_plan_ptr plan;
  scope_job job;
  const scope_def* scope = nullptr;
  database_actor database;
  listener_actor listener;
  batch_processor_actor processor;
  caf::typed_response_promise<download_outcome> promise;
  download_outcome outcome;
  std::string stage = "idle";
  std::string filter_value;
  std::string download_blob;
  std::int64_t upload_sequence = 0;
  bool initialized = false;   ///< a download of the scope completed before this one
  std::int64_t batch_number = 0;
  std::uint32_t chunks_downloaded = 0; ///< of the payload being fetched
  nlohmann::json scope_overrides; ///< what ondownloadstart returned
  std::optional<std::string> payload_to_acknowledge;
  transport::download_request last_request; ///< for downloadchunk requests
  std::optional<transport::server_details> server;
  exchange_actor exchange;
};

downloader_actor::behavior_type downloader(downloader_actor::stateful_pointer<downloader_state> self,
                                           session_plan_ptr plan, scope_job job,
                                           database_actor database, listener_actor listener);

} // namespace mxsync
