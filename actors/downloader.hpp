#pragma once
// The downloader of one scope: asks for the server's changes batch after batch
// (following the serverblob cursor) until moreChangesAvailable is false, asking for
// the next batch while the current one is stored, fetches
// chunked payloads (up to maxparallelchunks chunks at once; each chunk is stored as it
// arrives, so a stop or a crash resumes with the missing ones), and hands each batch
// to the batch processor, which commits the rows with their cursor.

#include "actors/listener.hpp"
#include "messages/messages.hpp"
#include "persistence/chunk_store.hpp"

#include <deque>
#include <map>

namespace mxsync {

/// The chunks of one payload being fetched.
struct chunk_fetch {
  syncdb::chunk_payload payload;
  std::deque<std::uint32_t> queue;                 ///< not requested yet, ascending
  std::map<std::uint32_t, exchange_actor> requests; ///< on the network, by chunk number
  std::uint32_t storing = 0;                       ///< answered, being written
  std::optional<sync_error> failure;               ///< the first chunk that failed
  bool payload_unknown = false; ///< the server no longer has the payload (SY3008E)

  bool idle() const noexcept { return requests.empty() && storing == 0; }
};

/// The next batch, asked for while the current one is being stored, so the network
/// and the database work at the same time. It is applied only after the current batch
/// (and dropped by a stop or a failure: the cursor never moved past it).
struct prefetched_batch {
  exchange_actor exchange;
  nlohmann::json start_context;          ///< onbatchprocessingstart's, told when its turn comes
  std::optional<exchange_result> result; ///< the answer, once it arrived
  bool awaited = false;                  ///< its turn came before its answer
};

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
  std::optional<chunk_fetch> chunks;   ///< while a chunked payload is fetched
  int payload_restarts = 0; ///< batches re-requested because the server lost the payload
  std::optional<prefetched_batch> prefetch;
  std::int64_t prefetched = 0; ///< batches whose request left before the previous was stored
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
