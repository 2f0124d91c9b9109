#pragma once
// sync.startReconciliation on the device database (docs/protocol.md 1.7): the server's keys
// of each reconciled object are kept for the run in TEMP table <Obj>_tempReconciliation
// (on the writer's connection, so nothing of it reaches the file), local rows whose key
// the server does not have are removed (cascading like removeDeviceInstance: nothing
// is tracked or uploaded), and the keys the server has but the device lacks are listed
// in batches for bulkGet, whose rows are then inserted as clean server rows.
//
// Each function is one step of the run and holds one db::transaction (a savepoint
// inside the database actor's). Failures throw sync_exception (7031 unknown object,
// 7019 failed statement).

#include "persistence/sqlite.hpp"
#include "persistence/sync_config.hpp"
#include "transport/protocol_codec.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mxsync::syncdb::reconcile {

/// "<Obj>_tempReconciliation": where the server's keys of `table` wait for the compare.
std::string key_table(const table_def& table);

/// True when an object of the scope has a pending local change (a T_history row):
/// such a scope is skipped (pendingreconcilescopeswithhistorychanges).
bool scope_has_pending_changes(db::connection& db, const sync_config& config,
                               const std::string& scope);

/// Starts the run of `objects` (names of the scope's objects): each one's key table is
/// created empty (a previous run's keys are dropped, so every run starts from scratch).
void begin(db::connection& db, const sync_config& config, const std::vector<std::string>& objects);

/// Counts of one getAllPKs batch.
struct key_batch {
  std::int64_t keys_downloaded = 0; ///< rows of reconciled objects with a complete key
  std::int64_t rows_ignored = 0;    ///< rows of other objects, or without their key
  /// Keys per object, in the order first seen.
  std::vector<std::pair<std::string, std::int64_t>> per_object;
};

/// Stores the key columns of getAllPKs rows into the key tables of `objects`.
key_batch store_server_keys(db::connection& db, const sync_config& config,
                            const std::vector<std::string>& objects,
                            const std::vector<transport::sync_row>& rows);

/// Removes local rows of `object` whose key the server did not send, with the children
/// of its cascading relationships (as removeDeviceInstance). Returns rows of `object`
/// removed.
std::int64_t delete_rows_missing_on_server(db::connection& db, const sync_config& config,
                                           const std::string& object);

/// A page of keys the server has and the device lacks.
struct missing_keys {
  std::vector<transport::column_list> keys; ///< [(pk column, value), ...] in Pk_Columns order
  /// Where the next page starts (the key table's position of the last key). Paging by
  /// position, not by "still missing", so a key bulkGet does not return is not asked
  /// for again and again.
  std::int64_t next_position = 0;
};

/// Up to `limit` missing keys of `object` after key-table position `after` (0 = start).
missing_keys next_missing_keys(db::connection& db, const sync_config& config,
                               const std::string& object, std::int64_t after, std::size_t limit);

/// Counts of one bulkGet batch.
struct insert_batch {
  std::int64_t rows_downloaded = 0; ///< rows of the answer
  std::int64_t rows_inserted = 0;   ///< rows that were new to the device
  std::vector<std::pair<std::string, std::int64_t>> inserted_per_object;
};

/// Inserts bulkGet rows of the scope's objects as clean server rows (changetype NULL,
/// their hashsum when given); a row whose key the device already has is left alone.
insert_batch insert_server_rows(db::connection& db, const sync_config& config,
                                const std::string& scope,
                                const std::vector<transport::sync_row>& rows);

/// Ends the run: drops the key tables of `objects`.
void end(db::connection& db, const sync_config& config, const std::vector<std::string>& objects);

} // namespace mxsync::syncdb::reconcile
