#include "persistence/orm.hpp"

#include "mxsync/error.hpp"
#include "persistence/change_tracking.hpp"
#include "persistence/device_schema.hpp"
#include "persistence/pending_changes.hpp"
#include "persistence/validation.hpp"

#include <set>
#include <utility>

namespace mxsync::orm {

namespace {

using db::quote_identifier;
using tracking::object_ref;

/// SQLite failures that validation could not foresee surface as 7019.
template <class F>
auto sql_errors_as_7019(F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const db::sqlite_error& e) {
    throw sync_exception(error_code::sql_statement, "Some error occurred in executing SQL statement",
                         {{"sqlite", e.what()}, {"sqlite_code", e.code()}});
  }
}

[[noreturn]] void no_such_record(const table_def& table, const json& key) {
  throw sync_exception(error_code::no_data_with_primary_key,
                       "No data with specified primary key found in SyncObject " + table.name + ".",
                       {{"table", table.name}, {"value", key}});
}

std::string display(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

/// A relationship seen from both ends: `child` rows point at `parent` rows through
/// equal values of child_columns / parent_columns.
struct dependency {
  const table_def* parent = nullptr;
  const table_def* child = nullptr;
  std::vector<std::string> parent_columns;
  std::vector<std::string> child_columns;
  bool cascade = false;
};

/// OneToMany declared by S (S = parent) and ManyToOne declared by C (C = child).
/// OneToOne has no stated direction and is not enforced.
std::vector<dependency> dependencies(const sync_config& config) {
  std::vector<dependency> out;
  for (const auto& scope : config.scopes)
    for (const auto& table : scope.tables)
      for (const auto& rel : table.relationships) {
        if (rel.kind == relationship_kind::one_to_one)
          continue;
        const auto* other = config.find_table(rel.target).second;
        dependency d;
        d.cascade = rel.cascade;
        if (rel.kind == relationship_kind::one_to_many) {
          d.parent = &table;
          d.child = other;
          for (const auto& a : rel.attributes) {
            d.parent_columns.push_back(table.find_column(a.source_attribute)->name);
            d.child_columns.push_back(other->find_column(a.target_attribute)->name);
          }
        } else {
          d.parent = other;
          d.child = &table;
          for (const auto& a : rel.attributes) {
            d.parent_columns.push_back(other->find_column(a.target_attribute)->name);
            d.child_columns.push_back(table.find_column(a.source_attribute)->name);
          }
        }
        out.push_back(std::move(d));
      }
  return out;
}

std::string match_condition(const std::vector<std::string>& columns) {
  std::string out;
  for (const auto& c : columns)
    out += (out.empty() ? "" : " and ") + quote_identifier(c) + " = ?";
  return out;
}

/// The values of `columns` in `row`, or nullopt when one is null (no reference then).
std::optional<std::vector<json>> reference_values(const json& row,
                                                  const std::vector<std::string>& columns) {
  std::vector<json> out;
  for (const auto& c : columns) {
    auto it = row.find(c);
    if (it == row.end() || it->is_null())
      return std::nullopt;
    out.push_back(*it);
  }
  return out;
}

/// Everything one operation needs.
struct context {
  db::connection& db;
  const sync_config& config;
  std::vector<dependency> relations;
};

context make_context(db::connection& db, const sync_config& config) {
  return {db, config, dependencies(config)};
}

/// 7014 when a row of `table` (its new image) refers to a parent that does not exist.
/// `changed`: only relationships over these columns are checked (null = all).
void check_parents_exist(context& ctx, const table_def& table, const json& image,
                         const json* changed) {
  for (const auto& d : ctx.relations) {
    if (d.child != &table)
      continue;
    if (changed) {
      bool touched = false;
      for (const auto& c : d.child_columns)
        touched = touched || changed->contains(c);
      if (!touched)
        continue;
    }
    auto values = reference_values(image, d.child_columns);
    if (!values)
      continue;
    auto& stmt = ctx.db.cached("select 1 from " + quote_identifier(d.parent->name) + " where "
                               + match_condition(d.parent_columns) + " limit 1");
    stmt.bind_all(*values);
    bool found = stmt.step();
    stmt.reset();
    if (found)
      continue;
    std::string condition;
    json info = {{"table", d.parent->name}, {"column", json::array()}, {"value", json::array()}};
    for (std::size_t i = 0; i < values->size(); ++i) {
      condition += (i ? " AND " : "") + d.parent_columns[i] + " = " + display((*values)[i]);
      info["column"].push_back(d.parent_columns[i]);
      info["value"].push_back((*values)[i]);
    }
    throw sync_exception(error_code::referential_integrity,
                         "Referential Integrity Constraints Violation: " + condition
                           + " does not exists in " + d.parent->name + ".",
                         info);
  }
}

/// Keys of `child` rows referring to `row` through `d`.
std::vector<json> dependent_keys(context& ctx, const dependency& d, const json& row) {
  std::vector<json> keys;
  auto values = reference_values(row, d.parent_columns);
  if (!values)
    return keys;
  auto& stmt = ctx.db.cached("select " + tracking::column_list(d.child->primary_key) + " from "
                             + quote_identifier(d.child->name) + " where "
                             + match_condition(d.child_columns));
  stmt.bind_all(*values);
  while (stmt.step())
    keys.push_back(tracking::key_of(*d.child, stmt.row_json()));
  stmt.reset();
  return keys;
}

using visited_set = std::set<std::pair<const table_def*, std::string>>;

/// Deletes a record with tracking after its dependents: cascading relationships
/// delete them too, any other dependents make it 7014.
void delete_tracked(context& ctx, const object_ref& object, const json& row, bool mark_for_upload,
                    visited_set& visited) {
  const auto& table = object.table;
  if (!visited.emplace(&table, tracking::key_of(table, row).dump()).second)
    return; // a relationship cycle led back here
  if (mark_for_upload && tracking::created_deferred(ctx.db, table, tracking::key_of(table, row)))
    throw sync_exception(error_code::mark_for_upload,
                         "Record does not exist on server, mark it for upload before "
                         "updating/deleting it.",
                         {{"table", table.name}, {"value", tracking::key_of(table, row)}});
  for (const auto& d : ctx.relations) {
    if (d.parent != &table)
      continue;
    auto keys = dependent_keys(ctx, d, row);
    if (keys.empty())
      continue;
    if (!d.cascade)
      throw sync_exception(error_code::referential_integrity,
                           "Referential Integrity Constraints Violation: Delete dependent records "
                           "from "
                             + d.child->name + " before deleting record(s) in " + table.name + ".",
                           {{"table", d.child->name}, {"parent", table.name}});
    auto child = tracking::resolve(ctx.config, d.child->name);
    for (const auto& key : keys)
      if (auto child_row = tracking::read_row(ctx.db, *d.child, key))
        delete_tracked(ctx, child, *child_row, mark_for_upload, visited);
  }
  tracking::record_delete(ctx.db, object, row, mark_for_upload);
}

/// Removes a record locally after its cascading dependents; other dependents stay.
void forget_cascading(context& ctx, const table_def& table, const json& row,
                      visited_set& visited) {
  if (!visited.emplace(&table, tracking::key_of(table, row).dump()).second)
    return;
  for (const auto& d : ctx.relations) {
    if (d.parent != &table || !d.cascade)
      continue;
    for (const auto& key : dependent_keys(ctx, d, row))
      if (auto child_row = tracking::read_row(ctx.db, *d.child, key))
        forget_cascading(ctx, *d.child, *child_row, visited);
  }
  tracking::forget_instance(ctx.db, table, tracking::key_of(table, row));
}

json create_one(context& ctx, const object_ref& object, const json& values, bool mark_for_upload) {
  const auto& table = object.table;
  auto checked = validation::validate_row(table, values, validation::purpose::create);
  json image = json::object();
  for (const auto& name : tracking::image_columns(table)) {
    auto it = checked.find(name);
    image[name] = it == checked.end() ? json(nullptr) : *it;
  }
  if (const auto* generated = table.autogenerated_key())
    image[generated->name] = tracking::next_generated_id(ctx.db, object.scope.name, *generated);
  auto key = tracking::key_of(table, image);
  if (tracking::read_row(ctx.db, table, key)) {
    std::string shown;
    for (const auto& value : tracking::key_values(table, key))
      shown += (shown.empty() ? "" : ", ") + display(value);
    throw sync_exception(error_code::duplicate_primary_key,
                         "Primary Key " + shown + " already exists in table " + table.name
                           + ". Please give different value of primary key.",
                         {{"table", table.name}, {"value", key}});
  }
  check_parents_exist(ctx, table, image, nullptr);
  tracking::record_insert(ctx.db, object, image, mark_for_upload);
  return key;
}

/// Applies checked values to the record `key`; false when it does not exist.
bool update_one(context& ctx, const object_ref& object, const json& key, const json& checked,
                bool mark_for_upload) {
  const auto& table = object.table;
  auto current = tracking::read_row(ctx.db, table, key);
  if (!current)
    return false;
  for (const auto& name : table.primary_key) {
    auto it = checked.find(name);
    if (it != checked.end() && *it != (*current)[name])
      throw sync_exception(error_code::invalid_data_type,
                           "Primary key attribute " + name + " of " + table.name
                             + " cannot be updated.",
                           {{"table", table.name}, {"column", name}, {"value", *it}});
  }
  if (mark_for_upload && tracking::created_deferred(ctx.db, table, key))
    throw sync_exception(error_code::invalid_mark_for_upload_value,
                         "MarkforUpload value can not be made true if the object is created with "
                         "mark for upload as false",
                         {{"table", table.name}, {"value", key}});
  json image = json::object();
  for (const auto& name : tracking::image_columns(table))
    image[name] = (*current)[name];
  for (const auto& [name, value] : checked.items())
    image[name] = value;
  check_parents_exist(ctx, table, image, &checked);
  tracking::record_update(ctx.db, object, *current, image, mark_for_upload);
  return true;
}

/// Keys of the main-table records a guarded where clause selects.
std::vector<json> select_keys(context& ctx, const table_def& table, const where::clause& filter) {
  auto sql = "select " + tracking::column_list(table.primary_key) + " from "
             + quote_identifier(table.name) + " " + where::normalize(filter.text);
  auto rows = where::query_guarded(ctx.db, sql, filter.params,
                                   where::object_tables_policy(ctx.config));
  std::vector<json> keys;
  for (const auto& row : rows)
    keys.push_back(tracking::key_of(table, row));
  return keys;
}

std::string api_columns(const table_def& table) {
  std::vector<std::string> names;
  for (const auto& c : table.columns)
    names.push_back(c.name);
  return tracking::column_list(names);
}

json api_rows(const table_def& table, const json& rows) {
  json out = json::array();
  for (const auto& row : rows)
    out.push_back(to_api_row(table, row));
  return out;
}

std::int64_t count_of(const json& rows) {
  if (rows.empty())
    return 0;
  return rows[0].begin()->get<std::int64_t>();
}

std::string order_clause(const table_def& table, const json& order_by) {
  if (order_by.is_null())
    return {};
  json entries = order_by.is_array() ? order_by : json::array({order_by});
  std::string out;
  for (const auto& entry : entries) {
    if (!entry.is_object() || !entry.contains("key") || !entry["key"].is_string())
      throw sync_exception(error_code::invalid_data_type,
                           "Invalid data type for the orderBy of " + table.name
                             + ".\nExpected:\"object\"\nActual:\""
                             + validation::js_type_name(entry) + "\"",
                           {{"table", table.name}, {"value", entry}});
    const auto key = entry["key"].get<std::string>();
    const auto* column = table.find_column(key);
    if (!column)
      throw sync_exception(error_code::invalid_data_type,
                           "Unknown attribute " + key + " in " + table.name + ".",
                           {{"table", table.name}, {"column", key}});
    std::string direction = "asc";
    if (auto it = entry.find("sortType"); it != entry.end() && !it->is_null()) {
      if (it->is_string() && iequals(it->get<std::string>(), "desc"))
        direction = "desc";
      else if (!(it->is_string() && iequals(it->get<std::string>(), "asc")))
        throw sync_exception(error_code::invalid_data_type,
                             "Invalid sortType " + display(*it) + " for the attribute " + key
                               + " in " + table.name + ".\nExpected:\"asc|desc\"",
                             {{"table", table.name}, {"column", key}, {"value", *it}});
    }
    out += (out.empty() ? " order by " : ", ") + quote_identifier(column->name) + " " + direction;
  }
  return out;
}

/// The relationship of `table` leading to `target` as (source columns, target table,
/// target columns).
std::pair<const table_def*, const relationship_def*> find_relationship(
  const sync_config& config, const table_def& table, std::string_view target,
  std::string_view attribute) {
  for (const auto& rel : table.relationships) {
    if (!iequals(rel.target, target))
      continue;
    bool matches = attribute.empty();
    for (const auto& a : rel.attributes)
      matches = matches || iequals(a.source_attribute, attribute)
                || iequals(a.target_attribute, attribute);
    if (matches)
      return {config.find_table(rel.target).second, &rel};
  }
  throw sync_exception(error_code::table_does_not_exist,
                       "No relationship from " + table.name + " to " + std::string{target}
                         + (attribute.empty() ? "" : " with " + std::string{attribute}) + ".",
                       {{"table", table.name}, {"target", std::string{target}}});
}

/// "from <target> where <target attrs> = ?" plus the values, for a related look-up.
std::pair<std::string, std::vector<json>> related_query(context& ctx, const table_def& table,
                                                        const json& pk, std::string_view target,
                                                        std::string_view attribute,
                                                        const table_def*& target_table) {
  auto key = validation::normalize_key(table, pk, "getting");
  auto row = tracking::read_row(ctx.db, table, key);
  if (!row)
    no_such_record(table, key);
  auto [found, rel] = find_relationship(ctx.config, table, target, attribute);
  target_table = found;
  std::string condition;
  std::vector<json> values;
  for (const auto& a : rel->attributes) {
    condition += (condition.empty() ? "" : " and ")
                 + quote_identifier(found->find_column(a.target_attribute)->name) + " = ?";
    values.push_back((*row)[table.find_column(a.source_attribute)->name]);
  }
  return {" from " + quote_identifier(found->name) + " where " + condition, values};
}

} // namespace

json to_api_row(const table_def& table, const json& stored) {
  json out = json::object();
  for (const auto& column : table.columns) {
    auto it = stored.find(column.name);
    if (it != stored.end())
      out[column.name] = validation::to_api_value(column, *it);
  }
  for (const char* extra : {schema::change_type_column, schema::version_column})
    if (auto it = stored.find(extra); it != stored.end())
      out[extra] = *it;
  return out;
}

// -- writes -------------------------------------------------------------------------

json create(db::connection& db, const sync_config& config, std::string_view table,
            const json& values, bool mark_for_upload) {
  auto object = tracking::resolve(config, table);
  return sql_errors_as_7019([&] {
    auto ctx = make_context(db, config);
    db::transaction tx{db};
    auto key = create_one(ctx, object, values, mark_for_upload);
    tx.commit();
    return key;
  });
}

json create_all(db::connection& db, const sync_config& config, std::string_view table,
                const json& rows, bool mark_for_upload) {
  auto object = tracking::resolve(config, table);
  if (!rows.is_array())
    throw sync_exception(error_code::invalid_data_type,
                         "Invalid data type for the values of " + object.table.name
                           + ".\nExpected:\"array\"\nActual:\"" + validation::js_type_name(rows)
                           + "\"",
                         {{"table", object.table.name}});
  return sql_errors_as_7019([&] {
    auto ctx = make_context(db, config);
    db::transaction tx{db};
    json keys = json::array();
    for (const auto& values : rows) {
      if (values.is_null())
        throw sync_exception(error_code::null_value, "Null values passed in input array",
                             {{"table", object.table.name}});
      keys.push_back(create_one(ctx, object, values, mark_for_upload));
    }
    tx.commit();
    return keys;
  });
}

void update_by_pk(db::connection& db, const sync_config& config, std::string_view table,
                  const json& pk, const json& values, bool mark_for_upload) {
  auto object = tracking::resolve(config, table);
  auto key = validation::normalize_key(object.table, pk, "updating");
  auto checked = validation::validate_row(object.table, values, validation::purpose::update);
  sql_errors_as_7019([&] {
    auto ctx = make_context(db, config);
    db::transaction tx{db};
    if (!update_one(ctx, object, key, checked, mark_for_upload))
      no_such_record(object.table, key);
    tx.commit();
  });
}

std::int64_t update(db::connection& db, const sync_config& config, std::string_view table,
                    const where::clause& where, const json& values, bool mark_for_upload) {
  auto object = tracking::resolve(config, table);
  auto checked = validation::validate_row(object.table, values, validation::purpose::update);
  return sql_errors_as_7019([&] {
    auto ctx = make_context(db, config);
    db::transaction tx{db};
    std::int64_t count = 0;
    for (const auto& key : select_keys(ctx, object.table, where))
      count += update_one(ctx, object, key, checked, mark_for_upload) ? 1 : 0;
    tx.commit();
    return count;
  });
}

std::int64_t update_all(db::connection& db, const sync_config& config, std::string_view table,
                        const json& changes, bool mark_for_upload) {
  auto object = tracking::resolve(config, table);
  if (!changes.is_array())
    throw sync_exception(error_code::invalid_data_type,
                         "Invalid data type for the changes of " + object.table.name
                           + ".\nExpected:\"array\"\nActual:\""
                           + validation::js_type_name(changes) + "\"",
                         {{"table", object.table.name}});
  return sql_errors_as_7019([&] {
    auto ctx = make_context(db, config);
    db::transaction tx{db};
    std::int64_t count = 0;
    for (const auto& change : changes) {
      if (!change.is_object() || !change.contains("changeSet"))
        throw sync_exception(error_code::null_value, "Null values passed in input array",
                             {{"table", object.table.name}, {"value", change}});
      auto checked = validation::validate_row(object.table, change["changeSet"],
                                              validation::purpose::update);
      std::string clause;
      if (auto it = change.find("whereClause"); it != change.end() && it->is_string())
        clause = it->get<std::string>();
      for (const auto& key : select_keys(ctx, object.table, where::clause{clause}))
        count += update_one(ctx, object, key, checked, mark_for_upload) ? 1 : 0;
    }
    tx.commit();
    return count;
  });
}

void delete_by_pk(db::connection& db, const sync_config& config, std::string_view table,
                  const json& pk, bool mark_for_upload) {
  auto object = tracking::resolve(config, table);
  auto key = validation::normalize_key(object.table, pk, "deleting");
  sql_errors_as_7019([&] {
    auto ctx = make_context(db, config);
    db::transaction tx{db};
    auto row = tracking::read_row(db, object.table, key);
    if (!row)
      no_such_record(object.table, key);
    visited_set visited;
    delete_tracked(ctx, object, *row, mark_for_upload, visited);
    tx.commit();
  });
}

std::int64_t remove(db::connection& db, const sync_config& config, std::string_view table,
                    const where::clause& where, bool mark_for_upload) {
  auto object = tracking::resolve(config, table);
  return sql_errors_as_7019([&] {
    auto ctx = make_context(db, config);
    db::transaction tx{db};
    std::int64_t count = 0;
    visited_set visited;
    for (const auto& key : select_keys(ctx, object.table, where))
      if (auto row = tracking::read_row(db, object.table, key)) { // a cascade may have taken it
        delete_tracked(ctx, object, *row, mark_for_upload, visited);
        ++count;
      }
    tx.commit();
    return count;
  });
}

void remove_device_instance_by_pk(db::connection& db, const sync_config& config,
                                  std::string_view table, const json& pk) {
  auto object = tracking::resolve(config, table);
  auto key = validation::normalize_key(object.table, pk, "deleting");
  sql_errors_as_7019([&] {
    auto ctx = make_context(db, config);
    db::transaction tx{db};
    auto row = tracking::read_row(db, object.table, key);
    if (!row)
      no_such_record(object.table, key);
    visited_set visited;
    forget_cascading(ctx, object.table, *row, visited);
    tx.commit();
  });
}

std::int64_t remove_device_instance(db::connection& db, const sync_config& config,
                                    std::string_view table, const where::clause& where) {
  auto object = tracking::resolve(config, table);
  return sql_errors_as_7019([&] {
    auto ctx = make_context(db, config);
    db::transaction tx{db};
    std::int64_t count = 0;
    visited_set visited;
    for (const auto& key : select_keys(ctx, object.table, where))
      if (auto row = tracking::read_row(db, object.table, key)) {
        forget_cascading(ctx, object.table, *row, visited);
        ++count;
      }
    tx.commit();
    return count;
  });
}

void mark_for_upload_by_pk(db::connection& db, const sync_config& config, std::string_view table,
                           const json& pk) {
  auto object = tracking::resolve(config, table);
  auto key = validation::normalize_key(object.table, pk, "marking");
  sql_errors_as_7019([&] {
    db::transaction tx{db};
    bool changed = tracking::mark_for_upload(db, object, key);
    if (!changed && !tracking::read_row(db, object.table, key))
      no_such_record(object.table, key);
    tx.commit();
  });
}

std::int64_t mark_for_upload(db::connection& db, const sync_config& config,
                             std::string_view table, const where::clause& where) {
  auto object = tracking::resolve(config, table);
  return sql_errors_as_7019([&] {
    auto ctx = make_context(db, config);
    db::transaction tx{db};
    std::int64_t count = 0;
    for (const auto& key : select_keys(ctx, object.table, where))
      count += tracking::mark_for_upload(db, object, key) ? 1 : 0;
    tx.commit();
    return count;
  });
}

std::int64_t rollback_pending_local_changes(db::connection& db, const sync_config& config,
                                            std::string_view table) {
  auto object = tracking::resolve(config, table);
  return sql_errors_as_7019([&] {
    db::transaction tx{db};
    auto count = tracking::rollback_all(db, object.table);
    tx.commit();
    return count;
  });
}

bool rollback_pending_local_changes_by_pk(db::connection& db, const sync_config& config,
                                          std::string_view table, const json& pk) {
  auto object = tracking::resolve(config, table);
  auto key = validation::normalize_key(object.table, pk, "rolling back");
  return sql_errors_as_7019([&] {
    db::transaction tx{db};
    bool rolled_back = tracking::rollback(db, object.table, key);
    if (!rolled_back && !tracking::read_row(db, object.table, key))
      no_such_record(object.table, key);
    tx.commit();
    return rolled_back;
  });
}

// -- reads ------------------------------------------------------------------------

json get_all(db::connection& db, const sync_config& config, std::string_view table,
             const json& order_by, std::optional<std::int64_t> limit,
             std::optional<std::int64_t> offset) {
  auto object = tracking::resolve(config, table);
  auto sql = "select " + api_columns(object.table) + " from " + quote_identifier(object.table.name)
             + order_clause(object.table, order_by);
  std::vector<json> params;
  if (limit || offset) {
    sql += " limit ? offset ?";
    params = {limit.value_or(-1), offset.value_or(0)};
  }
  return sql_errors_as_7019([&] { return api_rows(object.table, db.query(sql, params)); });
}

std::int64_t get_all_count(db::connection& db, const sync_config& config, std::string_view table) {
  auto object = tracking::resolve(config, table);
  return sql_errors_as_7019([&] {
    return db.query_int("select count(*) from " + quote_identifier(object.table.name)).value_or(0);
  });
}

std::int64_t get_count(db::connection& db, const sync_config& config, std::string_view table,
                       const where::clause& where) {
  auto object = tracking::resolve(config, table);
  auto sql = "select count(*) from (select 1 from " + quote_identifier(object.table.name) + " "
             + where::normalize(where.text) + ")";
  return count_of(
    where::query_guarded(db, sql, where.params, where::object_tables_policy(config)));
}

json find(db::connection& db, const sync_config& config, std::string_view table,
          const where::clause& where) {
  auto object = tracking::resolve(config, table);
  auto sql = "select " + api_columns(object.table) + " from " + quote_identifier(object.table.name)
             + " " + where::normalize(where.text);
  return api_rows(object.table, where::query_guarded(db, sql, where.params,
                                                     where::object_tables_policy(config)));
}

json get_all_details_by_pk(db::connection& db, const sync_config& config, std::string_view table,
                           const json& pk) {
  auto object = tracking::resolve(config, table);
  auto key = validation::normalize_key(object.table, pk, "getting");
  return sql_errors_as_7019([&] {
    json out = json::array();
    if (auto row = tracking::read_row(db, object.table, key)) {
      auto api = to_api_row(object.table, *row);
      api.erase(schema::change_type_column);
      api.erase(schema::version_column);
      out.push_back(std::move(api));
    }
    return out;
  });
}

json get_pending_upload(db::connection& db, const sync_config& config, std::string_view table,
                        const where::clause& where) {
  return pending::rows(db, config, table, pending::kind::upload, where);
}

json get_pending_acknowledgement(db::connection& db, const sync_config& config,
                                 std::string_view table) {
  return pending::rows(db, config, table, pending::kind::acknowledgement);
}

json get_deferred_upload(db::connection& db, const sync_config& config, std::string_view table,
                         const where::clause& where) {
  return pending::rows(db, config, table, pending::kind::deferred, where);
}

namespace {

bool record_has(db::connection& db, const sync_config& config, std::string_view table,
                const json& pk, pending::kind which) {
  auto object = tracking::resolve(config, table);
  auto key = validation::normalize_key(object.table, pk, "getting");
  auto by_key = where::clause{tracking::key_condition(object.table),
                              tracking::key_values(object.table, key)};
  if (!pending::rows(db, config, table, which, by_key).empty())
    return true;
  bool known = sql_errors_as_7019([&] {
    if (tracking::read_row(db, object.table, key))
      return true;
    return db
      .query_int("select 1 from " + quote_identifier(schema::history_table(object.table.name))
                   + " where " + tracking::key_condition(object.table) + " limit 1",
                 tracking::key_values(object.table, key))
      .has_value();
  });
  if (!known)
    no_such_record(object.table, key);
  return false;
}

} // namespace

bool is_record_deferred_for_upload(db::connection& db, const sync_config& config,
                                   std::string_view table, const json& pk) {
  return record_has(db, config, table, pk, pending::kind::deferred);
}

bool is_record_pending_for_upload(db::connection& db, const sync_config& config,
                                  std::string_view table, const json& pk) {
  return record_has(db, config, table, pk, pending::kind::upload);
}

json get_related(db::connection& db, const sync_config& config, std::string_view table,
                 const json& pk, std::string_view target, std::string_view attribute) {
  auto object = tracking::resolve(config, table);
  return sql_errors_as_7019([&] {
    auto ctx = make_context(db, config);
    const table_def* target_table = nullptr;
    auto [from, values] = related_query(ctx, object.table, pk, target, attribute, target_table);
    return api_rows(*target_table,
                    db.query("select " + api_columns(*target_table) + from, values));
  });
}

std::int64_t get_related_count(db::connection& db, const sync_config& config,
                               std::string_view table, const json& pk, std::string_view target,
                               std::string_view attribute) {
  auto object = tracking::resolve(config, table);
  return sql_errors_as_7019([&] {
    auto ctx = make_context(db, config);
    const table_def* target_table = nullptr;
    auto [from, values] = related_query(ctx, object.table, pk, target, attribute, target_table);
    return db.query_int("select count(*)" + from, values).value_or(0);
  });
}

} // namespace mxsync::orm
