#pragma once
// Chunked download payloads on the device (docs/protocol.md 1.6): every chunk received is
// stored in konysyncCHUNKDATA (chunkid = chunk number, 1-based) and the payload's
// facts in konysyncCHUNKMETAINFO, so that a payload interrupted by a crash or a
// stopped session resumes with the chunks still missing.
//
// Payload life cycle: begin_payload -> store_chunk (any order, re-storing a chunk
// replaces it) -> load_chunks / missing_chunks -> the batch is assembled and applied
// -> finish_payload (chunk data dropped, the payload id kept to be sent once as
// deletechunkpayloadid; call it inside the batch's transaction) -> clear_payload
// after that download request succeeded.
//
// Failures throw sync_exception 7024 (chunking) with the SQLite message in errorInfo.

#include "persistence/sqlite.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mxsync::syncdb {

struct chunk_payload {
  std::string payload_id;
  std::uint32_t chunk_count = 0;
  std::string checksum; ///< chunkhashsum: the sha256 the server announced
  bool finished = false; ///< applied; only waiting to be acknowledged to the server
  friend bool operator==(const chunk_payload&, const chunk_payload&) = default;
};

/// Records (or replaces) the payload's meta row; chunks already stored are kept when
/// the payload id is the same. Other unfinished payloads of the scope are dropped (the
/// server moved on: their chunks can never complete); finished ones still wait for
/// their acknowledgement.
void begin_payload(db::connection& db, const std::string& scope, const std::string& payload_id,
                   std::uint32_t chunk_count, const std::string& checksum);
/// Stores chunk `chunk_number` (1-based) of the payload.
void store_chunk(db::connection& db, const std::string& scope, const std::string& payload_id,
                 std::uint32_t chunk_number, const std::string& data);

std::optional<chunk_payload> find_payload(db::connection& db, const std::string& scope,
                                          const std::string& payload_id);
/// The scope's unfinished payload (to resume), if any.
std::optional<chunk_payload> unfinished_payload(db::connection& db, const std::string& scope);
/// The scope's finished payload to send as deletechunkpayloadid, if any.
std::optional<std::string> payload_to_acknowledge(db::connection& db, const std::string& scope);

/// Every stored chunk of the payload, keyed by chunk number.
std::map<std::uint32_t, std::string> load_chunks(db::connection& db, const std::string& scope,
                                                 const std::string& payload_id);
/// Chunk numbers 1..chunk_count not stored yet, ascending.
std::vector<std::uint32_t> missing_chunks(db::connection& db, const std::string& scope,
                                          const std::string& payload_id);

/// Drops the chunk data and marks the payload finished (to be acknowledged).
void finish_payload(db::connection& db, const std::string& scope, const std::string& payload_id);
/// Removes the payload's chunks and meta row.
void clear_payload(db::connection& db, const std::string& scope, const std::string& payload_id);

} // namespace mxsync::syncdb
