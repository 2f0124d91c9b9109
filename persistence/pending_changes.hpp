#pragma once
// Application-level queries over every sync object (docs/protocol.md 2.1):
// sync.getPendingUpload / getPendingAcknowledgement / getDeferredUpload,
// sync.rollbackPendingLocalChanges and sync.executeSelectQuery; and the per-object
// pending-row query the ORM's getPendingUpload & co. are built on.

#include "persistence/sqlite.hpp"
#include "persistence/sync_config.hpp"
#include "persistence/where_clause.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace mxsync::pending {

/// Which local changes a query selects (v = the scope's current versionnumber):
/// upload: changetype not null, <> -1, not like '9%', versionnumber = v;
/// acknowledgement: the same but versionnumber <> v (uploaded, not yet acked);
/// deferred: changetype like '9%'.
enum class kind { upload, acknowledgement, deferred };

/// The object's rows of that kind: the attributes (booleans as JSON booleans) plus
/// konysyncchangetype and konysyncversionnumber. Records deleted locally are no longer
/// in the main table; they come from their latest T_history row (change type 2/92),
/// unless the record was also created locally (nothing to tell the server then).
/// `where` filters these rows (guarded, column names as in the table).
nlohmann::json rows(db::connection& db, const sync_config& config, std::string_view table,
                    kind which, const where::clause& filter = {});

/// {"totalCount": n, "totalData": {"<table>": {"count": k, "data": [rows]}}}; tables
/// without such rows are left out of totalData.
nlohmann::json get_pending_upload(db::connection& db, const sync_config& config);
nlohmann::json get_pending_acknowledgement(db::connection& db, const sync_config& config);
nlohmann::json get_deferred_upload(db::connection& db, const sync_config& config);

/// Every local change of every object of every scope undone: {"rowsrolledback": n}.
nlohmann::json rollback_pending_local_changes(db::connection& db, const sync_config& config);

/// sync.executeSelectQuery: one read-only statement (any table may be read; PRAGMA,
/// ATTACH, writes and non-built-in functions are refused with 7019). Rows as objects.
nlohmann::json execute_select_query(db::connection& db, std::string_view sql,
                                    const std::vector<nlohmann::json>& params = {});

} // namespace mxsync::pending
