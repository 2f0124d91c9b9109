#include "persistence/pending_changes.hpp"

#include "mxsync/error.hpp"
#include "persistence/change_tracking.hpp"
#include "persistence/device_schema.hpp"
#include "persistence/orm.hpp"

namespace mxsync::pending {

namespace {

using nlohmann::json;
using db::quote_identifier;

/// "m.a = h.a and m.b = h.b" over the key.
std::string same_key(const table_def& table, std::string_view left, std::string_view right) {
  std::string out;
  for (const auto& key : table.primary_key)
    out += (out.empty() ? "" : " and ") + std::string{left} + quote_identifier(key) + " = "
           + std::string{right} + quote_identifier(key);
  return out;
}

/// The rows of every object of that kind, in the application-level result shape.
json collect(db::connection& db, const sync_config& config, kind which) {
  json total_data = json::object();
  std::int64_t total = 0;
  for (const auto& scope : config.scopes)
    for (const auto& table : scope.tables) {
      auto data = rows(db, config, table.name, which);
      if (data.empty())
        continue;
      total += static_cast<std::int64_t>(data.size());
      total_data[table.name] = {{"count", data.size()}, {"data", std::move(data)}};
    }
  return {{"totalCount", total}, {"totalData", std::move(total_data)}};
}

} // namespace

json rows(db::connection& db, const sync_config& config, std::string_view table_name,
          kind which, const where::clause& filter) {
  auto object = tracking::resolve(config, table_name);
  const auto& table = object.table;
  // OTA acks come with the upload answer in the transaction that records the upload
  // (syncdb::commit_ota_upload), and a refused row is a pending upload again: an OTA
  // scope has nothing waiting for an acknowledgement, as the API page says.
  if (which == kind::acknowledgement && object.scope.strategy == sync_strategy::ota_sync)
    return json::array();
  std::int64_t version = 0;
  try {
    version = tracking::current_version(db, object.scope.name);
  } catch (const db::sqlite_error& e) {
    throw sync_exception(error_code::sql_statement, "Some error occurred in executing SQL statement",
                         {{"sqlite", e.what()}});
  }
  const auto v = std::to_string(version); // an integer from our own meta row, not app text
  std::string live_condition;
  std::string deleted_condition;
  switch (which) {
    case kind::upload:
      live_condition = "konysyncchangetype is not null and konysyncchangetype <> -1 and "
                       "konysyncchangetype not like '9%' and konysyncversionnumber = "
                       + v;
      deleted_condition = "h.konysyncchangetype = 2 and h.konysyncversionnumber = " + v;
      break;
    case kind::acknowledgement:
      live_condition = "konysyncchangetype is not null and konysyncchangetype <> -1 and "
                       "konysyncchangetype not like '9%' and konysyncversionnumber <> "
                       + v;
      deleted_condition = "h.konysyncchangetype = 2 and h.konysyncversionnumber <> " + v;
      break;
    case kind::deferred:
      live_condition = "konysyncchangetype like '9%'";
      deleted_condition = "h.konysyncchangetype = 92";
      break;
  }
  std::vector<std::string> columns;
  for (const auto& c : table.columns)
    columns.push_back(c.name);
  const auto main = quote_identifier(table.name);
  const auto history = quote_identifier(schema::history_table(table.name));
  const auto original = quote_identifier(schema::original_table(table.name));
  // A deleted record shows as its latest history row, if that row is the delete and
  // the server knows the record (its first local change was not an insert).
  auto sql = "select * from (select " + tracking::column_list(columns)
             + ", konysyncchangetype, konysyncversionnumber from " + main + " where "
             + live_condition + " union all select " + tracking::column_list(columns, "h.")
             + ", h.konysyncchangetype, h.konysyncversionnumber from " + history + " h where "
             + deleted_condition
             + " and h.konysyncreplaysequence = (select max(h2.konysyncreplaysequence) from "
             + history + " h2 where " + same_key(table, "h2.", "h.") + ") and not exists (select 1 from "
             + main + " m where " + same_key(table, "m.", "h.") + ") and not exists (select 1 from "
             + original + " o where " + same_key(table, "o.", "h.")
             + " and o.konysyncoriginalchangetype in (0, 90))) as " + main + " "
             + where::normalize(filter.text);
  auto found =
    where::query_guarded(db, sql, filter.params, where::object_tables_policy(config));
  json out = json::array();
  for (const auto& row : found)
    out.push_back(orm::to_api_row(table, row));
  return out;
}

json get_pending_upload(db::connection& db, const sync_config& config) {
  return collect(db, config, kind::upload);
}

json get_pending_acknowledgement(db::connection& db, const sync_config& config) {
  return collect(db, config, kind::acknowledgement);
}

json get_deferred_upload(db::connection& db, const sync_config& config) {
  return collect(db, config, kind::deferred);
}

json rollback_pending_local_changes(db::connection& db, const sync_config& config) {
  try {
    db::transaction tx{db};
    std::int64_t count = 0;
    for (const auto& scope : config.scopes)
      for (const auto& table : scope.tables)
        count += tracking::rollback_all(db, table);
    tx.commit();
    return {{"rowsrolledback", count}};
  } catch (const db::sqlite_error& e) {
    throw sync_exception(error_code::sql_statement, "Some error occurred in executing SQL statement",
                         {{"sqlite", e.what()}});
  }
}

json execute_select_query(db::connection& db, std::string_view sql,
                          const std::vector<json>& params) {
  return where::query_guarded(db, sql, params, where::read_only_policy());
}

} // namespace mxsync::pending
