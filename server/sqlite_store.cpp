#include "server/sqlite_store.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <random>
#include <set>

namespace mxsync::server {

namespace {

using json = nlohmann::json;
using db::quote_identifier;

constexpr std::size_t meta_columns = 6; // seq, changed_at, deleted, hashsum, owner, origin_client
constexpr std::size_t max_idle_readers = 32;
/// Stored upload answers only serve re-sent requests (a device crashed before
/// it saw the answer); a month is far longer than any device waits to re-send.
constexpr std::int64_t upload_answer_ttl_ms = 30LL * 24 * 3600 * 1000;

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string sql_type(column_type type) {
  if (type == column_type::boolean || is_integral(type))
    return "INTEGER";
  if (type == column_type::float_ || type == column_type::double_ || type == column_type::big_decimal)
    return "REAL";
  return "TEXT";
}

std::string random_hex(std::size_t length) {
  std::random_device entropy;
  std::mt19937_64 generator{(static_cast<std::uint64_t>(entropy()) << 32) ^ entropy() ^
                            static_cast<std::uint64_t>(now_ms())};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < length; ++i)
    out.push_back(digits[generator() % 16]);
  return out;
}

/// The `client` column of mxsync_uploads, mxsync_messages and mxsync_key_map: the device
/// as (authenticated user, clientid), joined by the ASCII unit separator. A clientid alone
/// is only what the device claims, and devices of two users may share one.
constexpr char device_key_separator = '\x1f';

std::string device_key(const change_origin& device) {
  return device.user + device_key_separator + device.client;
}

/// Schema migration: adds `column` to a table made by an earlier version.
void add_missing_column(db::connection& conn, const std::string& table, const std::string& column,
                        const std::string& declaration) {
  for (const auto& info : conn.query("PRAGMA table_info(" + table + ")"))
    if (info.at("name").get<std::string>() == column)
      return;
  conn.exec("ALTER TABLE " + table + " ADD COLUMN " + quote_identifier(column) + " " + declaration);
}

/// The key columns' values of `key`, in Pk_Columns order; throws if one is missing.
std::vector<json> key_values(const table_def& table, const json& key) {
  std::vector<json> out;
  for (const auto& column : table.primary_key) {
    auto it = key.find(column);
    if (it == key.end() || it->is_null())
      throw std::invalid_argument("primary key column '" + column + "' of " + table.name +
                                  " has no value");
    out.push_back(*it);
  }
  return out;
}

stored_row read_row(const db::statement& stmt, const table_def& table) {
  stored_row row;
  row.sequence = stmt.column_int64(0);
  row.changed_at = stmt.column_int64(1);
  row.deleted = stmt.column_int64(2) != 0;
  row.hashsum = stmt.column_text(3);
  row.origin.user = stmt.column_text(4);
  row.origin.client = stmt.column_text(5);
  row.values = json::object();
  for (std::size_t i = 0; i < table.columns.size(); ++i)
    row.values[table.columns[i].name] = stmt.column_json(static_cast<int>(meta_columns + i));
  return row;
}

std::optional<stored_row> find_in(db::connection& conn, const sqlite_store::table_sql& sql,
                                  const table_def& table, const json& key) {
  auto& stmt = conn.cached(sql.find);
  stmt.bind_all(key_values(table, key));
  std::optional<stored_row> out;
  if (stmt.step())
    out = read_row(stmt, table);
  stmt.reset();
  return out;
}

/// " AND <condition>" for each filter, with the values to bind in order.
std::string filter_sql(const std::vector<column_filter>& filters, std::vector<json>& binds) {
  std::string out;
  for (const auto& f : filters) {
    auto column = quote_identifier(f.column);
    switch (f.op) {
      case filter_op::equal:
        out += " AND " + column + " IS ?";
        break;
      case filter_op::not_equal:
        out += " AND " + column + " IS NOT ?";
        break;
      case filter_op::like:
        out += " AND " + column + " LIKE ?";
        break;
      case filter_op::between:
        out += " AND " + column + " BETWEEN ? AND ?";
        break;
      case filter_op::less:
        out += " AND " + column + " < ?";
        break;
      case filter_op::less_equal:
        out += " AND " + column + " <= ?";
        break;
      case filter_op::greater:
        out += " AND " + column + " > ?";
        break;
      case filter_op::greater_equal:
        out += " AND " + column + " >= ?";
        break;
      case filter_op::in: {
        out += " AND " + column + " IN (";
        for (std::size_t i = 0; i < f.values.size(); ++i)
          out += i ? ",?" : "?";
        out += ")";
        break;
      }
    }
    binds.insert(binds.end(), f.values.begin(), f.values.end());
  }
  return out;
}

/// " AND NOT <one of the device's own changes>", with its values to bind.
std::string leave_out_sql(const std::optional<own_changes>& leave_out, std::vector<json>& binds) {
  if (!leave_out)
    return {};
  binds.push_back(leave_out->after_sequence);
  binds.push_back(leave_out->device.user);
  binds.push_back(leave_out->device.client);
  return " AND NOT (mxsync_seq > ? AND mxsync_owner IS ? AND mxsync_origin_client IS ?)";
}

} // namespace

