#include "persistence/sync_state.hpp"

#include "mxsync/error.hpp"
#include "persistence/device_schema.hpp"

namespace mxsync::syncdb {

namespace {

using nlohmann::json;

[[noreturn]] void missing_meta_row(const std::string& scope) {
  throw sync_exception(error_code::metatable_error,
                       "Meta tables did not get created successfully because of some unknown "
                       "problem in sync.init, please invoke sync.reset",
                       {{"scope", scope}, {"reason", "no konysyncMETAINFO row for the scope"}});
}

std::string text_or_empty(const db::statement& stmt, int column) {
  return stmt.is_null(column) ? std::string{} : stmt.column_text(column);
}

/// The id of the (scope, filter) row, creating the row when it does not exist yet.
/// A filter row only keeps a download blob: counters stay on the 'no filter' row.
std::int64_t filter_row_id(db::connection& db, const std::string& scope,
                           const std::string& filter_value) {
  auto& find = db.cached("select id from konysyncMETAINFO where scopename = ? and filtervalue = ?");
  find.bind(1, scope).bind(2, filter_value);
  std::optional<std::int64_t> id;
  if (find.step())
    id = find.column_int64(0);
  find.reset();
  if (id)
    return *id;
  if (filter_value == schema::no_filter)
    missing_meta_row(scope);
  auto& insert = db.cached(
    "insert into konysyncMETAINFO (id, versionnumber, lastserversynccontext, "
    "lastserveruploadsynccontext, lastschemaupgradesynccontext, filtervalue, "
    "replaysequencenumber, lastgeneratedid, scopename) values ((select coalesce(max(id), -1) + 1 "
    "from konysyncMETAINFO), 0, '', '', '', ?, 0, -1, ?) returning id");
  insert.bind(1, filter_value).bind(2, scope);
  if (!insert.step())
    missing_meta_row(scope);
  const auto created = insert.column_int64(0);
  insert.run();
  insert.reset();
  return created;
}

json read_diagnostics(db::connection& db) {
  auto& stmt = db.cached("select details from konysyncDIAGNOSTICS where id = 1");
  json details;
  if (stmt.step() && !stmt.is_null(0))
    details = json::parse(stmt.column_text(0), nullptr, false);
  stmt.reset();
  if (!details.is_object())
    details = json::object();
  return details;
}

} // namespace

const scope_def& require_scope(const sync_config& config, const std::string& scope) {
  const auto* found = config.find_scope(scope);
  if (!found)
    throw sync_exception(error_code::scope_does_not_exist, "Scope:" + scope + " Doesnot exists ",
                         {{"scope", scope}});
  return *found;
}

void throw_sql_failure(const std::string& operation, const db::sqlite_error& error) {
  throw sync_exception(error_code::sql_statement, "Some error occurred in executing SQL statement",
                       {{"operation", operation}, {"sqlite", error.what()},
                        {"sqliteCode", error.code()}});
}

// -- device registration --------------------------------------------------------------

device_registration read_device_registration(db::connection& db) {
  return with_sql_errors("read device registration", [&] {
    device_registration out;
    auto& stmt = db.cached("select DeviceID, InstanceID from SyncConfigTable limit 1");
    if (stmt.step()) {
      out.device_id = stmt.column_optional_text(0);
      out.instance_id = stmt.column_optional_text(1);
    }
    stmt.reset();
    return out;
  });
}

void save_device_registration(db::connection& db, const std::string& device_id,
                              const std::string& instance_id) {
  with_sql_errors("save device registration", [&] {
    db::transaction tx{db};
    auto& update = db.cached("update SyncConfigTable set DeviceID = ?, InstanceID = ?");
    update.bind(1, device_id).bind(2, instance_id);
    update.run();
    update.reset();
    if (db.changes() == 0) {
      auto& insert = db.cached("insert into SyncConfigTable (DeviceID, InstanceID) values (?, ?)");
      insert.bind(1, device_id).bind(2, instance_id);
      insert.run();
      insert.reset();
    }
    tx.commit();
  });
}

// -- scope positions --------------------------------------------------------------------

std::string filter_value_text(const json& scope_filters) {
  if (scope_filters.is_null())
    return schema::no_filter;
  // dump() without indent is compact like JSON.stringify; ensure_ascii off keeps UTF-8
  // (invalid UTF-8 is replaced rather than thrown: the text is only a row's identity).
  return json{{"d", scope_filters}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string filter_value_for_scope(const json& filterparams, const std::string& scope) {
  if (!filterparams.is_object())
    return schema::no_filter;
  const auto entry = filterparams.find(scope);
  return entry == filterparams.end() ? std::string{schema::no_filter} : filter_value_text(*entry);
}

scope_position read_scope_position(db::connection& db, const sync_config& config,
                                   const std::string& scope, const std::string& filter_value) {
  require_scope(config, scope);
  return with_sql_errors("read scope position", [&] {
    db::transaction tx{db};
    scope_position out;
    out.filter_value = filter_value;
    auto& base = db.cached("select id, versionnumber, lastserveruploadsynccontext, "
                           "lastserversynccontext from konysyncMETAINFO where scopename = ? and "
                           "filtervalue = ?");
    base.bind(1, scope).bind(2, schema::no_filter);
    if (!base.step()) {
      base.reset();
      missing_meta_row(scope);
    }
    out.id = base.column_int64(0);
    out.upload_sequence = base.is_null(1) ? 0 : base.column_int64(1);
    out.upload_blob = text_or_empty(base, 2);
    out.download_blob = text_or_empty(base, 3);
    base.reset();
    if (filter_value != schema::no_filter) {
      out.id = filter_row_id(db, scope, filter_value);
      auto& row = db.cached("select lastserversynccontext from konysyncMETAINFO where id = ?");
      row.bind(1, out.id);
      out.download_blob = row.step() ? text_or_empty(row, 0) : std::string{};
      row.reset();
    }
    tx.commit();
    return out;
  });
}

std::int64_t upload_sequence_number(db::connection& db, const sync_config& config,
                                    const std::string& scope) {
  require_scope(config, scope);
  return with_sql_errors("read upload sequence number", [&] {
    auto& stmt = db.cached("select versionnumber from konysyncMETAINFO where scopename = ? and "
                           "filtervalue = ?");
    stmt.bind(1, scope).bind(2, schema::no_filter);
    if (!stmt.step()) {
      stmt.reset();
      missing_meta_row(scope);
    }
    const std::int64_t out = stmt.is_null(0) ? 0 : stmt.column_int64(0);
    stmt.reset();
    return out;
  });
}

void save_download_blob(db::connection& db, const sync_config& config, const std::string& scope,
                        const std::string& filter_value, const std::string& blob) {
  require_scope(config, scope);
  with_sql_errors("save download blob", [&] {
    db::transaction tx{db};
    const auto id = filter_row_id(db, scope, filter_value);
    auto& stmt = db.cached("update konysyncMETAINFO set lastserversynccontext = ? where id = ?");
    stmt.bind(1, blob).bind(2, id);
    stmt.run();
    stmt.reset();
    tx.commit();
  });
}

void save_upload_blob(db::connection& db, const sync_config& config, const std::string& scope,
                      const std::string& blob) {
  require_scope(config, scope);
  with_sql_errors("save upload blob", [&] {
    db::transaction tx{db};
    auto& stmt = db.cached("update konysyncMETAINFO set lastserveruploadsynccontext = ? where "
                           "scopename = ? and filtervalue = ?");
    stmt.bind(1, blob).bind(2, scope).bind(3, schema::no_filter);
    stmt.run();
    stmt.reset();
    if (db.changes() == 0)
      missing_meta_row(scope);
    tx.commit();
  });
}

// -- initialized flag ---------------------------------------------------------------------

bool is_scope_initialized(db::connection& db, const std::string& scope) {
  return with_sql_errors("read scope settings", [&] {
    const auto details = read_diagnostics(db);
    const auto settings = details.find("scopeSettings");
    if (settings == details.end() || !settings->is_object())
      return false;
    const auto entry = settings->find(scope);
    if (entry == settings->end() || !entry->is_object())
      return false;
    const auto flag = entry->find("initialize");
    // The real client stores a boolean; accept its string spelling too.
    return flag != entry->end() && (*flag == true || *flag == "true");
  });
}

void mark_scope_initialized(db::connection& db, const std::string& scope) {
  with_sql_errors("save scope settings", [&] {
    db::transaction tx{db};
    auto details = read_diagnostics(db);
    auto& settings = details["scopeSettings"];
    if (!settings.is_object())
      settings = json::object();
    auto& entry = settings[scope];
    if (!entry.is_object())
      entry = json::object();
    entry["initialize"] = true;
    auto& stmt = db.cached("insert into konysyncDIAGNOSTICS (id, action, details, timestamp) "
                           "values (1, 'scopeSettings', ?, datetime('now')) on conflict(id) do "
                           "update set details = excluded.details");
    stmt.bind(1, details.dump());
    stmt.run();
    stmt.reset();
    tx.commit();
  });
}

} // namespace mxsync::syncdb
