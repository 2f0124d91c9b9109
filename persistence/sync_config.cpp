#include "persistence/sync_config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace mxsync {

namespace {

using json = nlohmann::json;

constexpr std::array<std::pair<std::string_view, column_type>, 15> type_names{{
  {"string", column_type::string},         {"text", column_type::text},
  {"int", column_type::int_},              {"integer", column_type::integer},
  {"short", column_type::short_},          {"long", column_type::long_},
  {"boolean", column_type::boolean},       {"float", column_type::float_},
  {"double", column_type::double_},        {"big_decimal", column_type::big_decimal},
  {"big_integer", column_type::big_integer}, {"date", column_type::date},
  {"time", column_type::time},             {"timestamp", column_type::timestamp},
  {"binary", column_type::binary},
}};

/// The generator's other spellings (the real client's getJSType table, docs/protocol.md
/// 3.1), onto the type that behaves the same: text types, whole numbers, flags.
constexpr std::array<std::pair<std::string_view, column_type>, 5> type_aliases{{
  {"char", column_type::string},    {"character", column_type::string},
  {"java.lang.string", column_type::string},
  {"byte", column_type::short_},    {"yes_no", column_type::boolean},
}};

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// Builds "scope 'S', table 'T', column 'c'" prefixes for error messages.
struct location {
  std::string scope, table, column;
  std::string describe() const {
    std::string out = "sync config";
    if (!scope.empty())
      out += ": scope '" + scope + "'";
    if (!table.empty())
      out += ", table '" + table + "'";
    if (!column.empty())
      out += ", column '" + column + "'";
    return out;
  }
};

[[noreturn]] void fail(const location& at, std::string_view key, const std::string& problem) {
  throw config_error(at.describe() + ", key \"" + std::string{key} + "\": " + problem);
}

const json& require(const json& obj, std::string_view key, const location& at) {
  auto it = obj.find(std::string{key});
  if (it == obj.end() || it->is_null())
    fail(at, key, "missing");
  return *it;
}

std::string require_string(const json& obj, std::string_view key, const location& at) {
  const auto& v = require(obj, key, at);
  if (!v.is_string() || v.get_ref<const std::string&>().empty())
    fail(at, key, "must be a non-empty string");
  return v.get<std::string>();
}

std::string optional_string(const json& obj, std::string_view key, const location& at) {
  auto it = obj.find(std::string{key});
  if (it == obj.end() || it->is_null())
    return {};
  if (!it->is_string())
    fail(at, key, "must be a string");
  return it->get<std::string>();
}

/// Booleans come as JSON booleans or as the strings "true"/"false".
bool parse_flag(const json& obj, std::string_view key, bool fallback, const location& at) {
  auto it = obj.find(std::string{key});
  if (it == obj.end() || it->is_null())
    return fallback;
  if (it->is_boolean())
    return it->get<bool>();
  if (it->is_string()) {
    auto v = lower(it->get<std::string>());
    if (v == "true")
      return true;
    if (v == "false")
      return false;
  }
  fail(at, key, "must be true or false, got " + it->dump());
}

/// A SQL identifier we are willing to create: no control characters, not reserved.
void check_identifier(const std::string& name, std::string_view key, const location& at) {
  if (name.empty() || name.size() > 128)
    fail(at, key, "name must have 1 to 128 characters");
  for (unsigned char c : name)
    if (c < 0x20 || c == '"' || c == '`' || c == '[' || c == ']')
      fail(at, key, "name '" + name + "' contains a character not allowed in a SQL identifier");
  if (lower(name).rfind("konysync", 0) == 0)
    fail(at, key, "name '" + name + "' uses the reserved prefix konysync");
}

column_def parse_column(const json& j, const location& table_at) {
  location at = table_at;
  if (!j.is_object())
    fail(at, "Columns", "every entry must be an object");
  column_def col;
  col.name = require_string(j, "Name", at);
  at.column = col.name;
  check_identifier(col.name, "Name", at);
  auto type_name = require_string(j, "type", at);
  auto type = parse_column_type(lower(type_name));
  if (!type)
    fail(at, "type", "unknown type '" + type_name + "'");
  col.type = *type;
  if (auto it = j.find("Length"); it != j.end() && !it->is_null()) {
    std::int64_t length = 0;
    if (it->is_number_integer())
      length = it->get<std::int64_t>();
    else if (it->is_string()) {
      const auto& s = it->get_ref<const std::string&>();
      if (s.empty() || !std::all_of(s.begin(), s.end(), ::isdigit))
        fail(at, "Length", "must be a positive integer, got " + it->dump());
      length = std::stoll(s);
    } else
      fail(at, "Length", "must be a positive integer, got " + it->dump());
    if (length <= 0)
      fail(at, "Length", "must be a positive integer, got " + it->dump());
    col.length = length;
  }
  col.nullable = parse_flag(j, "IsNullable", true, at);
  col.autogenerated = parse_flag(j, "Autogenerated", false, at);
  col.primary_key = parse_flag(j, "IsPrimaryKey", false, at);
  return col;
}

relationship_def parse_relationship(const json& j, relationship_kind kind, const location& at) {
  std::string key{to_string(kind)};
  if (!j.is_object())
    fail(at, "Relationships." + key, "every entry must be an object");
  relationship_def rel;
  rel.kind = kind;
  rel.target = require_string(j, "TargetObject", at);
  rel.cascade = parse_flag(j, "Cascade", false, at);
  if (auto it = j.find("RelationshipAttributes"); it != j.end() && !it->is_null()) {
    if (!it->is_array() || it->empty())
      fail(at, "Relationships." + key + ".RelationshipAttributes", "must be a non-empty array");
    for (const auto& a : *it) {
      if (!a.is_object())
        fail(at, "Relationships." + key + ".RelationshipAttributes", "entries must be objects");
      rel.attributes.push_back({require_string(a, "SourceObject_Attribute", at),
                                require_string(a, "TargetObject_Attribute", at)});
    }
  } else {
    rel.attributes.push_back({require_string(j, "SourceObject_Attribute", at),
                              require_string(j, "TargetObject_Attribute", at)});
  }
  return rel;
}

table_def parse_table(const json& j, const location& scope_at) {
  location at = scope_at;
  if (!j.is_object())
    fail(at, "ScopeTables", "every entry must be an object");
  table_def table;
  table.name = require_string(j, "Name", at);
  at.table = table.name;
  check_identifier(table.name, "Name", at);
  const auto& columns = require(j, "Columns", at);
  if (!columns.is_array() || columns.empty())
    fail(at, "Columns", "must be a non-empty array");
  std::set<std::string> seen;
  for (const auto& c : columns) {
    auto col = parse_column(c, at);
    if (!seen.insert(lower(col.name)).second) {
      location col_at = at;
      col_at.column = col.name;
      fail(col_at, "Name", "duplicate column name");
    }
    table.columns.push_back(std::move(col));
  }
  const auto& pks = require(j, "Pk_Columns", at);
  if (!pks.is_array() || pks.empty())
    fail(at, "Pk_Columns", "must be a non-empty array of column names");
  for (const auto& pk : pks) {
    if (!pk.is_string())
      fail(at, "Pk_Columns", "entries must be column names");
    auto name = pk.get<std::string>();
    auto it = std::find_if(table.columns.begin(), table.columns.end(),
                           [&](const column_def& c) { return iequals(c.name, name); });
    if (it == table.columns.end())
      fail(at, "Pk_Columns", "'" + name + "' is not a column of the table");
    it->primary_key = true;
    it->nullable = false; // a key column is always NOT NULL
    table.primary_key.push_back(it->name);
  }
  for (const auto& c : table.columns) {
    location col_at = at;
    col_at.column = c.name;
    if (c.primary_key && std::find(table.primary_key.begin(), table.primary_key.end(), c.name)
                           == table.primary_key.end())
      fail(col_at, "IsPrimaryKey", "column is marked as key but is not in Pk_Columns");
    // Autogenerated on a non-key column only lifts its mandatory check (the backend
    // fills it in); on a key column the device generates the value (create).
    if (c.autogenerated && c.primary_key) {
      if (table.primary_key.size() != 1)
        fail(col_at, "Autogenerated", "an autogenerated key cannot be part of a composite key");
      if (!holds_generated_id(c.type))
        fail(col_at, "Autogenerated",
             "an autogenerated key must be a numeric or string column, not "
               + std::string{to_string(c.type)});
    }
  }
  if (auto it = j.find("Relationships"); it != j.end() && !it->is_null()) {
    if (!it->is_object())
      fail(at, "Relationships", "must be an object");
    for (auto kind : {relationship_kind::one_to_many, relationship_kind::many_to_one,
                      relationship_kind::one_to_one}) {
      auto r = it->find(std::string{to_string(kind)});
      if (r == it->end() || r->is_null())
        continue;
      if (!r->is_array())
        fail(at, "Relationships." + std::string{to_string(kind)}, "must be an array");
      for (const auto& rel : *r)
        table.relationships.push_back(parse_relationship(rel, kind, at));
    }
  }
  return table;
}

} // namespace