// -- reader --------------------------------------------------------------------

/// Merges one ordered statement per table into one stream ordered by sequence.
class sqlite_change_stream final : public change_stream {
public:
  struct source {
    const table_def* table;
    db::statement* stmt;
    std::optional<row_change> current;
  };

  explicit sqlite_change_stream(std::vector<source> sources) : sources_(std::move(sources)) {
    for (auto& s : sources_)
      advance(s);
  }
  ~sqlite_change_stream() override {
    for (auto& s : sources_)
      s.stmt->reset();
  }

  std::optional<row_change> next() override {
    source* best = nullptr;
    for (auto& s : sources_)
      if (s.current && (!best || s.current->row.sequence < best->current->row.sequence))
        best = &s;
    if (!best)
      return std::nullopt;
    auto out = std::move(best->current);
    advance(*best);
    return out;
  }

private:
  static void advance(source& s) {
    if (s.stmt->step())
      s.current = row_change{s.table, read_row(*s.stmt, *s.table)};
    else
      s.current.reset();
  }
  std::vector<source> sources_;
};

class sqlite_reader final : public store_reader {
public:
  sqlite_reader(sqlite_store& owner, std::unique_ptr<db::connection> conn)
    : owner_(owner), conn_(std::move(conn)) {
    conn_->exec("BEGIN");
  }
  ~sqlite_reader() override {
    try {
      conn_->exec("COMMIT");
    } catch (...) {
      try {
        conn_->exec("ROLLBACK");
      } catch (...) {
      }
    }
    owner_.release_reader(std::move(conn_));
  }

  std::int64_t last_sequence() override {
    std::int64_t last = 0;
    for (const auto& [name, sql] : owner_.tables_) {
      auto& stmt = conn_->cached("SELECT MAX(mxsync_seq) FROM " + sql.name);
      if (stmt.step() && !stmt.is_null(0))
        last = std::max(last, stmt.column_int64(0));
      stmt.reset();
    }
    return last;
  }

  std::unique_ptr<change_stream> changes_after(const std::vector<table_selection>& tables,
                                               std::int64_t after_sequence, bool include_deleted,
                                               const std::optional<own_changes>& leave_out) override {
    std::vector<sqlite_change_stream::source> sources;
    for (const auto& selection : tables) {
      const auto& sql = owner_.sql_for(*selection.table);
      std::vector<json> binds{after_sequence};
      std::string text = "SELECT " + sql.select_list + " FROM " + sql.name + " WHERE mxsync_seq > ?";
      if (!include_deleted)
        text += " AND mxsync_deleted = 0";
      text += filter_sql(selection.filters, binds);
      text += leave_out_sql(leave_out, binds);
      text += " ORDER BY mxsync_seq";
      auto& stmt = conn_->cached(text);
      stmt.bind_all(binds);
      sources.push_back({selection.table, &stmt, std::nullopt});
    }
    return std::make_unique<sqlite_change_stream>(std::move(sources));
  }

