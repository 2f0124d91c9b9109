#pragma once
// Sync bookkeeping that outlives a session (docs/protocol.md 1.3, 1.4, 1.5, 3.3): the
// device registration in SyncConfigTable, the per-scope positions in konysyncMETAINFO
// (upload sequence number, upload blob, one download blob per distinct filter value)
// and the "scope initialized" flag in konysyncDIAGNOSTICS.
//
// Plain functions over the device database; every write runs in one db::transaction
// (a savepoint when the caller already holds one), so a caller can commit a position
// together with the rows it belongs to. Failures throw sync_exception: 7030 for a scope
// the config does not know, 7026 for missing meta rows, 7019 for a failed statement.

#include "persistence/sqlite.hpp"
#include "persistence/sync_config.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace mxsync::syncdb {

/// The scope of that name; 7030 when the config has none.
const scope_def& require_scope(const sync_config& config, const std::string& scope);

/// Runs `work`, turning a SQLite failure into sync_exception 7019 (the bookkeeping
/// functions' documented failure) with the SQLite message in errorInfo.
[[noreturn]] void throw_sql_failure(const std::string& operation, const db::sqlite_error& error);
template <class Work>
decltype(auto) with_sql_errors(const std::string& operation, Work&& work) {
  try {
    return std::forward<Work>(work)();
  } catch (const db::sqlite_error& error) {
    throw_sql_failure(operation, error);
  }
}

// -- device registration (SyncConfigTable) ---------------------------------------

struct device_registration {
  std::optional<std::string> device_id;   ///< SyncConfigTable.DeviceID (NULL until registered)
  std::optional<std::string> instance_id; ///< SyncConfigTable.InstanceID from registerdevice
  bool registered() const noexcept { return instance_id.has_value() && !instance_id->empty(); }
};

device_registration read_device_registration(db::connection& db);
/// Stores both ids (the single SyncConfigTable row; created when missing).
void save_device_registration(db::connection& db, const std::string& device_id,
                              const std::string& instance_id);

// -- scope positions (konysyncMETAINFO) ---------------------------------------------

/// The filtervalue text of a scope's download row: "no filter" when `scope_filters`
/// (config.filterparams[scope]) is null or absent, else the compact JSON text of
/// {"d": scope_filters}, as the real client's JSON.stringify writes it (keys in the
/// order the json value holds them).
std::string filter_value_text(const nlohmann::json& scope_filters);
/// The same from the session's whole filterparams ({"<scope>": [...]}, or null).
std::string filter_value_for_scope(const nlohmann::json& filterparams, const std::string& scope);

/// Where a scope stands for one filter value.
struct scope_position {
  std::int64_t id = 0;               ///< konysyncMETAINFO.id of the (scope, filter) row
  std::string filter_value;          ///< "no filter" or filter_value_text(...)
  std::int64_t upload_sequence = 0;  ///< versionnumber of the scope's 'no filter' row
  std::string download_blob;         ///< lastserversynccontext of the (scope, filter) row
  std::string upload_blob;           ///< lastserveruploadsynccontext of the 'no filter' row
};

/// Reads the position; the (scope, filter) row is created on first use with the next
/// free id and an empty download blob.
scope_position read_scope_position(db::connection& db, const sync_config& config,
                                   const std::string& scope,
                                   const std::string& filter_value = "no filter");

/// konysyncMETAINFO.versionnumber of the scope: the SequenceNumber of the next upload.
std::int64_t upload_sequence_number(db::connection& db, const sync_config& config,
                                    const std::string& scope);

/// Writes lastserversynccontext of the (scope, filter) row (created when missing).
void save_download_blob(db::connection& db, const sync_config& config, const std::string& scope,
                        const std::string& filter_value, const std::string& blob);
/// Writes lastserveruploadsynccontext of the scope's 'no filter' row.
void save_upload_blob(db::connection& db, const sync_config& config, const std::string& scope,
                      const std::string& blob);

// -- initialized flag (konysyncDIAGNOSTICS id 1) -----------------------------------

/// Whether a download of the scope has ever completed (scopeSettings.<scope>.initialize).
bool is_scope_initialized(db::connection& db, const std::string& scope);
/// Sets scopeSettings.<scope>.initialize = true (other scopes' settings are kept).
void mark_scope_initialized(db::connection& db, const std::string& scope);

} // namespace mxsync::syncdb
