#pragma once
// Changing the server's data from outside a sync: loading a data set, upserting
// and deleting rows (`mxsync-server admin ...`), and generating a demo data set
// (`mxsync-server generate`). Writes go through the store like a client upload,
// so they get new change sequences and the next download returns them.

#include "persistence/sync_config.hpp"
#include "server/store.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace mxsync::server {

class admin_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A data set: {"<Table>": [ {<column>: value, ...}, ... ], ...}. A bare array of
/// rows is accepted when `table` names the table; {"rows": [...]} likewise.
/// Returns {"<Table>": rows} with the table names as the config spells them.
nlohmann::json normalize_data_set(const sync_config& config, const nlohmann::json& document,
                                  const std::string& table = {});

enum class admin_write { load, upsert, remove };

/// Applies a data set. load: every row replaces the stored one (missing columns
/// become null); upsert: given columns are merged into an existing row; remove:
/// each row names a key, whose row becomes a tombstone. One transaction per
/// `batch_rows` rows. Returns the number of rows written (for remove: deleted).
std::size_t apply_data_set(store& data, const sync_config& config, const nlohmann::json& data_set,
                           admin_write mode, std::size_t batch_rows = 1000);

/// A deterministic demo data set: `rows_per_table` rows for every table of the
/// config (or only `table`), with values that fit each column's type and Length.
nlohmann::json generate_data_set(const sync_config& config, std::size_t rows_per_table,
                                 const std::string& table = {}, std::uint64_t seed = 1);

} // namespace mxsync::server