  std::int64_t count_changes(const std::vector<table_selection>& tables, std::int64_t after_sequence,
                             std::int64_t up_to_sequence, bool include_deleted,
                             const std::optional<own_changes>& leave_out) override {
    std::int64_t total = 0;
    if (up_to_sequence <= after_sequence)
      return 0;
    for (const auto& selection : tables) {
      const auto& sql = owner_.sql_for(*selection.table);
      std::vector<json> binds{after_sequence, up_to_sequence};
      std::string text = "SELECT COUNT(*) FROM " + sql.name +
                         " WHERE mxsync_seq > ? AND mxsync_seq <= ?";
      if (!include_deleted)
        text += " AND mxsync_deleted = 0";
      text += filter_sql(selection.filters, binds);
      text += leave_out_sql(leave_out, binds);
      auto& stmt = conn_->cached(text);
      stmt.bind_all(binds);
      if (stmt.step())
        total += stmt.column_int64(0);
      stmt.reset();
    }
    return total;
  }

  std::int64_t registration_sequence(const std::string& user, const std::string& device_id) override {
    auto& stmt = conn_->cached(
      "SELECT registered_seq FROM mxsync_devices WHERE user = ? AND device_id = ?");
    stmt.bind(1, user).bind(2, device_id);
    std::int64_t out = stmt.step() && !stmt.is_null(0) ? stmt.column_int64(0) : 0;
    stmt.reset();
    return out;
  }

  std::optional<stored_row> find(const table_def& table, const json& key) override {
    return find_in(*conn_, owner_.sql_for(table), table, key);
  }

  std::vector<stored_row> rows_after_key(const table_selection& selection, const json& after_key,
                                         std::size_t limit) override {
    const auto& table = *selection.table;
    const auto& sql = owner_.sql_for(table);
    std::string key_list, marks;
    for (const auto& column : table.primary_key) {
      key_list += (key_list.empty() ? "" : ", ") + quote_identifier(column);
      marks += marks.empty() ? "?" : ", ?";
    }
    std::vector<json> binds;
    std::string text = "SELECT " + sql.select_list + " FROM " + sql.name + " WHERE mxsync_deleted = 0";
    if (after_key.is_array()) {
      if (after_key.size() != table.primary_key.size())
        throw std::invalid_argument("a key of " + table.name + " has the wrong number of values");
      text += " AND (" + key_list + ") > (" + marks + ")";
      binds.insert(binds.end(), after_key.begin(), after_key.end());
    }
    text += filter_sql(selection.filters, binds);
    text += " ORDER BY " + key_list + " LIMIT ?";
    binds.push_back(static_cast<std::int64_t>(limit));
    auto& stmt = conn_->cached(text);
    stmt.bind_all(binds);
    std::vector<stored_row> out;
    while (stmt.step())
      out.push_back(read_row(stmt, table));
    stmt.reset();
    return out;
  }

  std::int64_t count_rows(const table_def& table, bool include_deleted) override {
    const auto& sql = owner_.sql_for(table);
    auto& stmt = conn_->cached("SELECT COUNT(*) FROM " + sql.name +
                               (include_deleted ? "" : " WHERE mxsync_deleted = 0"));
    std::int64_t n = stmt.step() ? stmt.column_int64(0) : 0;
    stmt.reset();
    return n;
  }

  std::vector<queued_message> pending_messages(const change_origin& device, const std::string& scope,
                                               std::int64_t after_id, std::size_t limit) override {
    auto& stmt = conn_->cached("SELECT id, kind, body FROM mxsync_messages WHERE client = ? AND "
                               "scope = ? AND id > ? ORDER BY id LIMIT ?");
    stmt.bind(1, device_key(device)).bind(2, scope).bind(3, after_id).bind(4, static_cast<std::int64_t>(limit));
    std::vector<queued_message> out;
    while (stmt.step())
      out.push_back({stmt.column_int64(0), stmt.column_text(1), json::parse(stmt.column_text(2))});
    stmt.reset();
    return out;
  }

  bool has_messages_up_to(const change_origin& device, const std::string& scope,
                          std::int64_t up_to_id) override {
    auto& stmt = conn_->cached(
      "SELECT 1 FROM mxsync_messages WHERE client = ? AND scope = ? AND id <= ? LIMIT 1");
    stmt.bind(1, device_key(device)).bind(2, scope).bind(3, up_to_id);
    bool found = stmt.step();
    stmt.reset();
    return found;
  }

