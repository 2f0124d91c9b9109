#include "persistence/reconciliation.hpp"

#include "mxsync/error.hpp"
#include "persistence/change_tracking.hpp"
#include "persistence/device_schema.hpp"
#include "persistence/orm.hpp"
#include "persistence/upload_batch.hpp"

#include <algorithm>
#include <cctype>

namespace mxsync::syncdb::reconcile {

namespace {

using db::quote_identifier;
using transport::column_list;
using transport::column_value;

template <class F>
auto sql_errors_as_7019(F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const db::sqlite_error& e) {
    throw sync_exception(error_code::sql_statement, "Some error occurred in executing SQL statement",
                         {{"sqlite", e.what()}, {"sqlite_code", e.code()}});
  }
}

/// The temp schema's name of the key table, quoted for SQL.
std::string temp_name(const table_def& table) {
  return "temp." + quote_identifier(key_table(table));
}

const table_def& table_of(const sync_config& config, const std::string& object) {
  return tracking::resolve(config, object).table;
}

/// The row's value of `column`, matched case-insensitively (servers do not always
/// keep the config's spelling), or nullptr.
const column_value* value_of(const column_list& columns, const std::string& column) {
  auto same = [&](const std::string& name) {
    return name.size() == column.size()
           && std::equal(name.begin(), name.end(), column.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a))
                       == std::tolower(static_cast<unsigned char>(b));
              });
  };
  for (const auto& [name, value] : columns)
    if (same(name))
      return &value;
  return nullptr;
}

void count_for(std::vector<std::pair<std::string, std::int64_t>>& counts, const std::string& name,
               std::int64_t n = 1) {
  for (auto& [object, count] : counts)
    if (object == name) {
      count += n;
      return;
    }
  counts.emplace_back(name, n);
}

/// "main.pk = keys.pk and ..." joining the main table to the key table.
std::string key_join(const table_def& table, const std::string& main, const std::string& keys) {
  std::string out;
  for (const auto& pk : table.primary_key)
    out += (out.empty() ? "" : " and ") + main + "." + quote_identifier(pk) + " = " + keys + "."
           + quote_identifier(pk);
  return out;
}

} // namespace

std::string key_table(const table_def& table) {
  return table.name + "_tempReconciliation";
}

bool scope_has_pending_changes(db::connection& db, const sync_config& config,
                               const std::string& scope) {
  const auto* found = config.find_scope(scope);
  if (!found)
    throw sync_exception(error_code::scope_does_not_exist, "Scope:" + scope + " Doesnot exists ",
                         {{"scope", scope}});
  return sql_errors_as_7019([&] {
    for (const auto& table : found->tables)
      if (db.query_int("select 1 from " + quote_identifier(schema::history_table(table.name))
                       + " limit 1"))
        return true;
    return false;
  });
}

void begin(db::connection& db, const sync_config& config, const std::vector<std::string>& objects) {
  sql_errors_as_7019([&] {
    db::transaction tx{db};
    for (const auto& object : objects) {
      const auto& table = table_of(config, object);
      std::string columns;
      for (const auto& pk : table.primary_key)
        columns += (columns.empty() ? "" : ", ") + quote_identifier(pk) + " "
                   + schema::declared_type(*table.find_column(pk));
      db.exec("drop table if exists " + temp_name(table));
      // The primary key makes a key sent twice (overlapping pages) count once.
      db.exec("create temp table " + quote_identifier(key_table(table)) + " (" + columns
              + ", primary key (" + tracking::column_list(table.primary_key) + "))");
    }
    tx.commit();
  });
}

key_batch store_server_keys(db::connection& db, const sync_config& config,
                            const std::vector<std::string>& objects,
                            const std::vector<transport::sync_row>& rows) {
  return sql_errors_as_7019([&] {
    std::vector<std::pair<const table_def*, db::statement>> inserts;
    for (const auto& object : objects) {
      const auto& table = table_of(config, object);
      std::string marks;
      for (std::size_t i = 0; i < table.primary_key.size(); ++i)
        marks += i ? ", ?" : "?";
      inserts.emplace_back(&table, db.prepare("insert or ignore into " + temp_name(table) + " ("
                                              + tracking::column_list(table.primary_key)
                                              + ") values (" + marks + ")"));
    }
    key_batch batch;
    db::transaction tx{db};
    for (const auto& row : rows) {
      const auto* known = config.find_table(row.object_type).second;
      auto target = std::find_if(inserts.begin(), inserts.end(),
                                 [&](const auto& insert) { return insert.first == known; });
      if (!known || target == inserts.end()) {
        ++batch.rows_ignored;
        continue;
      }
      const auto& table = *target->first;
      auto& insert = target->second;
      bool complete = true;
      for (std::size_t i = 0; i < table.primary_key.size() && complete; ++i) {
        const auto* value = value_of(row.columns, table.primary_key[i]);
        complete = value && !std::holds_alternative<std::monostate>(*value);
        if (complete)
          detail::bind_column_value(insert, static_cast<int>(i + 1), *value);
      }
      if (!complete) {
        insert.reset();
        ++batch.rows_ignored;
        continue;
      }
      insert.run();
      insert.reset();
      ++batch.keys_downloaded;
      count_for(batch.per_object, table.name);
    }
    tx.commit();
    return batch;
  });
}

