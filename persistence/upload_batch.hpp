#pragma once
// The device side of an upload (docs/protocol.md 1.4): the next window of pending
// T_history rows of a scope, the crash-safe cache of the request being sent
// (konysyncPENDINGUPLOADREQUESTINFO), and the bookkeeping after the server accepted a
// batch. A session actor runs, per batch:
//
//   auto cached = get_cached_request(db, config, scope);  // resend it first after a crash
//   auto window = next_batch(db, config, scope, batch_size); // (when nothing is cached)
//   ...build the UploadRequest from window.rows...
//   put_cached_request(db, config, scope, {json, ..., window.last_sequence});
//   ...send; on success:
//   commit_uploaded_batch(db, config, scope, window.last_sequence, answer.server_blob);
//   (OTA: apply_upload_acks / apply_upload_answer from download_batch.hpp, inside the
//    same outer db::transaction when both must land together)
//   ...on d.error "true": clear_cached_request(db, config, scope).
//
// Failures throw sync_exception: 7030 for an unknown scope, 7026 for missing meta
// rows, 7019 for a failed statement.

#include "persistence/sqlite.hpp"
#include "persistence/sync_config.hpp"
#include "transport/protocol_codec.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mxsync::syncdb {

/// Changes of one sync object in a window (uploadcontext objectlevelinfo).
struct change_counts {
  std::int64_t inserted = 0;
  std::int64_t updated = 0;
  std::int64_t deleted = 0;
  std::int64_t total() const noexcept { return inserted + updated + deleted; }
  friend bool operator==(const change_counts&, const change_counts&) = default;
};

/// One upload batch.
struct upload_window {
  /// Grouped per table in ScopeTables order, by replay sequence inside a table.
  std::vector<transport::upload_row> rows;
  std::int64_t first_sequence = 0; ///< smallest replay sequence in rows (0 when empty)
  std::int64_t last_sequence = 0;  ///< the window's upper bound: uploadlimit
  std::int64_t upload_sequence = 0; ///< the scope's versionnumber: SequenceNumber
  change_counts totals;
  /// Per object in ScopeTables order; objects without rows are left out.
  std::vector<std::pair<std::string, change_counts>> per_object;
  /// Pending rows remain after this window: moreChangesAvailable.
  bool more_pending = false;
  bool empty() const noexcept { return rows.empty(); }
};

/// The next window of the scope's uploadable history rows: changetype not like '9%',
/// versionnumber = the scope's current upload sequence number, replay sequence >
/// `after_sequence`. The window is the smallest contiguous replay-sequence range,
/// across all the scope's tables, holding `batch_size` rows (all remaining rows when
/// fewer remain; batch_size 0 = no limit). Every history column is sent (NULL as
/// monostate); konysynchashsum only when known.
upload_window next_batch(db::connection& db, const sync_config& config, const std::string& scope,
                         std::size_t batch_size, std::int64_t after_sequence = 0);

/// The row of konysyncPENDINGUPLOADREQUESTINFO: the request as it was sent.
struct cached_upload_request {
  std::string upload_request;    ///< the exact UploadRequest JSON text
  std::string object_level_info; ///< JSON text of the uploadcontext objectlevelinfo
  change_counts session_counts;  ///< insertcount/updatecount/deletecount (session so far)
  change_counts batch_counts;    ///< batchinsertcount/... of this batch
  std::int64_t upload_limit = 0; ///< the window's last replay sequence
  friend bool operator==(const cached_upload_request&, const cached_upload_request&) = default;
};

std::optional<cached_upload_request> get_cached_request(db::connection& db,
                                                        const sync_config& config,
                                                        const std::string& scope);
/// Replaces the scope's cached request.
void put_cached_request(db::connection& db, const sync_config& config, const std::string& scope,
                        const cached_upload_request& request);
void clear_cached_request(db::connection& db, const sync_config& config,
                          const std::string& scope);

/// After the server accepted the batch ending at `last_sequence`, in one transaction:
/// stores `server_blob` as the upload blob; moves history rows with replay sequence >
/// last_sequence at the current version to version+1 (and the main rows with such a
/// pending change), so they stay pending upload while the uploaded ones become pending
/// acknowledgement; increments the upload sequence number; clears the cached request.
/// Returns the new upload sequence number.
std::int64_t commit_uploaded_batch(db::connection& db, const sync_config& config,
                                   const std::string& scope, std::int64_t last_sequence,
                                   const std::string& server_blob);

namespace detail {
// Column values between SQLite and the wire types, shared by the bookkeeping files.
transport::column_value read_column_value(const db::statement& stmt, int column);
void bind_column_value(db::statement& stmt, int index, const transport::column_value& value);
} // namespace detail

} // namespace mxsync::syncdb
