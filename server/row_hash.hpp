#pragma once
// konysynchashsum: the server's fingerprint of a row. The device stores it and
// sends it back with every change, and a difference to the server's current
// value is a conflict (docs/protocol.md 5). Its algorithm is server-defined; ours is
// the lowercase hex SHA-256 of the JSON array of the row's normalized column
// values in config column order (absent columns count as null).

#include "persistence/sync_config.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace mxsync::server {

std::string row_hashsum(const table_def& table, const nlohmann::json& values);

} // namespace mxsync::server