std::string_view to_string(column_type type) {
  for (const auto& [name, t] : type_names)
    if (t == type)
      return name;
  return "string";
}

std::optional<column_type> parse_column_type(std::string_view name) {
  for (const auto& [n, t] : type_names)
    if (n == name)
      return t;
  for (const auto& [n, t] : type_aliases)
    if (n == name)
      return t;
  return std::nullopt;
}

bool holds_generated_id(column_type type) {
  return is_numeric(type) || type == column_type::string || type == column_type::text;
}

bool is_integral(column_type type) {
  switch (type) {
    case column_type::int_:
    case column_type::integer:
    case column_type::short_:
    case column_type::long_:
    case column_type::big_integer:
      return true;
    default:
      return false;
  }
}

bool is_numeric(column_type type) {
  return is_integral(type) || type == column_type::float_ || type == column_type::double_
         || type == column_type::big_decimal;
}

std::string_view to_string(sync_strategy strategy) {
  return strategy == sync_strategy::ota_sync ? "OTA_SYNC" : "PERSISTENT_SYNC";
}

std::string_view to_string(relationship_kind kind) {
  switch (kind) {
    case relationship_kind::one_to_many:
      return "OneToMany";
    case relationship_kind::many_to_one:
      return "ManyToOne";
    default:
      return "OneToOne";
  }
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
              return std::tolower(x) == std::tolower(y);
            });
}

