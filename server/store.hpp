#pragma once
// The storage behind the sync server, as an interface: everything sync_service
// needs, and nothing about SQL, so that a PostgreSQL store can follow the SQLite
// one (sqlite_store.hpp). Every object the config defines is kept as "rows with
// history metadata": a server change sequence (unique and increasing over the
// whole store), a change timestamp (non-decreasing along the sequence), the row's
// konysynchashsum, a tombstone flag for deletes and the origin of its last change
// (the user and device whose upload wrote it).
//
// Contract for implementations:
//  * write() runs its work as ONE serialized transaction: all or nothing, and no
//    two write() bodies overlap. Sequences grow in commit order, so every read
//    snapshot sees a prefix of the sequence (a download cursor can never skip).
//  * read() hands out a consistent snapshot; many may be alive on many threads.
//  * Values given to put() are already normalized (column_values.hpp) and the
//    hashsum already computed (row_hash.hpp); the store keeps them verbatim.

#include "persistence/sync_config.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mxsync::server {

/// Who made a change: the user and the client (device id) of the upload that
/// wrote it. `client` is empty when no device holds exactly this version already:
/// server-side writes (admin commands, demo data, a server-wins decision) and
/// uploads the server changed on their way in. Kept per (user, client), never
/// per client alone: one device id may serve several users.
struct change_origin {
  std::string user;
  std::string client;
};

/// One row of a sync object as the store holds it.
struct stored_row {
  std::int64_t sequence = 0;   ///< server change sequence of the last change
  std::int64_t changed_at = 0; ///< change time, ms since the epoch
  bool deleted = false;        ///< a tombstone: the row was deleted at `sequence`
  std::string hashsum;         ///< konysynchashsum of `values`
  change_origin origin;        ///< who made the last change
  nlohmann::json values;       ///< config column name -> stored value
};

/// The changes one device made itself, which its change downloads leave out: the
/// device already holds them (and the 2016 client library fails on re-applying
/// them). Only changes after `after_sequence` (the device's last registration)
/// count: a device registers again after a reset, and then needs its earlier
/// uploads sent like any other row.
struct own_changes {
  change_origin device;
  std::int64_t after_sequence = 0;
};

/// A changed row of one table, as a change stream yields it.
struct row_change {
  const table_def* table = nullptr;
  stored_row row;
};

enum class filter_op { equal, not_equal, in, like, between, less, less_equal, greater, greater_equal };

/// One condition on a column; `values` holds 1 value (2 for between, n for in).
struct column_filter {
  std::string column;
  filter_op op = filter_op::equal;
  std::vector<nlohmann::json> values;
};

/// The rows of one table a request may see: every filter must hold.
struct table_selection {
  const table_def* table = nullptr;
  std::vector<column_filter> filters;
};

/// A message queued for one device (user, client) of one scope (persistent strategy): an
/// ack row or an upload error, delivered with later downloads.
struct queued_message {
  std::int64_t id = 0; ///< increasing, never reused
  std::string kind;    ///< "ack" or "error"
  nlohmann::json body;
};

/// The answer given to one upload, kept so that a repeated request (a retry after a lost
/// answer) is answered the same and applied once. `request_digest` tells a repeat from
/// a new upload that reuses the sequence number (a device whose scope was reset).
struct stored_upload {
  std::string request_digest; ///< SHA-256 of the request's d.results
  std::string answer;         ///< the answer's JSON text
};

/// Yields changed rows in sequence order, lazily.
class change_stream {
public:
  virtual ~change_stream() = default;
  /// The next change, or nullopt at the end.
  virtual std::optional<row_change> next() = 0;
};

/// A consistent read snapshot.
class store_reader {
public:
  virtual ~store_reader() = default;

  /// The highest sequence this snapshot sees (0 when empty).
  virtual std::int64_t last_sequence() = 0;
  /// Rows of the selected tables changed after `after_sequence`, in sequence
  /// order across the tables; tombstones only when `include_deleted`; without
  /// the changes of `leave_out` when given.
  virtual std::unique_ptr<change_stream> changes_after(const std::vector<table_selection>& tables,
                                                       std::int64_t after_sequence,
                                                       bool include_deleted,
                                                       const std::optional<own_changes>& leave_out) = 0;
  /// How many rows changes_after would yield with sequence <= `up_to_sequence`.
  virtual std::int64_t count_changes(const std::vector<table_selection>& tables,
                                     std::int64_t after_sequence, std::int64_t up_to_sequence,
                                     bool include_deleted,
                                     const std::optional<own_changes>& leave_out) = 0;
  /// The last sequence handed out when (user, device) last registered; 0 if it never did.
  virtual std::int64_t registration_sequence(const std::string& user, const std::string& device_id) = 0;
  /// Live rows of one table in primary-key order, after `after_key` (an array
  /// of the key values in Pk_Columns order; null = from the first), at most
  /// `limit` (reconciliation's getAllPKs: a row can neither repeat nor be
  /// skipped while others change).
  virtual std::vector<stored_row> rows_after_key(const table_selection& table,
                                                 const nlohmann::json& after_key, std::size_t limit) = 0;
  /// The row (or tombstone) with that primary key; `key` maps every key column.
  virtual std::optional<stored_row> find(const table_def& table, const nlohmann::json& key) = 0;
  /// Number of rows of a table (tombstones only when `include_deleted`).
  virtual std::int64_t count_rows(const table_def& table, bool include_deleted) = 0;