  std::optional<std::string> payload_chunk(const std::string& user, const std::string& payload_id,
                                           std::int64_t chunk_number) override {
    auto& stmt = conn_->cached("SELECT data FROM mxsync_chunks WHERE payload_id = ? AND "
                               "chunk_number = ? AND client = ?");
    stmt.bind(1, payload_id).bind(2, chunk_number).bind(3, user);
    std::optional<std::string> out;
    if (stmt.step())
      out = stmt.column_text(0);
    stmt.reset();
    return out;
  }

private:
  sqlite_store& owner_;
  std::unique_ptr<db::connection> conn_;
};

// -- writer --------------------------------------------------------------------

class sqlite_writer final : public store_writer {
public:
  explicit sqlite_writer(sqlite_store& owner) : owner_(owner), conn_(owner.writer_) {}

  std::optional<stored_row> find(const table_def& table, const json& key) override {
    return find_in(conn_, owner_.sql_for(table), table, key);
  }

  std::int64_t put(const table_def& table, const json& values, const std::string& hashsum,
                   const change_origin& origin) override {
    key_values(table, values); // refuses rows without a complete key
    auto& stmt = conn_.cached(owner_.sql_for(table).upsert);
    auto sequence = owner_.next_sequence();
    stmt.bind(1, sequence).bind(2, owner_.next_change_time()).bind(3, hashsum);
    stmt.bind(4, origin.user).bind(5, origin.client);
    int index = 6;
    for (const auto& column : table.columns) {
      auto it = values.find(column.name);
      stmt.bind(index++, it == values.end() ? json(nullptr) : *it);
    }
    stmt.run();
    stmt.reset();
    return sequence;
  }

  bool remove(const table_def& table, const json& key, const change_origin& origin) override {
    auto& stmt = conn_.cached(owner_.sql_for(table).remove);
    stmt.bind(1, owner_.next_sequence()).bind(2, owner_.next_change_time());
    stmt.bind(3, origin.user).bind(4, origin.client);
    stmt.bind_all(key_values(table, key), 5);
    stmt.run();
    stmt.reset();
    return conn_.changes() > 0;
  }

  bool touch(const table_def& table, const json& key) override {
    auto& stmt = conn_.cached(owner_.sql_for(table).touch);
    stmt.bind(1, owner_.next_sequence()).bind(2, owner_.next_change_time());
    stmt.bind_all(key_values(table, key), 3);
    stmt.run();
    stmt.reset();
    return conn_.changes() > 0;
  }

  std::int64_t next_integer_key(const table_def& table, const column_def& column) override {
    auto& stmt = conn_.cached("SELECT MAX(" + quote_identifier(column.name) + ") FROM " +
                              owner_.sql_for(table).name);
    std::int64_t largest = 0;
    if (stmt.step() && !stmt.is_null(0))
      largest = std::max<std::int64_t>(0, stmt.column_int64(0));
    stmt.reset();
    return largest + 1;
  }

  std::string unique_token() override {
    auto& stmt = conn_.cached(
      "UPDATE mxsync_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'token' RETURNING value");
    std::int64_t n = stmt.step() ? stmt.column_int64(0) : 0;
    stmt.reset();
    return owner_.tag_ + "-" + std::to_string(n);
  }

  void savepoint(const std::function<void()>& step) override {
    db::transaction nested{conn_};
    step();
    nested.commit();
  }

  std::optional<stored_upload> upload_answer(const change_origin& device, const std::string& scope,
                                             const std::string& sequence_number) override {
    auto& stmt = conn_.cached("SELECT request_digest, answer FROM mxsync_uploads WHERE client = ? "
                              "AND scope = ? AND sequence_number = ?");
    stmt.bind(1, device_key(device)).bind(2, scope).bind(3, sequence_number);
    std::optional<stored_upload> out;
    if (stmt.step())
      out = stored_upload{stmt.is_null(0) ? std::string{} : stmt.column_text(0), stmt.column_text(1)};
    stmt.reset();
    return out;
  }

