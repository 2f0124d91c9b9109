#pragma once
// The context objects of the onreconciliation* callbacks (docs/reconciliation.md).
// Plain functions: the reconciler calls them and builds no JSON itself.

#include "messages/reconciliation.hpp"
#include "mxsync/error.hpp"
#include "transport/protocol_codec.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mxsync::reconcile_contexts {

/// What a run did to one object.
struct object_totals {
  std::int64_t downloads = 0;  ///< keys the server sent by getAllPKs
  std::int64_t insertions = 0; ///< rows bulkGet brought that the device lacked
  std::int64_t deletions = 0;  ///< local rows the server no longer has
};
using object_level = std::vector<std::pair<std::string, object_totals>>;

/// onreconciliationstart: the configuration the run started with:
/// {reconciliation: {<scope>: [objects]}, reconciledownloadbatchsize, reconcilebulkgetbatchsize}.
nlohmann::json start_context(const reconciliation_plan& plan);
/// onreconciliationscopestart: {<scope>: [objects]} (the page's context) + currentScope.
nlohmann::json scope_start_context(const reconcile_scope& scope);
/// onreconciliationdownloadstart, onreconciliationbatchprocessingstart,
/// onreconciliationbulkgetdownloadstart, onreconciliationbulkgetbatchprocessingstart:
/// {currentScope, batchnumber, downloadRequest: the request's parameters with
/// filterContext as an object}.
nlohmann::json request_context(const std::string& scope, const transport::wire_request& request,
                               std::int64_t batch_number);
/// onreconciliationbatchprocessingsuccess (one getAllPKs batch): {currentScope, batchnumber,
/// reconcilebatchdownloads, reconcilebatchinsertions (0: keys insert nothing),
/// reconcilebatchdeletions (the deletions made after the scope's last key batch, in that
/// batch's context; 0 before)}.
nlohmann::json key_batch_context(const std::string& scope, std::int64_t batch_number,
                                 std::int64_t downloads, std::int64_t deletions);
/// onreconciliationbulkgetbatchprocessingsuccess: {currentScope, object, batchnumber,
/// reconcilebatchdownloads (rows in the answer), reconcilebatchinsertions}.
nlohmann::json bulk_get_batch_context(const std::string& scope, const std::string& object,
                                      std::int64_t batch_number, std::int64_t downloads,
                                      std::int64_t insertions);
/// reconcileobjectlevelinfo: {<Object>: {reconciletotaldownloads, reconciletotalinsertions,
/// reconciletotaldeletions}}.
nlohmann::json object_level_info(const object_level& objects);
/// onreconciliationscopesuccess: {currentScope, reconcileobjectlevelinfo (the scope's
/// objects), reconciletotaldownloads, reconciletotalinsertions, reconciletotaldeletions}.
nlohmann::json scope_success_context(const std::string& scope, const object_level& objects);
/// onreconciliationsuccess: {reconcileobjectlevelinfo, reconciletotaldownloads,
/// reconciletotalinsertions, reconciletotaldeletions,
/// pendingreconcilescopeswithhistorychanges (how many scopes were skipped),
/// pendingreconcilescopes (their names; mxsync's addition)}.
nlohmann::json success_context(const object_level& objects,
                               const std::vector<std::string>& skipped_scopes);
/// onreconciliationscopeerror: the cause's code and message, errorInfo {currentScope,
/// errorInfo (the cause's)}.
sync_error scope_error(const std::string& scope, const sync_error& cause);
/// onreconciliationerror: the first failed scope's code and message, errorInfo
/// {<scope>: {errorCode, errorMessage, errorInfo}} per failed scope.
sync_error run_error(const std::vector<std::pair<std::string, sync_error>>& failed_scopes);

/// Adds `more` to the entry of `object` (appended when new).
void add_totals(object_level& objects, const std::string& object, const object_totals& more);

} // namespace mxsync::reconcile_contexts
