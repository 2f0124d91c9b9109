#include "persistence/change_tracking.hpp"

#include "mxsync/error.hpp"
#include "persistence/device_schema.hpp"

namespace mxsync::tracking {

namespace {

using nlohmann::json;
using db::quote_identifier;

// SQLite's timestamp with milliseconds, as konysyncchangetime stores it.
constexpr const char* now_sql = "strftime('%Y-%m-%d %H:%M:%f','now')";

[[noreturn]] void missing_meta_row(const std::string& scope) {
  throw sync_exception(error_code::metatable_error,
                       "Meta tables did not get created successfully because of some unknown "
                       "problem in sync.init, please invoke sync.reset",
                       {{"scope", scope}, {"reason", "no konysyncMETAINFO row for the scope"}});
}

/// Steps a statement that yields one integer and runs it to completion, so that the
/// cached statement holds no lock afterwards.
std::optional<std::int64_t> single_int(db::statement& stmt) {
  std::optional<std::int64_t> out;
  if (stmt.step() && !stmt.is_null(0))
    out = stmt.column_int64(0);
  stmt.run();
  stmt.reset();
  return out;
}

std::string placeholders(std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i)
    out += i ? ", ?" : "?";
  return out;
}

/// Binds an image's values in image_columns order starting at `first`; returns the
/// next free index.
int bind_image(db::statement& stmt, const std::vector<std::string>& columns, const json& image,
               int first) {
  for (const auto& name : columns) {
    auto it = image.find(name);
    stmt.bind(first++, it == image.end() ? json(nullptr) : *it);
  }
  return first;
}

int bind_key(db::statement& stmt, const table_def& table, const json& key, int first) {
  for (const auto& value : key_values(table, key))
    stmt.bind(first++, value);
  return first;
}

json field(const json& row, const char* name) {
  auto it = row.find(name);
  return it == row.end() ? json(nullptr) : *it;
}

void save_pre_image(db::connection& db, const table_def& table, const json& image,
                    int change_type, const json& version, const json& hashsum) {
  const auto columns = image_columns(table);
  // "or ignore": only the first local change since the last sync keeps its pre-image.
  auto& stmt = db.cached("insert or ignore into "
                         + quote_identifier(schema::original_table(table.name)) + " ("
                         + column_list(columns)
                         + ", konysyncoriginalchangetype, konysyncoriginalversionnumber, "
                           "konysynchashsum) values ("
                         + placeholders(columns.size() + 3) + ")");
  int next = bind_image(stmt, columns, image, 1);
  stmt.bind(next, change_type).bind(next + 1, version).bind(next + 2, hashsum);
  stmt.run();
  stmt.reset();
}

void append_history(db::connection& db, const object_ref& object, const json& image,
                    int change_type, std::int64_t version, const json& hashsum) {
  const auto columns = image_columns(object.table);
  const auto sequence = next_replay_sequence(db, object.scope.name);
  auto& stmt = db.cached("insert into "
                         + quote_identifier(schema::history_table(object.table.name)) + " ("
                         + column_list(columns)
                         + ", konysyncversionnumber, konysyncchangetype, konysyncreplaysequence, "
                           "konysyncchangetime, konysynchashsum) values ("
                         + placeholders(columns.size() + 3) + ", " + now_sql + ", ?)");
  int next = bind_image(stmt, columns, image, 1);
  stmt.bind(next, version).bind(next + 1, change_type).bind(next + 2, sequence);
  stmt.bind(next + 3, hashsum);
  stmt.run();
  stmt.reset();
}

} // namespace

object_ref resolve(const sync_config& config, std::string_view table) {
  auto [scope, found] = config.find_table(table);
  if (!found)
    throw sync_exception(error_code::table_does_not_exist,
                         "Table:" + std::string{table} + " Doesnot exists ",
                         {{"table", std::string{table}}});
  return {*scope, *found};
}

std::int64_t current_version(db::connection& db, const std::string& scope) {
  auto& stmt = db.cached("select versionnumber from konysyncMETAINFO where scopename = ? "
                         "and filtervalue = ?");
  stmt.bind(1, scope).bind(2, schema::no_filter);
  auto version = single_int(stmt);
  if (!version) {
    if (!db.query_int("select 1 from konysyncMETAINFO where scopename = ? and filtervalue = ?",
                      {scope, schema::no_filter}))
      missing_meta_row(scope);
    return 0;
  }
  return *version;
}

std::int64_t next_replay_sequence(db::connection& db, const std::string& scope) {
  auto& stmt = db.cached("update konysyncMETAINFO set replaysequencenumber = "
                         "coalesce(replaysequencenumber, 0) + 1 where scopename = ? and "
                         "filtervalue = ? returning replaysequencenumber");
  stmt.bind(1, scope).bind(2, schema::no_filter);
  auto sequence = single_int(stmt);
  if (!sequence)
    missing_meta_row(scope);
  return *sequence;
}