const column_def* table_def::find_column(std::string_view column) const {
  for (const auto& c : columns)
    if (iequals(c.name, column))
      return &c;
  return nullptr;
}

bool table_def::is_primary_key(std::string_view column) const {
  return std::any_of(primary_key.begin(), primary_key.end(),
                     [&](const std::string& k) { return iequals(k, column); });
}

const column_def* table_def::autogenerated_key() const {
  for (const auto& c : columns)
    if (c.autogenerated && c.primary_key)
      return &c;
  return nullptr;
}

const table_def* scope_def::find_table(std::string_view table) const {
  for (const auto& t : tables)
    if (iequals(t.name, table))
      return &t;
  return nullptr;
}

const scope_def* sync_config::find_scope(std::string_view scope) const {
  for (const auto& s : scopes)
    if (s.name == scope)
      return &s;
  return nullptr;
}

std::pair<const scope_def*, const table_def*> sync_config::find_table(std::string_view table) const {
  for (const auto& s : scopes)
    if (auto t = s.find_table(table))
      return {&s, t};
  return {nullptr, nullptr};
}

std::optional<std::size_t> sync_config::scope_index(std::string_view scope) const {
  for (std::size_t i = 0; i < scopes.size(); ++i)
    if (scopes[i].name == scope)
      return i;
  return std::nullopt;
}

