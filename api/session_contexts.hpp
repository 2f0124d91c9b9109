#pragma once
// The context objects the lifecycle callbacks receive (docs/callbacks.md), and the
// request parameters a callback's return value replaces. Plain functions: the
// session actors call them and build no JSON themselves.

#include "mxsync/error.hpp"
#include "persistence/download_batch.hpp"
#include "persistence/upload_batch.hpp"
#include "transport/protocol_codec.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mxsync::contexts {

/// What every scope-level context carries.
struct scope_view {
  std::string scope;
  std::string upload_url;
  std::string download_url;
  std::string last_sync_timestamp; ///< the scope's download blob
  std::int64_t upload_sequence = 0;
  std::optional<transport::server_details> server;
};

/// {uploadurl, downloadurl, currentScope, lastsynctimestamp, uploadsequencenumber[, serverDetails]}
nlohmann::json scope_context(const scope_view& view);
/// onsyncstart: {uploadurl, downloadurl}.
nlohmann::json sync_start_context(const scope_view& view);
/// onsyncsuccess: the scope context of the last scope.
nlohmann::json session_context(const scope_view& view);

/// The request's parameters as an object (uploadRequest / downloadRequest).
nlohmann::json request_params(const transport::wire_request& request);

/// onuploadstart / onuploadbatchstart: + uploadRequest (+ uploadbatchnumber)
nlohmann::json upload_start_context(const scope_view& view, const transport::wire_request& request,
                                    std::int64_t batch_number);

/// uploadcontext (cumulative over the scope's batches): {rowsuploaded, rowsinserted,
/// rowsupdated, rowsdeleted}; OTA scopes add objectlevelinfo, the ack* counts,
/// failedrowinfo and rowsfailedtoupload (docs/callbacks.md 2.3).
nlohmann::json upload_context(const syncdb::change_counts& totals,
                              const std::vector<std::pair<std::string, syncdb::change_counts>>& per_object,
                              const syncdb::batch_result& acks, bool ota);
/// uploadbatchcontext (one batch): the four counts and serverDetails.
nlohmann::json upload_batch_counts(const syncdb::change_counts& batch,
                                   const std::optional<transport::server_details>& server);
/// onuploadbatchsuccess: a new object {uploadcontext, uploadbatchcontext}.
nlohmann::json upload_batch_success_context(nlohmann::json upload_context,
                                            nlohmann::json batch_counts);
/// onuploadsuccess: the scope context + uploadcontext.
nlohmann::json upload_success_context(const scope_view& view, nlohmann::json upload_context);

/// ondownloadstart / onbatchprocessingstart: + downloadRequest (+ batchnumber)
nlohmann::json download_start_context(const scope_view& view,
                                      const transport::wire_request& request,
                                      std::int64_t batch_number);
/// batchcontext: {batchrowsdownloaded, rowsinserted, rowsupdated, rowsdeleted,
/// rowsfailedtoupload, failedrowinfo, objectlevelinfo, pendingbatches, acktotalrows,
/// ackinsertedrows, ackupdatedrows, ackdeletedrows}
nlohmann::json batch_counts(const syncdb::batch_result& batch,
                            std::optional<std::int64_t> pending_batches);
/// onbatchstored / onbatchprocessingsuccess / ondownloadsuccess: + batchcontext
nlohmann::json batch_context(const scope_view& view, nlohmann::json counts,
                             std::int64_t batch_number);
/// onchunkstart: {chunkcount, payloadid, scopename, chunkid, chunkrequest}
nlohmann::json chunk_start_context(const std::string& scope, const std::string& payload_id,
                                   std::uint32_t chunk_count, std::uint32_t chunk_number,
                                   const transport::wire_request& request);
/// onchunksuccess: {chunkcount, payloadid, scopename, chunkid, pendingchunks,
/// chunksdownloaded, serverDetails}; onchunkerror carries the same keys in errorInfo.
nlohmann::json chunk_progress_context(const std::string& scope, const std::string& payload_id,
                                      std::uint32_t chunk_count, std::uint32_t chunk_number,
                                      std::uint32_t chunks_downloaded,
                                      const std::optional<transport::server_details>& server);
/// onretry: {request, errorResponse, retryCount}
nlohmann::json retry_context(const transport::wire_request& request, int error_code,
                             const std::string& error_message, int retry_count);

/// onscopeerror: the scope's error with currentScope and serverDetails in errorInfo.
sync_error scope_error(const std::string& scope, const sync_error& cause);
/// onsyncerror: 7022 "Error occurred while syncing one or more scopes" with errorInfo
/// {<scope>: {errorCode, errorMessage, errorInfo}} per failed scope.
sync_error session_error(const std::vector<std::pair<std::string, sync_error>>& failed_scopes);

/// Applies a callback's returned object to a request: each key replaces (or adds)
/// that parameter; objects and arrays are sent as their JSON text (clientcontext).
/// null or a non-object leaves the request unchanged.
void apply_overrides(transport::wire_request& request, const nlohmann::json& returned);

} // namespace mxsync::contexts