std::int64_t delete_rows_missing_on_server(db::connection& db, const sync_config& config,
                                           const std::string& object) {
  return sql_errors_as_7019([&] {
    const auto& table = table_of(config, object);
    db::transaction tx{db};
    auto stale = db.query("select " + tracking::column_list(table.primary_key, "m.") + " from "
                          + quote_identifier(table.name) + " m where not exists (select 1 from "
                          + temp_name(table) + " k where " + key_join(table, "m", "k") + ")");
    std::int64_t removed = 0;
    for (const auto& row : stale) {
      auto key = tracking::key_of(table, row);
      // A cascade from an earlier row of the same table may have taken it already.
      if (!tracking::read_row(db, table, key))
        continue;
      orm::remove_device_instance_by_pk(db, config, table.name, key);
      ++removed;
    }
    tx.commit();
    return removed;
  });
}

missing_keys next_missing_keys(db::connection& db, const sync_config& config,
                               const std::string& object, std::int64_t after, std::size_t limit) {
  return sql_errors_as_7019([&] {
    const auto& table = table_of(config, object);
    auto stmt = db.prepare("select k.rowid, " + tracking::column_list(table.primary_key, "k.")
                           + " from " + temp_name(table) + " k where k.rowid > ? and not exists "
                           + "(select 1 from " + quote_identifier(table.name) + " m where "
                           + key_join(table, "m", "k") + ") order by k.rowid limit ?");
    stmt.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
    missing_keys page;
    page.next_position = after;
    while (stmt.step()) {
      page.next_position = stmt.column_int64(0);
      column_list key;
      for (std::size_t i = 0; i < table.primary_key.size(); ++i)
        key.emplace_back(table.primary_key[i],
                         detail::read_column_value(stmt, static_cast<int>(i + 1)));
      page.keys.push_back(std::move(key));
    }
    return page;
  });
}

insert_batch insert_server_rows(db::connection& db, const sync_config& config,
                                const std::string& scope,
                                const std::vector<transport::sync_row>& rows) {
  const auto* scope_def = config.find_scope(scope);
  if (!scope_def)
    throw sync_exception(error_code::scope_does_not_exist, "Scope:" + scope + " Doesnot exists ",
                         {{"scope", scope}});
  return sql_errors_as_7019([&] {
    insert_batch batch;
    db::transaction tx{db};
    for (const auto& row : rows) {
      ++batch.rows_downloaded;
      const auto* table = scope_def->find_table(row.object_type);
      if (!table)
        continue;
      // Only the columns the config knows; the statement's shape follows the row's
      // columns, which a bulkGet answer keeps the same for every row of an object.
      std::string columns, marks;
      std::vector<const column_value*> values;
      for (const auto& [name, value] : row.columns) {
        const auto* column = table->find_column(name);
        if (!column)
          continue;
        columns += quote_identifier(column->name) + ", ";
        marks += "?, ";
        values.push_back(&value);
      }
      auto& insert = db.cached("insert or ignore into " + quote_identifier(table->name) + " ("
                               + columns + schema::hashsum_column + ") values (" + marks + "?)");
      int next = 1;
      for (const auto* value : values)
        detail::bind_column_value(insert, next++, *value);
      if (row.hashsum)
        insert.bind(next, *row.hashsum);
      else
        insert.bind_null(next);
      insert.run();
      insert.reset();
      if (db.changes() > 0) {
        ++batch.rows_inserted;
        count_for(batch.inserted_per_object, table->name);
      }
    }
    tx.commit();
    return batch;
  });
}

void end(db::connection& db, const sync_config& config, const std::vector<std::string>& objects) {
  sql_errors_as_7019([&] {
    for (const auto& object : objects)
      db.exec("drop table if exists " + temp_name(table_of(config, object)));
  });
}

} // namespace mxsync::syncdb::reconcile
