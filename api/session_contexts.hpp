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

/// What the actors know when they build a context. Each builder takes from it only the
/// keys its callback gets (docs/callbacks.md 2.1/2.2), whatever else the view holds.
struct scope_view {
  std::string scope;
  std::string upload_url;
  std::string download_url;
  /// lastsynctimestamp: the upload blob in upload callbacks; in download callbacks the
  /// blob the batch starts from (start) or the batch's own blob (success).
  std::string last_sync_timestamp;
  std::int64_t upload_sequence = 0; ///< uploadsequencenumber (upload callbacks only)
  std::optional<transport::server_details> server; ///< of the last answer
};

/// {hostName, ipAddress} of the last answer; both null when the server sent no d.server.
nlohmann::json server_details(const std::optional<transport::server_details>& server);

/// onsyncstart: exactly {uploadurl, downloadurl}.
nlohmann::json sync_start_context(const scope_view& view);
/// onscopestart: {uploadurl, downloadurl, currentScope, lastsynctimestamp (the scope's
/// download blob, or its upload blob when it does not download; "" before its first
/// sync), uploadsequencenumber}, as the API page lists. No serverDetails, uploadcontext
/// or batchcontext; mxsync does not carry the previous scope's leftovers.
nlohmann::json scope_start_context(const scope_view& view);
/// onscopesuccess after a download, ondownloadsuccess, onsyncsuccess:
/// {uploadurl, downloadurl, currentScope, lastsynctimestamp (the final blob)
/// [, serverDetails when the view has them]}. No batchcontext, uploadcontext or
/// uploadsequencenumber.
nlohmann::json scope_success_context(const scope_view& view);
/// onscopesuccess of a scope whose download was skipped (dodownload false): the upload
/// state, {uploadurl, downloadurl, currentScope, lastsynctimestamp (the upload blob),
/// uploadsequencenumber[, serverDetails]}.
nlohmann::json scope_upload_only_context(const scope_view& view);
/// The same as scope_success_context (kept for callers of the first API).
nlohmann::json scope_context(const scope_view& view);
/// onsyncsuccess: the context after the last scope (scope_success_context of it).
nlohmann::json session_context(const scope_view& view);

/// The request's parameters as an object (uploadRequest / downloadRequest).
nlohmann::json request_params(const transport::wire_request& request);

/// onuploadstart / onuploadbatchstart: {uploadurl, downloadurl, currentScope,
/// uploadRequest, lastsynctimestamp (the upload blob), uploadsequencenumber}; no
/// serverDetails.
nlohmann::json upload_start_context(const scope_view& view, const transport::wire_request& request);

/// uploadcontext (cumulative over the scope's batches): {rowsuploaded, rowsinserted,
/// rowsupdated, rowsdeleted}; OTA scopes add objectlevelinfo (an entry for every object
/// of `scope_objects`, in that order, 0 when it had no rows), the ack* counts,
/// failedrowinfo and rowsfailedtoupload (docs/callbacks.md 2.3).
nlohmann::json upload_context(const syncdb::change_counts& totals,
                              const std::vector<std::pair<std::string, syncdb::change_counts>>& per_object,
                              const syncdb::batch_result& acks, bool ota,
                              const std::vector<std::string>& scope_objects = {});
/// uploadbatchcontext (one batch): exactly {rowsuploaded, rowsinserted, rowsupdated,
/// rowsdeleted, serverDetails}.
nlohmann::json upload_batch_counts(const syncdb::change_counts& batch,
                                   const std::optional<transport::server_details>& server);
/// onuploadbatchsuccess: a new object, exactly {uploadcontext, uploadbatchcontext}.
nlohmann::json upload_batch_success_context(nlohmann::json upload_context,
                                            nlohmann::json batch_counts);
/// onuploadsuccess: {uploadurl, downloadurl, currentScope, lastsynctimestamp (the last
/// upload blob), uploadsequencenumber (after the increments), serverDetails, uploadcontext}.
nlohmann::json upload_success_context(const scope_view& view, nlohmann::json upload_context);

/// ondownloadstart / onbatchprocessingstart: {uploadurl, downloadurl, currentScope,
/// lastsynctimestamp (the blob the batch starts from), downloadRequest}; no
/// serverDetails, uploadsequencenumber, uploadcontext or batchcontext. The batch number
/// is not part of the context.
nlohmann::json download_start_context(const scope_view& view,
                                      const transport::wire_request& request,
                                      std::int64_t batch_number = 0);
/// batchcontext: {batchrowsdownloaded, rowsinserted, rowsupdated, rowsdeleted,
/// rowsfailedtoupload, failedrowinfo, objectlevelinfo, pendingbatches} + rowsdownloaded
/// (mxsync: the same as batchrowsdownloaded) + for non-OTA scopes {acktotalrows,
/// ackinsertedrows, ackupdatedrows, ackdeletedrows}. objectlevelinfo has an entry per
/// object of the batch: {batchrowsdownloaded, rowsinserted, rowsupdated, rowsdeleted,
/// ackinsertedrows, ackupdatedrows, ackdeletedrows, acktotalrows, rowsfailedtoupload
/// [, reconciledprimarykeys]}.
nlohmann::json batch_counts(const syncdb::batch_result& batch,
                            std::optional<std::int64_t> pending_batches, bool ota);
/// The same for a non-OTA scope (ack keys included).
nlohmann::json batch_counts(const syncdb::batch_result& batch,
                            std::optional<std::int64_t> pending_batches);
/// onbatchprocessingsuccess: {uploadurl, downloadurl, currentScope, lastsynctimestamp
/// (this batch's blob), serverDetails, batchcontext}.
nlohmann::json batch_context(const scope_view& view, nlohmann::json counts,
                             std::int64_t batch_number = 0);
/// ondownloadsuccess: {uploadurl, downloadurl, currentScope, lastsynctimestamp (the final
/// blob), serverDetails}; no batchcontext.
nlohmann::json download_success_context(const scope_view& view);
/// onchunkstart: {chunkcount, payloadid, scopename, chunkid, chunkrequest}
nlohmann::json chunk_start_context(const std::string& scope, const std::string& payload_id,
                                   std::uint32_t chunk_count, std::uint32_t chunk_number,
                                   const transport::wire_request& request);
/// onchunksuccess: {chunkcount, payloadid, scopename, chunkid, pendingchunks,
/// chunksdownloaded, serverDetails} (serverDetails' members null before any answer named
/// its server); onchunkerror carries the same keys in errorInfo.
nlohmann::json chunk_progress_context(const std::string& scope, const std::string& payload_id,
                                      std::uint32_t chunk_count, std::uint32_t chunk_number,
                                      std::uint32_t chunks_downloaded,
                                      const std::optional<transport::server_details>& server);
/// onchunkerror: the chunk's error (its code and message) with errorInfo = the
/// chunk_progress_context keys + errorInfo (the cause's own details).
sync_error chunk_error(const nlohmann::json& progress_context, const sync_error& cause);
/// onretry: {request (the params object of the failed call), errorResponse (the failed
/// answer: {opstatus, errcode, errmsg}), retryCount (1 for the first retry)}
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