  /// Queued messages for (device, scope) with id > after_id, oldest first.
  virtual std::vector<queued_message> pending_messages(const change_origin& device,
                                                       const std::string& scope,
                                                       std::int64_t after_id, std::size_t limit) = 0;
  /// Whether any message with id <= up_to_id is still queued for (device, scope).
  virtual bool has_messages_up_to(const change_origin& device, const std::string& scope,
                                  std::int64_t up_to_id) = 0;
  /// One chunk (1-based) of a payload stored for `user`, or nullopt if unknown, expired
  /// or made for another user.
  virtual std::optional<std::string> payload_chunk(const std::string& user,
                                                   const std::string& payload_id,
                                                   std::int64_t chunk_number) = 0;
};

/// The body of one write transaction.
class store_writer {
public:
  virtual ~store_writer() = default;

  virtual std::optional<stored_row> find(const table_def& table, const nlohmann::json& key) = 0;
  /// Inserts or replaces the row (a tombstone comes back to life); gives it a new
  /// sequence and change time, which are returned.
  virtual std::int64_t put(const table_def& table, const nlohmann::json& values,
                           const std::string& hashsum, const change_origin& origin) = 0;
  /// Turns the row into a tombstone with a new sequence; false if there is no
  /// live row with that key.
  virtual bool remove(const table_def& table, const nlohmann::json& key, const change_origin& origin) = 0;
  /// Gives an existing row or tombstone a new sequence, unchanged otherwise, so
  /// that clients download it again, every device (its origin client is
  /// cleared: the server decided on this version); false if absent.
  virtual bool touch(const table_def& table, const nlohmann::json& key) = 0;
  /// 1 + the largest value of an integer key column (tombstones included).
  virtual std::int64_t next_integer_key(const table_def& table, const column_def& column) = 0;
  /// A string unique in this store forever (for generated string keys, payload ids).
  virtual std::string unique_token() = 0;
  /// Runs `step` inside a savepoint: its writes are undone if it throws (the
  /// exception propagates); the surrounding transaction goes on.
  virtual void savepoint(const std::function<void()>& step) = 0;

  /// The stored answer to an upload (device, scope, SequenceNumber), if any, with the
  /// digest of the request it answered.
  virtual std::optional<stored_upload> upload_answer(const change_origin& device,
                                                     const std::string& scope,
                                                     const std::string& sequence_number) = 0;
  virtual void save_upload_answer(const change_origin& device, const std::string& scope,
                                  const std::string& sequence_number, const stored_upload& answer) = 0;

  virtual std::int64_t enqueue_message(const change_origin& device, const std::string& scope,
                                       const std::string& kind, const nlohmann::json& body) = 0;
  /// Drops the messages the device has confirmed (id <= up_to_id).
  virtual void release_messages(const change_origin& device, const std::string& scope,
                                std::int64_t up_to_id) = 0;

  /// Server key given earlier to a device's (negative) autogenerated key.
  virtual std::optional<nlohmann::json> mapped_key(const change_origin& device, const std::string& table,
                                                   const nlohmann::json& client_key) = 0;
  virtual void map_key(const change_origin& device, const std::string& table,
                       const nlohmann::json& client_key, const nlohmann::json& server_key) = 0;
};

class store {
public:
  virtual ~store() = default;

  /// The instance id of (user, device), created on first registration. Every
  /// registration also records the current sequence (registration_sequence): the
  /// client library registers on a fresh device database only.
  virtual std::string register_device(const std::string& user, const std::string& device_id,
                                      const nlohmann::json& device_info) = 0;
  /// Identifies this store's data; a new store gets a new tag, so cursors
  /// issued by an older store are recognized and restarted.
  virtual std::string tag() const = 0;
  /// What a committed write survives, in words for the start-up log ("WAL, synchronous
  /// FULL: ..."). An acknowledged upload is the only copy of the device's change once the
  /// device drops it: it must survive a power loss, not only a crash.
  virtual std::string durability() = 0;

  virtual std::unique_ptr<store_reader> read() = 0;
  /// Runs `work` as one serialized transaction; commits if it returns, rolls
  /// back and rethrows if it throws.
  virtual void write(const std::function<void(store_writer&)>& work) = 0;

  /// Makes filtering on `column` in change order fast (the server's owner
  /// filter: "this user's rows after sequence n"). Idempotent.
  virtual void index_column(const table_def& table, const std::string& column) = 0;

  /// Keeps the chunks of a chunked download answer; expired payloads
  /// (older than ttl_seconds) are dropped at the same time.
  virtual void save_payload(const std::string& payload_id, const std::string& user,
                            const std::vector<std::string>& chunks, std::int64_t ttl_seconds) = 0;
  /// Drops a payload of `user` (another user's payload id is ignored).
  virtual void delete_payload(const std::string& user, const std::string& payload_id) = 0;
};

} // namespace mxsync::server