  void save_upload_answer(const change_origin& device, const std::string& scope,
                          const std::string& sequence_number, const stored_upload& answer) override {
    auto& stmt = conn_.cached("INSERT OR REPLACE INTO mxsync_uploads (client, scope, "
                              "sequence_number, request_digest, answer, created_at) VALUES (?, ?, ?, "
                              "?, ?, ?)");
    stmt.bind(1, device_key(device)).bind(2, scope).bind(3, sequence_number);
    stmt.bind(4, answer.request_digest).bind(5, answer.answer).bind(6, now_ms());
    stmt.run();
    stmt.reset();
    auto& expire = conn_.cached("DELETE FROM mxsync_uploads WHERE created_at < ?");
    expire.bind(1, now_ms() - upload_answer_ttl_ms);
    expire.run();
    expire.reset();
  }

  std::int64_t enqueue_message(const change_origin& device, const std::string& scope,
                               const std::string& kind, const json& body) override {
    auto& stmt = conn_.cached(
      "INSERT INTO mxsync_messages (client, scope, kind, body) VALUES (?, ?, ?, ?)");
    stmt.bind(1, device_key(device)).bind(2, scope).bind(3, kind).bind(4, body.dump());
    stmt.run();
    stmt.reset();
    return conn_.last_insert_rowid();
  }

  void release_messages(const change_origin& device, const std::string& scope,
                        std::int64_t up_to_id) override {
    auto& stmt =
      conn_.cached("DELETE FROM mxsync_messages WHERE client = ? AND scope = ? AND id <= ?");
    stmt.bind(1, device_key(device)).bind(2, scope).bind(3, up_to_id);
    stmt.run();
    stmt.reset();
  }

  std::optional<json> mapped_key(const change_origin& device, const std::string& table,
                                 const json& client_key) override {
    auto& stmt = conn_.cached("SELECT server_key FROM mxsync_key_map WHERE client = ? AND "
                              "table_name = ? AND client_key = ?");
    stmt.bind(1, device_key(device)).bind(2, table).bind(3, client_key.dump());
    std::optional<json> out;
    if (stmt.step())
      out = json::parse(stmt.column_text(0));
    stmt.reset();
    return out;
  }

  void map_key(const change_origin& device, const std::string& table, const json& client_key,
               const json& server_key) override {
    auto& stmt = conn_.cached("INSERT OR REPLACE INTO mxsync_key_map (client, table_name, "
                              "client_key, server_key) VALUES (?, ?, ?, ?)");
    stmt.bind(1, device_key(device)).bind(2, table).bind(3, client_key.dump()).bind(4, server_key.dump());
    stmt.run();
    stmt.reset();
  }

private:
  sqlite_store& owner_;
  db::connection& conn_;
};

// -- store ---------------------------------------------------------------------

sqlite_store::sqlite_store(const sync_config& config, const std::string& path, clock_function clock)
  : config_(config), path_(path), clock_(clock ? std::move(clock) : clock_function{now_ms}) {
  if (path.empty() || path == ":memory:")
    throw std::invalid_argument("sqlite_store needs a database file (readers open it separately)");
  writer_ = db::connection{path};
  writer_.exec("PRAGMA journal_mode=WAL");
  // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss (not on
  // a crash), and those commits hold uploads the server has acknowledged and devices have
  // therefore stopped keeping as pending. The cost is one fsync of the WAL per commit.
  writer_.exec("PRAGMA synchronous=FULL");
  writer_.exec("PRAGMA cache_size=-65536");
  writer_.exec("PRAGMA wal_autocheckpoint=10000");
  create_schema();
}

sqlite_store::~sqlite_store() = default;

