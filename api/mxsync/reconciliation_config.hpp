#pragma once
// The configuration of sync.startReconciliation: which objects of which scopes to
// compare with the server (getAllPKs, then bulkGet of the missing rows), the two batch
// sizes and the onreconciliation* callbacks. The server, user and network keys are the
// startSession ones (serverhost, userid, password, retries, filterparams, ...) and
// live in `session`; its session callbacks are not used.

#include "mxsync/session_config.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mxsync {

struct reconciliation_config {
  /// The startSession keys that reach the server: serverhost/serverport/serverurl,
  /// userid/password/appid, issecure, networktimeout, retries, filterparams, ...
  session_config session;

  /// reconciliation: scope -> its objects in reconcile order ([] = every object of the
  /// scope). Put children before their parents (the page's advice), so a parent's
  /// delete does not cascade over children the server still has. Empty (JSON {}): every
  /// scope of the sync config with every object, as the real client does. Unset: 7033.
  std::optional<std::vector<std::pair<std::string, std::vector<std::string>>>> reconciliation;
  /// Keys per getAllPKs request.
  std::int64_t reconciledownloadbatchsize = 500;
  /// Keys per bulkGet request.
  std::int64_t reconcilebulkgetbatchsize = 500;

  // -- callbacks (contexts in docs/reconciliation.md) -----------------------------------
  event_callback onreconciliationstart, onreconciliationscopestart, onreconciliationscopesuccess,
    onreconciliationdownloadstart, onreconciliationbatchprocessingstart,
    onreconciliationbatchprocessingsuccess, onreconciliationbulkgetdownloadstart,
    onreconciliationbulkgetbatchprocessingstart, onreconciliationbulkgetbatchprocessingsuccess,
    onreconciliationsuccess;
  session_error_callback onreconciliationscopeerror, onreconciliationerror;

  /// The non-function keys from a JSON object with the page's key names: the
  /// reconciliation keys plus any startSession key. `reconciliation` takes
  /// {"<scope>": ["<Object>", ...]} or the page's {"<scope>": [{"<Object>": {}}, ...]}.
  /// Throws sync_exception 7032 (InvalidReconcileConfig) naming the key at fault
  /// (message and errorInfo.key), startSession keys included; then validate().
  static reconciliation_config from_json(const nlohmann::json& keys);
  /// The value rules from_json applies, for a config built in code (startReconciliation
  /// runs it): the same 7032 and message, the startSession keys' rules included.
  void validate() const;
};

} // namespace mxsync
