#pragma once
// RAII over the SQLite C API: one connection, prepared statements, transactions.
// Every sqlite3* and sqlite3_stmt* in mxsync lives in one of these classes.

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mxsync::db {

/// A failed SQLite call; `code` is the (extended) SQLite result code.
class sqlite_error : public std::runtime_error {
public:
  sqlite_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const noexcept { return code_; }

private:
  int code_;
};

/// A prepared statement. Binds are 1-based like SQLite's; columns are 0-based.
class statement {
public:
  statement() = default;
  statement(sqlite3* db, std::string_view sql);
  statement(statement&&) noexcept = default;
  statement& operator=(statement&&) noexcept = default;

  statement& bind_null(int index);
  statement& bind(int index, std::int64_t value);
  statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  statement& bind(int index, double value);
  statement& bind(int index, std::string_view value);
  statement& bind(int index, const char* value) { return bind(index, std::string_view{value}); }
  statement& bind(int index, const std::string& value) { return bind(index, std::string_view{value}); }
  statement& bind_blob(int index, const void* data, int size);
  /// Binds a JSON scalar: null, bool (as 0/1), integer, float or string.
  statement& bind(int index, const nlohmann::json& value);
  statement& bind_all(const std::vector<nlohmann::json>& values, int first_index = 1);

  /// Runs one step; true when a row is available.
  bool step();
  /// Steps to completion, ignoring rows.
  void run();
  void reset();

  int column_count() const;
  std::string column_name(int column) const;
  bool is_null(int column) const;
  std::int64_t column_int64(int column) const;
  double column_double(int column) const;
  std::string column_text(int column) const;
  std::optional<std::string> column_optional_text(int column) const;
  /// The column as JSON: null, integer, float or string (blobs become strings).
  nlohmann::json column_json(int column) const;
  /// The current row as a JSON object keyed by column name.
  nlohmann::json row_json() const;

  bool readonly() const;
  sqlite3_stmt* handle() const noexcept { return stmt_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(stmt_); }

private:
  struct finalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
  };
  void check(int rc, const char* what) const;
  std::unique_ptr<sqlite3_stmt, finalizer> stmt_;
  sqlite3* db_ = nullptr;
};

enum class open_mode { read_write_create, read_write, read_only };

/// One SQLite connection. Not thread-safe: one owner at a time.
class connection {
public:
  connection() = default;
  explicit connection(const std::string& path, open_mode mode = open_mode::read_write_create);
  connection(connection&&) noexcept = default;
  connection& operator=(connection&&) noexcept = default;

  void exec(std::string_view sql);
  statement prepare(std::string_view sql) const;
  /// A statement cached by its SQL text for the lifetime of the connection.
  statement& cached(const std::string& sql);
  /// Runs a query and returns every row as a JSON object.
  nlohmann::json query(std::string_view sql, const std::vector<nlohmann::json>& params = {}) const;
  /// First column of the first row, or nullopt.
  std::optional<std::int64_t> query_int(std::string_view sql,
                                        const std::vector<nlohmann::json>& params = {}) const;

  std::int64_t changes() const;
  std::int64_t last_insert_rowid() const;
  bool in_transaction() const;
  bool table_exists(std::string_view name) const;
  const std::string& path() const noexcept { return path_; }
  sqlite3* handle() const noexcept { return db_.get(); }

private:
  struct closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
  };
  std::unique_ptr<sqlite3, closer> db_;
  std::unordered_map<std::string, statement> cache_;
  std::string path_;
};

/// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted.
/// Nested use becomes a SAVEPOINT.
class transaction {
public:
  explicit transaction(connection& db);
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction();
  void commit();

private:
  connection& db_;
  bool nested_ = false;
  bool done_ = false;
};

/// Double-quotes an identifier for SQL ("a""b").
std::string quote_identifier(std::string_view name);

} // namespace mxsync::db