void sqlite_store::create_schema() {
  db::transaction txn{writer_};
  writer_.exec("CREATE TABLE IF NOT EXISTS mxsync_meta (key TEXT PRIMARY KEY, value TEXT)");
  writer_.exec("CREATE TABLE IF NOT EXISTS mxsync_devices (user TEXT NOT NULL, device_id TEXT NOT "
               "NULL, instance_id TEXT NOT NULL, info TEXT, registered_at INTEGER, registered_seq "
               "INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (user, device_id))");
  // Stores of the previous version: their devices count as registered at 0.
  add_missing_column(writer_, "mxsync_devices", "registered_seq", "INTEGER NOT NULL DEFAULT 0");
  writer_.exec("CREATE TABLE IF NOT EXISTS mxsync_uploads (client TEXT NOT NULL, scope TEXT NOT "
               "NULL, sequence_number TEXT NOT NULL, answer TEXT NOT NULL, created_at INTEGER, "
               "PRIMARY KEY (client, scope, sequence_number))");
  add_missing_column(writer_, "mxsync_uploads", "request_digest", "TEXT");
  writer_.exec("CREATE INDEX IF NOT EXISTS mxsync_uploads_by_age ON mxsync_uploads (created_at)");
  writer_.exec("CREATE TABLE IF NOT EXISTS mxsync_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, "
               "client TEXT NOT NULL, scope TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL)");
  writer_.exec("CREATE INDEX IF NOT EXISTS mxsync_messages_by_client ON mxsync_messages (client, "
               "scope, id)");
  writer_.exec("CREATE TABLE IF NOT EXISTS mxsync_key_map (client TEXT NOT NULL, table_name TEXT "
               "NOT NULL, client_key TEXT NOT NULL, server_key TEXT NOT NULL, PRIMARY KEY (client, "
               "table_name, client_key))");
  writer_.exec("CREATE TABLE IF NOT EXISTS mxsync_chunks (payload_id TEXT NOT NULL, chunk_number "
               "INTEGER NOT NULL, client TEXT, data TEXT NOT NULL, created_at INTEGER NOT NULL, "
               "PRIMARY KEY (payload_id, chunk_number))");
  // Stores of the previous version keyed messages and key mappings by the bare clientid:
  // such rows go to the one user who registered that device id (rows of an id several
  // users registered cannot be told apart and stay unreachable; stored upload answers
  // simply expire).
  for (const char* table : {"mxsync_messages", "mxsync_key_map"})
    writer_.exec(std::string{"UPDATE OR IGNORE "} + table +
                 " SET client = (SELECT d.user || char(31) || d.device_id FROM mxsync_devices d "
                 "WHERE d.device_id = client) WHERE instr(client, char(31)) = 0 AND (SELECT "
                 "COUNT(*) FROM mxsync_devices d WHERE d.device_id = client) = 1");
  writer_.exec("INSERT OR IGNORE INTO mxsync_meta (key, value) VALUES ('token', '0')");
  writer_.query("INSERT OR IGNORE INTO mxsync_meta (key, value) VALUES ('tag', ?)",
                {random_hex(10)});
  tag_ = writer_.query("SELECT value FROM mxsync_meta WHERE key = 'tag'").at(0).at("value");

  std::set<std::string> seen;
  for (const auto& scope : config_.scopes) {
    for (const auto& table : scope.tables) {
      if (!seen.insert(table.name).second)
        continue; // the same object in two scopes shares its data
      table_sql sql;
      sql.name = quote_identifier("mxdata_" + table.name);
      std::string columns_ddl, column_list, placeholders, updates;
      sql.select_list =
        "mxsync_seq, mxsync_changed_at, mxsync_deleted, mxsync_hashsum, mxsync_owner, mxsync_origin_client";
      for (const auto& column : table.columns) {
        auto name = quote_identifier(column.name);
        columns_ddl += ", " + name + " " + sql_type(column.type);
        column_list += ", " + name;
        placeholders += ", ?";
        updates += ", " + name + " = excluded." + name;
      }
      sql.select_list += column_list;
      std::string key_list;
      for (const auto& key : table.primary_key) {
        key_list += (key_list.empty() ? "" : ", ") + quote_identifier(key);
        sql.key_condition += (sql.key_condition.empty() ? "" : " AND ") + quote_identifier(key) + " = ?";
      }
      writer_.exec("CREATE TABLE IF NOT EXISTS " + sql.name +
                   " (mxsync_seq INTEGER NOT NULL, mxsync_changed_at INTEGER NOT NULL, "
                   "mxsync_deleted INTEGER NOT NULL DEFAULT 0, mxsync_hashsum TEXT, mxsync_owner TEXT, "
                   "mxsync_origin_client TEXT" + columns_ddl + ", PRIMARY KEY (" + key_list + "))");
      // A table of the previous version: its rows have no origin client, so they
      // go to every device, as they did then.
      add_missing_column(writer_, sql.name, "mxsync_origin_client", "TEXT");
      // A config that gained columns: add them to an existing table.
      std::set<std::string> existing;
      for (const auto& info : writer_.query("PRAGMA table_info(" + sql.name + ")"))
        existing.insert(info.at("name").get<std::string>());
      for (const auto& column : table.columns)
        if (!existing.count(column.name))
          writer_.exec("ALTER TABLE " + sql.name + " ADD COLUMN " + quote_identifier(column.name) +
                       " " + sql_type(column.type));
      writer_.exec("CREATE UNIQUE INDEX IF NOT EXISTS " +
                   quote_identifier("mxdata_" + table.name + "_by_seq") + " ON " + sql.name +
                   " (mxsync_seq)");
      sql.upsert = "INSERT INTO " + sql.name +
                   " (mxsync_seq, mxsync_changed_at, mxsync_hashsum, mxsync_owner, mxsync_origin_client" +
                   column_list + ") VALUES (?, ?, ?, ?, ?" + placeholders + ") ON CONFLICT (" + key_list +
                   ") DO UPDATE SET mxsync_seq = excluded.mxsync_seq, mxsync_changed_at = "
                   "excluded.mxsync_changed_at, mxsync_deleted = 0, mxsync_hashsum = "
                   "excluded.mxsync_hashsum, mxsync_owner = excluded.mxsync_owner, "
                   "mxsync_origin_client = excluded.mxsync_origin_client" + updates;
      sql.remove = "UPDATE " + sql.name +
                   " SET mxsync_seq = ?, mxsync_changed_at = ?, mxsync_deleted = 1, mxsync_owner = ?, "
                   "mxsync_origin_client = ? WHERE " + sql.key_condition + " AND mxsync_deleted = 0";
      sql.touch = "UPDATE " + sql.name + " SET mxsync_seq = ?, mxsync_changed_at = ?, "
                  "mxsync_origin_client = NULL WHERE " + sql.key_condition;
      sql.find = "SELECT " + sql.select_list + " FROM " + sql.name + " WHERE " + sql.key_condition;
      auto max_seq = writer_.query_int("SELECT MAX(mxsync_seq) FROM " + sql.name);
      auto max_time = writer_.query_int("SELECT MAX(mxsync_changed_at) FROM " + sql.name);
      last_sequence_ = std::max(last_sequence_, max_seq.value_or(0));
      last_change_time_ = std::max(last_change_time_, max_time.value_or(0));
      tables_.emplace(table.name, std::move(sql));
    }
  }
  txn.commit();
}