json next_generated_id(db::connection& db, const std::string& scope, const column_def& key) {
  // The id handed out is the stored value; the counter then moves one further down.
  auto& stmt = db.cached("update konysyncMETAINFO set lastgeneratedid = "
                         "coalesce(lastgeneratedid, -1) - 1 where scopename = ? and "
                         "filtervalue = ? returning lastgeneratedid + 1");
  stmt.bind(1, scope).bind(2, schema::no_filter);
  auto id = single_int(stmt);
  if (!id)
    missing_meta_row(scope);
  // A number for every numeric key type (big_decimal included), its text for string
  // and text keys: what the real client's replaceautogeneratedPK stores.
  if (is_numeric(key.type))
    return *id;
  return std::to_string(*id);
}

std::vector<std::string> image_columns(const table_def& table) {
  std::vector<std::string> out;
  out.reserve(table.columns.size());
  for (const auto& column : table.columns)
    out.push_back(column.name);
  for (const auto& column : table.columns)
    if (column.type == column_type::binary)
      out.push_back("blobref_" + column.name);
  return out;
}

std::string column_list(const std::vector<std::string>& names, std::string_view prefix) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty())
      out += ", ";
    out += std::string{prefix} + quote_identifier(name);
  }
  return out;
}

std::string key_condition(const table_def& table, std::string_view prefix) {
  std::string out;
  for (const auto& key : table.primary_key) {
    if (!out.empty())
      out += " and ";
    out += std::string{prefix} + quote_identifier(key) + " = ?";
  }
  return out;
}

std::vector<json> key_values(const table_def& table, const json& key) {
  std::vector<json> out;
  out.reserve(table.primary_key.size());
  for (const auto& name : table.primary_key)
    out.push_back(field(key, name.c_str()));
  return out;
}

json key_of(const table_def& table, const json& row) {
  json out = json::object();
  for (const auto& name : table.primary_key)
    out[name] = field(row, name.c_str());
  return out;
}

std::optional<json> read_row(db::connection& db, const table_def& table, const json& key) {
  auto& stmt = db.cached("select " + column_list(image_columns(table))
                         + ", konysyncchangetype, konysyncversionnumber, konysynchashsum from "
                         + quote_identifier(table.name) + " where " + key_condition(table));
  bind_key(stmt, table, key, 1);
  std::optional<json> row;
  if (stmt.step())
    row = stmt.row_json();
  stmt.reset();
  return row;
}

bool created_deferred(db::connection& db, const table_def& table, const json& key) {
  auto& stmt = db.cached("select 1 from " + quote_identifier(schema::history_table(table.name))
                         + " where " + key_condition(table) + " and konysyncchangetype = "
                         + std::to_string(change_code(insert_change, false)) + " limit 1");
  bind_key(stmt, table, key, 1);
  return single_int(stmt).has_value();
}

void record_insert(db::connection& db, const object_ref& object, const json& image,
                   bool mark_for_upload) {
  const auto& table = object.table;
  const auto columns = image_columns(table);
  const auto version = current_version(db, object.scope.name);
  const int code = change_code(insert_change, mark_for_upload);
  auto& stmt = db.cached("insert into " + quote_identifier(table.name) + " ("
                         + column_list(columns)
                         + ", konysyncchangetype, konysyncversionnumber, konysynchashsum) values ("
                         + placeholders(columns.size() + 3) + ")");
  int next = bind_image(stmt, columns, image, 1);
  stmt.bind(next, code).bind(next + 1, version).bind_null(next + 2);
  stmt.run();
  stmt.reset();
  // An insert has no pre-image: the new values stand in (T_original's not-null
  // columns need them); rollback of an insert only deletes the row.
  save_pre_image(db, table, image, code, nullptr, nullptr);
  append_history(db, object, image, code, version, nullptr);
}

void record_update(db::connection& db, const object_ref& object, const json& current,
                   const json& image, bool mark_for_upload) {
  const auto& table = object.table;
  const auto columns = image_columns(table);
  const auto version = current_version(db, object.scope.name);
  const int code = change_code(update_change, mark_for_upload);
  const auto old_code = field(current, schema::change_type_column);
  // A row the server has never seen stays an insert, however often it is edited.
  json main_code = code;
  if (old_code == insert_change || old_code == change_code(insert_change, false))
    main_code = old_code;
  std::string assignments;
  for (const auto& name : columns)
    assignments += quote_identifier(name) + " = ?, ";
  auto& stmt = db.cached("update " + quote_identifier(table.name) + " set " + assignments
                         + "konysyncchangetype = ?, konysyncversionnumber = ? where "
                         + key_condition(table));
  int next = bind_image(stmt, columns, image, 1);
  stmt.bind(next, main_code).bind(next + 1, version);
  bind_key(stmt, table, current, next + 2);
  stmt.run();
  stmt.reset();
  const auto hashsum = field(current, schema::hashsum_column);
  save_pre_image(db, table, current, code, field(current, schema::version_column), hashsum);
  append_history(db, object, image, code, version, hashsum);
}

