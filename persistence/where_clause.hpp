#pragma once
// Guarded SQL from apps: where clauses of the object-level API and
// sync.executeSelectQuery. The text is compiled with an SQLite authorizer installed
// (sqlite3_set_authorizer) that allows only SELECT, reads of permitted tables and
// ordinary functions; db::statement refuses a second statement. Whatever the text
// says, it can neither write nor read outside the sync objects' tables.
//
// Every refusal or SQL error is sync_exception 7019 ("Some error occurred in
// executing SQL statement") with info {"sql", "reason"}; a wrong number of values
// adds "placeholders" and "values".

#include "persistence/sqlite.hpp"
#include "persistence/sync_config.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mxsync::where {

/// A where clause with its parameters. `text` is raw SQL as the original API takes
/// it ("where " is prepended unless it starts with where/order/limit/group); use ?
/// placeholders and `params` from C++ so values never become SQL text.
struct clause {
  std::string text;
  std::vector<nlohmann::json> params;

  clause() = default;
  clause(std::string raw) : text(std::move(raw)) {} // NOLINT: raw-string form
  clause(const char* raw) : text(raw ? raw : "") {} // NOLINT
  clause(std::string with_placeholders, std::vector<nlohmann::json> values)
    : text(std::move(with_placeholders)), params(std::move(values)) {}

  bool empty() const;
};

/// The clause text ready to follow "select ... from T ": "" for an empty clause,
/// otherwise the text with "where " prepended unless it starts with a keyword.
std::string normalize(std::string_view text);

/// What a guarded statement may do.
struct policy {
  /// Tables that may be read (case-insensitive); nullopt = any table.
  std::optional<std::set<std::string>> readable_tables;
  /// WITH RECURSIVE (unbounded loops) is refused in where clauses.
  bool allow_recursive = false;
};

/// Read access to the config's object tables (T, T_history, T_original), and
/// nothing else: no konysync* meta tables, no sqlite_master.
policy object_tables_policy(const sync_config& config);
/// Any table may be read; still read-only (sync.executeSelectQuery).
policy read_only_policy();

/// Compiles `sql` under the policy; throws 7019 when the authorizer or SQLite refuses
/// it, or when it is not a read-only single statement.
db::statement prepare_guarded(db::connection& db, std::string_view sql, const policy& rules);

/// prepare_guarded, binds `params` from 1 and returns every row as an object. A
/// placeholder count (sqlite3_bind_parameter_count: the highest ?N) other than
/// params.size() is 7019 with info {"sql", "reason", "placeholders", "values"}.
nlohmann::json query_guarded(db::connection& db, std::string_view sql,
                             const std::vector<nlohmann::json>& params, const policy& rules);

} // namespace mxsync::where
