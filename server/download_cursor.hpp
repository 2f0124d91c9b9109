#pragma once
// The serverblob (sent back as tickcount): an opaque cursor into the store's
// change sequence. Text form, dot-separated:
//
//   download:  "d1.<store tag>.<last>.<horizon>.<remaining>.<acked>"
//   getAllPKs: "p1.<store tag>.<table index>.<hex of the last key's JSON array>"
//   upload:    "u1.<store tag>.<sequence>"  (only echoed by clients, never read)
//
// <last> is the change sequence of the last row delivered: the next batch starts
// strictly after it. Rows changed while a client pages get new, higher
// sequences, so they are never lost, and a cursor only moves forward, so it
// cannot loop. <horizon>/<remaining> remember how many matching rows were left
// up to the sequence <horizon> when the blob was made; they only feed the
// pendingBatches estimate, so the next batch need not count the whole rest
// again. <acked> is the id of the last queued persistent-strategy message
// delivered with the batch: a client sends a blob only after committing its
// batch, so seeing it confirms those messages. "" and the client's own "0,0"
// mean "from the start"; a blob with another store tag (store recreated)
// restarts from the beginning as well.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxsync::server {

struct download_cursor {
  std::string store_tag;
  std::int64_t last_sequence = 0;
  std::int64_t horizon = 0;   ///< 0: no estimate yet
  std::int64_t remaining = 0; ///< matching rows in (last_sequence, horizon]
  std::int64_t acked_message = 0;

  std::string encode() const;
  /// nullopt for text that is not a download cursor; a default cursor for the start.
  static std::optional<download_cursor> decode(std::string_view text);
};

/// getAllPKs pages in primary-key order: the position is the last key sent.
struct pk_cursor {
  std::string store_tag;
  std::int64_t table_index = 0;
  nlohmann::json last_key; ///< array of key values; null = the table's first row

  std::string encode() const;
  static std::optional<pk_cursor> decode(std::string_view text);
};

std::string upload_blob(const std::string& store_tag, std::int64_t sequence);

} // namespace mxsync::server
