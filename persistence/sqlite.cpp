#include "persistence/sqlite.hpp"

#include <cmath>

namespace mxsync::db {

namespace {

[[noreturn]] void fail(sqlite3* db, int rc, const std::string& what) {
  std::string message = what + ": ";
  message += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw sqlite_error(db ? sqlite3_extended_errcode(db) : rc, message);
}

} // namespace

// -- statement ---------------------------------------------------------------

statement::statement(sqlite3* db, std::string_view sql) : db_(db) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, &tail);
  if (rc != SQLITE_OK)
    fail(db, rc, "prepare failed for \"" + std::string{sql.substr(0, 200)} + "\"");
  stmt_.reset(raw);
  // A second statement after the first is refused: callers pass one statement.
  if (tail != nullptr) {
    std::string_view rest{tail};
    auto pos = rest.find_first_not_of(" \t\r\n;");
    if (pos != std::string_view::npos)
      throw sqlite_error(SQLITE_MISUSE, "only one SQL statement is allowed");
  }
  if (!raw)
    throw sqlite_error(SQLITE_MISUSE, "empty SQL statement");
}

void statement::check(int rc, const char* what) const {
  if (rc != SQLITE_OK)
    fail(db_, rc, what);
}

statement& statement::bind_null(int index) {
  check(sqlite3_bind_null(handle(), index), "bind");
  return *this;
}

statement& statement::bind(int index, std::int64_t value) {
  check(sqlite3_bind_int64(handle(), index, value), "bind");
  return *this;
}

statement& statement::bind(int index, double value) {
  check(sqlite3_bind_double(handle(), index, value), "bind");
  return *this;
}

statement& statement::bind(int index, std::string_view value) {
  check(sqlite3_bind_text64(handle(), index, value.data(), value.size(), SQLITE_TRANSIENT,
                            SQLITE_UTF8),
        "bind");
  return *this;
}

statement& statement::bind_blob(int index, const void* data, int size) {
  check(sqlite3_bind_blob(handle(), index, data, size, SQLITE_TRANSIENT), "bind");
  return *this;
}

statement& statement::bind(int index, const nlohmann::json& value) {
  using t = nlohmann::json::value_t;
  switch (value.type()) {
    case t::null:
    case t::discarded:
      return bind_null(index);
    case t::boolean:
      return bind(index, static_cast<std::int64_t>(value.get<bool>() ? 1 : 0));
    case t::number_integer:
      return bind(index, value.get<std::int64_t>());
    case t::number_unsigned:
      return bind(index, static_cast<std::int64_t>(value.get<std::uint64_t>()));
    case t::number_float:
      return bind(index, value.get<double>());
    case t::string:
      return bind(index, std::string_view{value.get_ref<const std::string&>()});
    default:
      return bind(index, std::string_view{value.dump()});
  }
}

statement& statement::bind_all(const std::vector<nlohmann::json>& values, int first_index) {
  int i = first_index;
  for (const auto& v : values)
    bind(i++, v);
  return *this;
}

bool statement::step() {
  int rc = sqlite3_step(handle());
  if (rc == SQLITE_ROW)
    return true;
  if (rc == SQLITE_DONE)
    return false;
  std::string sql = sqlite3_sql(handle()) ? sqlite3_sql(handle()) : "";
  fail(db_, rc, "step failed for \"" + sql.substr(0, 200) + "\"");
}

void statement::run() {
  while (step()) {
  }
}

void statement::reset() {
  sqlite3_reset(handle());
  sqlite3_clear_bindings(handle());
}

int statement::column_count() const { return sqlite3_column_count(handle()); }

std::string statement::column_name(int column) const {
  const char* name = sqlite3_column_name(handle(), column);
  return name ? name : "";
}

bool statement::is_null(int column) const {
  return sqlite3_column_type(handle(), column) == SQLITE_NULL;
}

std::int64_t statement::column_int64(int column) const {
  return sqlite3_column_int64(handle(), column);
}

double statement::column_double(int column) const {
  return sqlite3_column_double(handle(), column);
}