const sqlite_store::table_sql& sqlite_store::sql_for(const table_def& table) const {
  auto it = tables_.find(table.name);
  if (it == tables_.end())
    throw std::invalid_argument("no store table for object '" + table.name + "'");
  return it->second;
}

std::int64_t sqlite_store::next_sequence() { return ++last_sequence_; }

std::int64_t sqlite_store::next_change_time() {
  // Never backwards: equal timestamps then always form one contiguous run of
  // sequences, which download batching keeps together.
  last_change_time_ = std::max(last_change_time_, clock_());
  return last_change_time_;
}

std::string sqlite_store::register_device(const std::string& user, const std::string& device_id,
                                          const json& device_info) {
  std::lock_guard lock{write_mutex_};
  db::transaction txn{writer_};
  auto& find = writer_.cached(
    "SELECT instance_id FROM mxsync_devices WHERE user = ? AND device_id = ?");
  find.bind(1, user).bind(2, device_id);
  std::optional<std::string> existing;
  if (find.step())
    existing = find.column_text(0);
  find.reset();
  // Every sequence handed out so far belongs to a committed (or rolled back)
  // write: the write mutex is held, so no write is in flight.
  if (existing) {
    auto& update = writer_.cached(
      "UPDATE mxsync_devices SET info = ?, registered_seq = ? WHERE user = ? AND device_id = ?");
    update.bind(1, device_info.dump()).bind(2, last_sequence_).bind(3, user).bind(4, device_id);
    update.run();
    update.reset();
    txn.commit();
    return *existing;
  }
  auto instance_id = random_hex(32);
  auto& insert = writer_.cached("INSERT INTO mxsync_devices (user, device_id, instance_id, info, "
                                "registered_at, registered_seq) VALUES (?, ?, ?, ?, ?, ?)");
  insert.bind(1, user).bind(2, device_id).bind(3, instance_id).bind(4, device_info.dump()).bind(5, now_ms());
  insert.bind(6, last_sequence_);
  insert.run();
  insert.reset();
  txn.commit();
  return instance_id;
}

