#include "persistence/where_clause.hpp"

#include "mxsync/error.hpp"
#include "persistence/device_schema.hpp"

#include <algorithm>
#include <iterator>
#include <cctype>

namespace mxsync::where {

namespace {

std::string lower(std::string_view text) {
  std::string out{text};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Functions a where clause may call: SQLite's pure built-ins. Anything else (an app's
// own function that might write, load_extension, readfile, fts3_tokenizer, huge blob
// makers) is refused.
constexpr std::string_view allowed_functions[] = {
  "abs", "char", "coalesce", "concat", "concat_ws", "format", "glob", "hex", "ifnull", "iif",
  "instr", "length", "like", "likelihood", "likely", "lower", "ltrim", "max", "min", "nullif",
  "octet_length", "printf", "quote", "replace", "round", "rtrim", "sign", "soundex", "substr",
  "substring", "trim", "typeof", "unhex", "unicode", "unlikely", "upper", "date", "time",
  "datetime", "julianday", "unixepoch", "strftime", "timediff", "avg", "count", "group_concat",
  "string_agg", "sum", "total", "json", "json_array", "json_array_length", "json_extract",
  "json_insert", "json_object", "json_patch", "json_remove", "json_replace", "json_set",
  "json_type", "json_valid", "json_quote", "json_group_array", "json_group_object", "->", "->>",
  "acos", "asin", "atan", "atan2", "ceil", "ceiling", "cos", "degrees", "exp", "floor", "ln",
  "log", "log10", "log2", "mod", "pi", "pow", "power", "radians", "sin", "sqrt", "tan", "trunc",
  "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
  "first_value", "last_value", "nth_value",
};

bool function_allowed(std::string_view name) {
  auto lowered = lower(name);
  return std::find(std::begin(allowed_functions), std::end(allowed_functions), lowered)
         != std::end(allowed_functions);
}

/// What the authorizer consults, and the first thing it refused.
struct guard_state {
  const policy* rules = nullptr;
  std::string refusal;
};

int authorize(void* user, int action, const char* a1, const char* a2, const char* a3,
              const char* /*trigger or view*/) {
  auto& state = *static_cast<guard_state*>(user);
  auto refuse = [&](std::string why) {
    if (state.refusal.empty())
      state.refusal = std::move(why);
    return SQLITE_DENY;
  };
  switch (action) {
    case SQLITE_SELECT:
      return SQLITE_OK;
    case SQLITE_READ: {
      std::string table = a1 ? a1 : "";
      std::string database = a3 ? a3 : "main";
      if (database != "main")
        return refuse("reading " + database + "." + table + " is not allowed");
      if (!state.rules->readable_tables)
        return SQLITE_OK;
      if (state.rules->readable_tables->count(lower(table)))
        return SQLITE_OK;
      return refuse("reading table " + table + " is not allowed");
    }
    case SQLITE_FUNCTION:
      if (a2 && function_allowed(a2))
        return SQLITE_OK;
      return refuse(std::string{"function "} + (a2 ? a2 : "?") + " is not allowed");
    case SQLITE_RECURSIVE:
      if (state.rules->allow_recursive)
        return SQLITE_OK;
      return refuse("recursive queries are not allowed");
    case SQLITE_PRAGMA:
      return refuse(std::string{"pragma "} + (a1 ? a1 : "") + " is not allowed");
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
      return refuse("attach/detach is not allowed");
    default:
      return refuse("only reading is allowed (authorizer action " + std::to_string(action) + ")");
  }
}

/// Installs the authorizer for its lifetime; SQLite keeps one per connection.
class authorizer_scope {
public:
  authorizer_scope(sqlite3* db, guard_state& state) : db_(db) {
    sqlite3_set_authorizer(db_, authorize, &state);
  }
  ~authorizer_scope() { sqlite3_set_authorizer(db_, nullptr, nullptr); }
  authorizer_scope(const authorizer_scope&) = delete;
  authorizer_scope& operator=(const authorizer_scope&) = delete;

private:
  sqlite3* db_;
};

[[noreturn]] void refuse_sql(std::string_view sql, const std::string& reason) {
  throw sync_exception(error_code::sql_statement, "Some error occurred in executing SQL statement",
                       {{"sql", std::string{sql.substr(0, 1000)}}, {"reason", reason}});
}

db::statement compile(db::connection& db, std::string_view sql, guard_state& state) {
  db::statement stmt;
  try {
    stmt = db.prepare(sql);
  } catch (const db::sqlite_error& e) {
    refuse_sql(sql, state.refusal.empty() ? e.what() : state.refusal);
  }
  if (!stmt.readonly())
    refuse_sql(sql, "the statement is not read-only");
  return stmt;
}

} // namespace

bool clause::empty() const {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

std::string normalize(std::string_view text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos)
    return {};
  text.remove_prefix(begin);
  auto end = std::find_if(text.begin(), text.end(), [](char c) {
    return !std::isalpha(static_cast<unsigned char>(c));
  });
  auto first_word = lower(text.substr(0, static_cast<std::size_t>(end - text.begin())));
  if (first_word == "where" || first_word == "order" || first_word == "limit"
      || first_word == "group")
    return std::string{text};
  return "where " + std::string{text};
}

policy object_tables_policy(const sync_config& config) {
  policy rules;
  rules.readable_tables.emplace();
  for (const auto& scope : config.scopes)
    for (const auto& table : scope.tables)
      for (const auto& name :
           {table.name, schema::history_table(table.name), schema::original_table(table.name)})
        rules.readable_tables->insert(lower(name));
  return rules;
}

policy read_only_policy() {
  policy rules;
  rules.allow_recursive = true;
  return rules;
}

db::statement prepare_guarded(db::connection& db, std::string_view sql, const policy& rules) {
  guard_state state{&rules, {}};
  authorizer_scope guard{db.handle(), state};
  return compile(db, sql, state);
}

nlohmann::json query_guarded(db::connection& db, std::string_view sql,
                             const std::vector<nlohmann::json>& params, const policy& rules) {
  guard_state state{&rules, {}};
  // Kept installed while stepping too: a schema change makes SQLite recompile the
  // statement inside step(), and the recompiled program must be checked as well.
  authorizer_scope guard{db.handle(), state};
  auto stmt = compile(db, sql, state);
  // SQLite binds a placeholder left without a value as NULL, which silently matches
  // nothing; a count that differs either way is the caller's mistake.
  auto placeholders = static_cast<std::size_t>(sqlite3_bind_parameter_count(stmt.handle()));
  if (placeholders != params.size())
    throw sync_exception(error_code::sql_statement, "Some error occurred in executing SQL statement",
                         {{"sql", std::string{sql.substr(0, 1000)}},
                          {"reason", "the clause has " + std::to_string(placeholders)
                                       + " placeholders but " + std::to_string(params.size())
                                       + " values were given"},
                          {"placeholders", placeholders},
                          {"values", params.size()}});
  auto rows = nlohmann::json::array();
  try {
    stmt.bind_all(params);
    while (stmt.step())
      rows.push_back(stmt.row_json());
  } catch (const db::sqlite_error& e) {
    refuse_sql(sql, state.refusal.empty() ? e.what() : state.refusal);
  }
  return rows;
}

} // namespace mxsync::where