std::string statement::column_text(int column) const {
  auto text = sqlite3_column_text(handle(), column);
  auto size = sqlite3_column_bytes(handle(), column);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size))
              : std::string{};
}

std::optional<std::string> statement::column_optional_text(int column) const {
  if (is_null(column))
    return std::nullopt;
  return column_text(column);
}

nlohmann::json statement::column_json(int column) const {
  switch (sqlite3_column_type(handle(), column)) {
    case SQLITE_NULL:
      return nullptr;
    case SQLITE_INTEGER:
      return column_int64(column);
    case SQLITE_FLOAT: {
      double d = column_double(column);
      return std::isfinite(d) ? nlohmann::json(d) : nlohmann::json(nullptr);
    }
    default:
      return column_text(column);
  }
}

nlohmann::json statement::row_json() const {
  nlohmann::json row = nlohmann::json::object();
  int n = column_count();
  for (int i = 0; i < n; ++i)
    row[column_name(i)] = column_json(i);
  return row;
}

bool statement::readonly() const { return sqlite3_stmt_readonly(handle()) != 0; }

// -- connection --------------------------------------------------------------

connection::connection(const std::string& path, open_mode mode) : path_(path) {
  int flags = SQLITE_OPEN_NOMUTEX;
  switch (mode) {
    case open_mode::read_write_create:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
    case open_mode::read_write:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case open_mode::read_only:
      flags |= SQLITE_OPEN_READONLY;
      break;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_.reset(raw);
  if (rc != SQLITE_OK)
    fail(raw, rc, "cannot open database " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 10000);
}

void connection::exec(std::string_view sql) {
  std::string text{sql};
  char* error = nullptr;
  int rc = sqlite3_exec(handle(), text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw sqlite_error(sqlite3_extended_errcode(handle()),
                       message + " (in \"" + text.substr(0, 200) + "\")");
  }
}

statement connection::prepare(std::string_view sql) const { return statement{handle(), sql}; }

statement& connection::cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end())
    it = cache_.emplace(sql, prepare(sql)).first;
  else
    it->second.reset();
  return it->second;
}

nlohmann::json connection::query(std::string_view sql,
                                 const std::vector<nlohmann::json>& params) const {
  auto stmt = prepare(sql);
  stmt.bind_all(params);
  auto rows = nlohmann::json::array();
  while (stmt.step())
    rows.push_back(stmt.row_json());
  return rows;
}

std::optional<std::int64_t> connection::query_int(std::string_view sql,
                                                  const std::vector<nlohmann::json>& params) const {
  auto stmt = prepare(sql);
  stmt.bind_all(params);
  if (!stmt.step() || stmt.is_null(0))
    return std::nullopt;
  return stmt.column_int64(0);
}

std::int64_t connection::changes() const { return sqlite3_changes64(handle()); }

std::int64_t connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(handle()); }

bool connection::in_transaction() const { return sqlite3_get_autocommit(handle()) == 0; }

bool connection::table_exists(std::string_view name) const {
  return query_int("SELECT 1 FROM sqlite_master WHERE type='table' AND name=? COLLATE NOCASE",
                   {std::string{name}})
    .has_value();
}

// -- transaction -------------------------------------------------------------

transaction::transaction(connection& db) : db_(db), nested_(db.in_transaction()) {
  db_.exec(nested_ ? "SAVEPOINT mxsync_nested" : "BEGIN IMMEDIATE");
}

transaction::~transaction() {
  if (done_)
    return;
  try {
    if (nested_)
      db_.exec("ROLLBACK TO mxsync_nested; RELEASE mxsync_nested");
    else
      db_.exec("ROLLBACK");
  } catch (...) {
    // Destructors must not throw; SQLite already rolled back on a fatal error.
  }
}

void transaction::commit() {
  db_.exec(nested_ ? "RELEASE mxsync_nested" : "COMMIT");
  done_ = true;
}

std::string quote_identifier(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('"');
  for (char c : name) {
    if (c == '"')
      out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

} // namespace mxsync::db