sync_config sync_config::parse(const json& input) {
  const json* root = &input;
  if (input.is_object() && input.contains("konysyncClientSyncConfig"))
    root = &input["konysyncClientSyncConfig"];
  location at;
  if (!root->is_object())
    throw config_error("sync config: the configuration must be a JSON object");
  sync_config config;
  config.source = *root;
  config.app_id = require_string(*root, "AppID", at);
  config.version = require_string(*root, "Version", at);
  const auto& scopes = require(*root, "ArrayOfSyncScope", at);
  if (!scopes.is_array() || scopes.empty())
    fail(at, "ArrayOfSyncScope", "must be a non-empty array");
  std::set<std::string> scope_names, table_names;
  for (const auto& s : scopes) {
    location scope_at;
    if (!s.is_object())
      fail(scope_at, "ArrayOfSyncScope", "every entry must be an object");
    scope_def scope;
    scope.name = require_string(s, "ScopeName", scope_at);
    scope_at.scope = scope.name;
    check_identifier(scope.name, "ScopeName", scope_at);
    if (!scope_names.insert(scope.name).second)
      fail(scope_at, "ScopeName", "duplicate scope name");
    scope.database_name = optional_string(s, "ScopeDatabaseName", scope_at);
    if (scope.database_name.empty())
      scope.database_name = config.app_id;
    scope.data_source = optional_string(s, "DataSource", scope_at);
    auto strategy = require_string(s, "Strategy", scope_at);
    if (strategy == "OTA_SYNC")
      scope.strategy = sync_strategy::ota_sync;
    else if (strategy == "PERSISTENT_SYNC")
      scope.strategy = sync_strategy::persistent_sync;
    else
      fail(scope_at, "Strategy", "must be OTA_SYNC or PERSISTENT_SYNC, got '" + strategy + "'");
    const auto& tables = require(s, "ScopeTables", scope_at);
    if (!tables.is_array() || tables.empty())
      fail(scope_at, "ScopeTables", "must be a non-empty array");
    for (const auto& t : tables) {
      auto table = parse_table(t, scope_at);
      if (!table_names.insert(lower(table.name)).second) {
        location table_at = scope_at;
        table_at.table = table.name;
        fail(table_at, "Name", "a table of this name is already defined");
      }
      scope.tables.push_back(std::move(table));
    }
    config.scopes.push_back(std::move(scope));
  }
  // Relationships must point at existing tables and columns.
  for (const auto& scope : config.scopes)
    for (const auto& table : scope.tables)
      for (const auto& rel : table.relationships) {
        location rel_at{scope.name, table.name, {}};
        std::string key = "Relationships." + std::string{to_string(rel.kind)};
        auto [target_scope, target] = config.find_table(rel.target);
        if (!target)
          fail(rel_at, key + ".TargetObject", "unknown table '" + rel.target + "'");
        for (const auto& a : rel.attributes) {
          if (!table.find_column(a.source_attribute))
            fail(rel_at, key + ".SourceObject_Attribute",
                 "'" + a.source_attribute + "' is not a column of '" + table.name + "'");
          if (!target->find_column(a.target_attribute))
            fail(rel_at, key + ".TargetObject_Attribute",
                 "'" + a.target_attribute + "' is not a column of '" + target->name + "'");
        }
      }
  return config;
}

sync_config sync_config::parse_text(std::string_view text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw config_error(std::string{"sync config: not valid JSON: "} + e.what());
  }
  return parse(j);
}

sync_config sync_config::load_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw config_error("sync config: cannot read file '" + path + "'");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  try {
    return parse_text(buffer.str());
  } catch (const config_error& e) {
    throw config_error(path + ": " + e.what());
  }
}

} // namespace mxsync
