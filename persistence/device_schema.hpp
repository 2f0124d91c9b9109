#pragma once
// The device database as the Volt MX generator makes it (docs/protocol.md 3.3): per sync
// object T the tables T, T_history and T_original, their indexes, and the konysync*
// meta tables; plus sync.init, sync.reset and the scope reset over it.

#include "persistence/sqlite.hpp"
#include "persistence/sync_config.hpp"

#include <string>
#include <vector>

namespace mxsync::schema {

// Names of the per-object tables (SQLite compares them case-insensitively).
std::string history_table(const std::string& table);  // "T_history"
std::string original_table(const std::string& table); // "T_original"

// The change-tracking columns.
inline constexpr const char* change_type_column = "konysyncchangetype";
inline constexpr const char* version_column = "konysyncversionnumber";
inline constexpr const char* hashsum_column = "konysynchashsum";
inline constexpr const char* replay_sequence_column = "konysyncreplaysequence";
inline constexpr const char* change_time_column = "konysyncchangetime";
inline constexpr const char* original_change_type_column = "konysyncoriginalchangetype";
inline constexpr const char* original_version_column = "konysyncoriginalversionnumber";

/// The filter value of a scope's unfiltered konysyncMETAINFO row.
inline constexpr const char* no_filter = "no filter";

/// Declared SQL type of a column, as the generator writes it: nvarchar(Length),
/// longvarchar, integer, numeric, float, double, date, time, timestamp, blob.
std::string declared_type(const column_def& column);

/// Every CREATE TABLE / CREATE INDEX statement of the device schema, in order.
std::vector<std::string> device_ddl(const sync_config& config);
/// The statements for one sync object (main, history, original tables and indexes).
std::vector<std::string> table_ddl(const table_def& table);
/// The statements for the meta tables.
std::vector<std::string> meta_ddl();

/// Names of every table the schema creates for `config` (objects and meta tables).
std::vector<std::string> all_table_names(const sync_config& config);

/// Sets the connection's pragmas (docs/persistence.md says which and why).
void configure_connection(db::connection& db);

struct init_result {
  bool created = false;           ///< true on the first init of this database
  bool version_mismatch = false;  ///< the stored config Version differs from the config's
  std::string stored_version;     ///< SyncConfigTable.SyncVersion as found
};

/// sync.init: creates the schema on a new database; on an existing one keeps the
/// data, creates any missing meta table, and reports a config Version mismatch
/// (it changes nothing else in that case).
init_result initialize(db::connection& db, const sync_config& config);

/// sync.reset: drops every table of the schema and initializes again.
void reset(db::connection& db, const sync_config& config);

/// <scope>.reset: removes the scope's rows, history, originals, pending upload,
/// chunks and download positions; the scope becomes uninitialized.
void reset_scope(db::connection& db, const sync_config& config, const std::string& scope);

/// Whether the database holds a device schema (SyncConfigTable exists).
bool is_initialized(const db::connection& db);

} // namespace mxsync::schema