std::unique_ptr<db::connection> sqlite_store::acquire_reader() {
  {
    std::lock_guard lock{readers_mutex_};
    if (!idle_readers_.empty()) {
      auto conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return conn;
    }
  }
  auto conn = std::make_unique<db::connection>(path_, db::open_mode::read_write);
  conn->exec("PRAGMA query_only=1");
  conn->exec("PRAGMA cache_size=-16384");
  return conn;
}

void sqlite_store::release_reader(std::unique_ptr<db::connection> reader) {
  std::lock_guard lock{readers_mutex_};
  if (idle_readers_.size() < max_idle_readers)
    idle_readers_.push_back(std::move(reader));
}

std::unique_ptr<store_reader> sqlite_store::read() {
  return std::make_unique<sqlite_reader>(*this, acquire_reader());
}

void sqlite_store::write(const std::function<void(store_writer&)>& work) {
  std::lock_guard lock{write_mutex_};
  db::transaction txn{writer_};
  sqlite_writer writer{*this};
  work(writer);
  txn.commit();
}

void sqlite_store::index_column(const table_def& table, const std::string& column) {
  const auto* def = table.find_column(column);
  if (!def)
    throw std::invalid_argument("no column '" + column + "' in object '" + table.name + "'");
  std::lock_guard lock{write_mutex_};
  writer_.exec("CREATE INDEX IF NOT EXISTS " +
               quote_identifier("mxdata_" + table.name + "_by_" + def->name + "_seq") + " ON " +
               sql_for(table).name + " (" + quote_identifier(def->name) + ", mxsync_seq)");
}

void sqlite_store::save_payload(const std::string& payload_id, const std::string& user,
                                const std::vector<std::string>& chunks, std::int64_t ttl_seconds) {
  std::lock_guard lock{write_mutex_};
  db::transaction txn{writer_};
  auto now = now_ms();
  auto& expire = writer_.cached("DELETE FROM mxsync_chunks WHERE created_at < ?");
  expire.bind(1, now - ttl_seconds * 1000);
  expire.run();
  expire.reset();
  auto& insert = writer_.cached("INSERT OR REPLACE INTO mxsync_chunks (payload_id, chunk_number, "
                                "client, data, created_at) VALUES (?, ?, ?, ?, ?)");
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    insert.bind(1, payload_id).bind(2, static_cast<std::int64_t>(i + 1)).bind(3, user);
    insert.bind(4, chunks[i]).bind(5, now);
    insert.run();
    insert.reset();
  }
  txn.commit();
}

std::string sqlite_store::durability() {
  std::lock_guard lock{write_mutex_};
  auto mode = writer_.query("PRAGMA journal_mode").at(0).at("journal_mode").get<std::string>();
  auto level = writer_.query_int("PRAGMA synchronous").value_or(-1);
  static constexpr const char* levels[] = {"OFF", "NORMAL", "FULL", "EXTRA"};
  std::string name = level >= 0 && level <= 3 ? levels[level] : std::to_string(level);
  std::string what = level >= 2 ? "a committed write survives a crash and a power loss"
                                : "a committed write survives a crash, not always a power loss";
  for (auto& c : mode)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return mode + ", synchronous " + name + ": " + what;
}

void sqlite_store::delete_payload(const std::string& user, const std::string& payload_id) {
  std::lock_guard lock{write_mutex_};
  auto& stmt = writer_.cached("DELETE FROM mxsync_chunks WHERE payload_id = ? AND client = ?");
  stmt.bind(1, payload_id).bind(2, user);
  stmt.run();
  stmt.reset();
}

} // namespace mxsync::server
