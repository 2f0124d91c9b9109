#pragma once
// The SQLite store: one database file in WAL mode. Writes go through one write
// connection under a mutex (one transaction per write()); reads use a pool of
// read connections, each read() a snapshot of its own, so downloads run in
// parallel with each other and with writes.
//
// Schema (all names prefixed to stay clear of config names):
//   mxdata_<Object>   the config's columns + mxsync_seq (unique index: keyset
//                     paging of downloads), mxsync_changed_at, mxsync_deleted
//                     (tombstone), mxsync_hashsum, mxsync_owner and
//                     mxsync_origin_client (the change_origin of the last
//                     change); primary key = the object's Pk_Columns
//   mxsync_devices    (user, device_id) -> instance_id, registered_seq
//   mxsync_uploads    (client, scope, SequenceNumber) -> stored upload answer
//                     (kept 30 days)
//   mxsync_messages   persistent-strategy acks and upload errors per client
//   mxsync_key_map    (client, object, temporary key) -> server key
//   mxsync_chunks     chunked download payloads
//   mxsync_meta       the store tag and the token counter
// A file is used by one process at a time (sequences are handed out in memory).
// A store file of an earlier version is migrated on open: columns added since
// (mxsync_origin_client, registered_seq) are added to its tables.

#include "persistence/sqlite.hpp"
#include "server/store.hpp"

#include <map>
#include <mutex>

namespace mxsync::server {

class sqlite_store final : public store {
public:
  /// Milliseconds since the epoch; replaceable so tests can make rows share
  /// change times on purpose.
  using clock_function = std::function<std::int64_t()>;

  /// Opens or creates the database at `path` (a file; not ":memory:") and
  /// creates or extends the tables of every object in `config`.
  sqlite_store(const sync_config& config, const std::string& path, clock_function clock = {});
  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  std::string register_device(const std::string& user, const std::string& device_id,
                              const nlohmann::json& device_info) override;
  std::string tag() const override { return tag_; }
  std::string durability() override;
  std::unique_ptr<store_reader> read() override;
  void write(const std::function<void(store_writer&)>& work) override;
  void index_column(const table_def& table, const std::string& column) override;
  void save_payload(const std::string& payload_id, const std::string& user,
                    const std::vector<std::string>& chunks, std::int64_t ttl_seconds) override;
  void delete_payload(const std::string& user, const std::string& payload_id) override;

  const std::string& path() const noexcept { return path_; }

  /// SQL text per object, built once (public for the reader/writer classes).
  struct table_sql {
    std::string name;          ///< quoted mxdata_<Object>
    std::string select_list;   ///< meta columns, then config columns in order
    std::string key_condition; ///< "pk1" = ? AND ...
    std::string upsert;
    std::string remove;
    std::string touch;
    std::string find;
  };
  const table_sql& sql_for(const table_def& table) const;

private:
  friend class sqlite_writer;
  friend class sqlite_reader;

  void create_schema();
  std::unique_ptr<db::connection> acquire_reader();
  void release_reader(std::unique_ptr<db::connection> reader);
  std::int64_t next_sequence();
  std::int64_t next_change_time();

  const sync_config& config_;
  std::string path_;
  std::string tag_;
  clock_function clock_;
  std::map<std::string, table_sql> tables_; ///< by object name

  std::mutex write_mutex_; ///< guards writer_ and the counters below
  db::connection writer_;
  std::int64_t last_sequence_ = 0;
  std::int64_t last_change_time_ = 0;

  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<db::connection>> idle_readers_;
};

} // namespace mxsync::server