void record_delete(db::connection& db, const object_ref& object, const json& current,
                   bool mark_for_upload) {
  const auto& table = object.table;
  const auto version = current_version(db, object.scope.name);
  const int code = change_code(delete_change, mark_for_upload);
  auto& stmt =
    db.cached("delete from " + quote_identifier(table.name) + " where " + key_condition(table));
  bind_key(stmt, table, current, 1);
  stmt.run();
  stmt.reset();
  const auto hashsum = field(current, schema::hashsum_column);
  save_pre_image(db, table, current, code, field(current, schema::version_column), hashsum);
  append_history(db, object, current, code, version, hashsum);
}

void forget_instance(db::connection& db, const table_def& table, const json& key) {
  for (const auto& name :
       {table.name, schema::history_table(table.name), schema::original_table(table.name)}) {
    auto& stmt =
      db.cached("delete from " + quote_identifier(name) + " where " + key_condition(table));
    bind_key(stmt, table, key, 1);
    stmt.run();
    stmt.reset();
  }
}

bool mark_for_upload(db::connection& db, const object_ref& object, const json& key) {
  const auto& table = object.table;
  const auto version = current_version(db, object.scope.name);
  const std::string deferred = " in (90, 91, 92)";
  std::int64_t changed = 0;
  auto& main = db.cached("update " + quote_identifier(table.name)
                         + " set konysyncchangetype = konysyncchangetype - 90, "
                           "konysyncversionnumber = ? where "
                         + key_condition(table) + " and konysyncchangetype" + deferred);
  main.bind(1, version);
  bind_key(main, table, key, 2);
  main.run();
  changed += db.changes();
  main.reset();
  auto& history = db.cached("update " + quote_identifier(schema::history_table(table.name))
                            + " set konysyncchangetype = konysyncchangetype - 90, "
                              "konysyncversionnumber = ? where "
                            + key_condition(table) + " and konysyncchangetype" + deferred);
  history.bind(1, version);
  bind_key(history, table, key, 2);
  history.run();
  changed += db.changes();
  history.reset();
  auto& original = db.cached("update " + quote_identifier(schema::original_table(table.name))
                             + " set konysyncoriginalchangetype = konysyncoriginalchangetype - 90 "
                               "where "
                             + key_condition(table) + " and konysyncoriginalchangetype" + deferred);
  bind_key(original, table, key, 1);
  original.run();
  original.reset();
  return changed > 0;
}

bool rollback(db::connection& db, const table_def& table, const json& key) {
  const auto original = quote_identifier(schema::original_table(table.name));
  auto& find = db.cached("select konysyncoriginalchangetype from " + original + " where "
                         + key_condition(table));
  bind_key(find, table, key, 1);
  auto first_change = single_int(find);
  if (!first_change) {
    // No pre-image: nothing local to undo (a key with history but no pre-image
    // cannot arise from these functions; its history is cleared all the same).
    auto& history = db.cached("select 1 from " + quote_identifier(schema::history_table(table.name))
                              + " where " + key_condition(table) + " limit 1");
    bind_key(history, table, key, 1);
    if (!single_int(history))
      return false;
  } else if (*first_change % deferred_offset == insert_change) {
    auto& remove =
      db.cached("delete from " + quote_identifier(table.name) + " where " + key_condition(table));
    bind_key(remove, table, key, 1);
    remove.run();
    remove.reset();
  } else {
    // "or replace": the row may still exist (update) or be gone (delete).
    const auto columns = image_columns(table);
    auto& restore = db.cached("insert or replace into " + quote_identifier(table.name) + " ("
                              + column_list(columns)
                              + ", konysyncchangetype, konysyncversionnumber, konysynchashsum) "
                                "select "
                              + column_list(columns)
                              + ", -1, konysyncoriginalversionnumber, konysynchashsum from "
                              + original + " where " + key_condition(table));
    bind_key(restore, table, key, 1);
    restore.run();
    restore.reset();
  }
  for (const auto& name : {schema::history_table(table.name), schema::original_table(table.name)}) {
    auto& clear =
      db.cached("delete from " + quote_identifier(name) + " where " + key_condition(table));
    bind_key(clear, table, key, 1);
    clear.run();
    clear.reset();
  }
  return true;
}

std::int64_t rollback_all(db::connection& db, const table_def& table) {
  // Keys first: rollback() reuses cached statements over the same tables.
  std::vector<json> keys;
  auto& stmt = db.cached("select " + column_list(table.primary_key) + " from "
                         + quote_identifier(schema::original_table(table.name)) + " union select "
                         + column_list(table.primary_key) + " from "
                         + quote_identifier(schema::history_table(table.name)));
  while (stmt.step())
    keys.push_back(key_of(table, stmt.row_json()));
  stmt.reset();
  std::int64_t count = 0;
  for (const auto& key : keys)
    if (rollback(db, table, key))
      ++count;
  return count;
}

} // namespace mxsync::tracking
