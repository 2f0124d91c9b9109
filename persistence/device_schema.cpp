#include "persistence/device_schema.hpp"

#include "mxsync/error.hpp"

namespace mxsync::schema {

namespace {

using db::quote_identifier;

std::string column_list(const table_def& table) {
  std::string out;
  for (const auto& c : table.columns) {
    if (!out.empty())
      out += ",";
    // Appends piece by piece: GCC 12 at -O3 warns (-Wrestrict, a false positive)
    // about `"," + std::string` temporaries here.
    out += quote_identifier(c.name);
    out += ' ';
    out += declared_type(c);
    if (!c.nullable)
      out += " not null";
    if (c.type == column_type::binary) {
      out += ',';
      out += quote_identifier("blobref_" + c.name);
      out += " integer";
    }
  }
  return out;
}

std::string primary_key_clause(const table_def& table) {
  std::string out = ",primary key (";
  for (std::size_t i = 0; i < table.primary_key.size(); ++i) {
    if (i)
      out += ", ";
    out += quote_identifier(table.primary_key[i]);
  }
  return out + ")";
}

const char* const meta_tables[] = {
  "konysyncMETAINFO",       "konysyncDIAGNOSTICS",   "konysyncPENDINGUPLOADREQUESTINFO",
  "konysyncCHUNKDATA",      "konysyncCHUNKMETAINFO", "konysyncBLOBSTOREMANAGER",
  "SyncConfigTable",
};

void create_meta_rows(db::connection& db, const sync_config& config) {
  auto insert = db.prepare(
    "insert into konysyncMETAINFO (id, versionnumber, lastserversynccontext, "
    "lastserveruploadsynccontext, lastschemaupgradesynccontext, filtervalue, "
    "replaysequencenumber, lastgeneratedid, scopename) values (?, 0, '', '', '', ?, 0, -1, ?)");
  for (std::size_t i = 0; i < config.scopes.size(); ++i) {
    insert.reset();
    insert.bind(1, static_cast<std::int64_t>(i)).bind(2, no_filter).bind(3, config.scopes[i].name);
    insert.run();
  }
  db.prepare("insert into konysyncDIAGNOSTICS (id, action, details, timestamp) "
             "values (1, 'scopeSettings', '{\"scopeSettings\":{}}', datetime('now'))")
    .run();
  db.prepare("insert into SyncConfigTable (DeviceID, InstanceID, SyncVersion, "
             "schemaupgradecontext) values (NULL, NULL, ?, NULL)")
    .bind(1, config.version)
    .run();
}

} // namespace

std::string history_table(const std::string& table) { return table + "_history"; }
std::string original_table(const std::string& table) { return table + "_original"; }

std::string declared_type(const column_def& column) {
  switch (column.type) {
    case column_type::string:
      return "nvarchar(" + std::to_string(column.length.value_or(4000)) + ")";
    case column_type::text:
      return "longvarchar";
    case column_type::int_:
    case column_type::integer:
    case column_type::short_:
    case column_type::long_:
    case column_type::boolean:
      return "integer";
    case column_type::big_decimal:
    case column_type::big_integer:
      return "numeric";
    case column_type::float_:
      return "float";
    case column_type::double_:
      return "double";
    case column_type::date:
      return "date";
    case column_type::time:
      return "time";
    case column_type::timestamp:
      return "timestamp";
    case column_type::binary:
      return "blob";
  }
  return "nvarchar(4000)";
}

std::vector<std::string> table_ddl(const table_def& table) {
  std::vector<std::string> out;
  const auto main = quote_identifier(table.name);
  const auto history = quote_identifier(history_table(table.name));
  const auto original = quote_identifier(original_table(table.name));
  const auto columns = column_list(table);
  const auto pk = primary_key_clause(table);
  out.push_back("create table " + main + " (" + columns
                + ",konysyncchangetype integer,konysyncversionnumber integer,"
                  "konysynchashsum nvarchar(4000)"
                + pk + ")");
  out.push_back("create table " + history + " (" + columns
                + ",konysyncversionnumber integer,konysyncchangetype integer,"
                  "konysyncreplaysequence integer,konysyncchangetime timestamp,"
                  "konysynchashsum nvarchar(4000))");
  out.push_back("create table " + original + " (" + columns
                + ",konysyncoriginalchangetype integer,konysyncoriginalversionnumber integer,"
                  "konysynchashsum nvarchar(4000)"
                + pk + ")");
  // The generator's indexes: one per key column on the main and original tables.
  for (const auto& key : table.primary_key) {
    out.push_back("create index " + quote_identifier(key + table.name) + " on " + main + " ("
                  + quote_identifier(key) + ")");
    out.push_back("create index " + quote_identifier(key + original_table(table.name)) + " on "
                  + original + " (" + quote_identifier(key) + ")");
  }
  // Ours, for upload windows and pending-change look-ups by key (indexes, not columns,
  // so apps' SQL sees the generator's tables unchanged).
  out.push_back("create index " + quote_identifier("mxsync_seq_" + history_table(table.name))
                + " on " + history + " (konysyncreplaysequence)");
  std::string keys;
  for (const auto& key : table.primary_key)
    keys += (keys.empty() ? "" : ", ") + quote_identifier(key);
  out.push_back("create index " + quote_identifier("mxsync_pk_" + history_table(table.name))
                + " on " + history + " (" + keys + ")");
  return out;
}

std::vector<std::string> meta_ddl() {
  return {
    "create table if not exists konysyncMETAINFO (id bigint not null,versionnumber int,"
    "lastserversynccontext nvarchar(1000),lastserveruploadsynccontext nvarchar(1000),"
    "lastschemaupgradesynccontext nvarchar(1000),filtervalue nvarchar(1000),"
    "replaysequencenumber integer,lastgeneratedid integer,scopename nvarchar(100),"
    "primary key (id))",
    "create table if not exists konysyncDIAGNOSTICS (id bigint not null,action nvarchar(100),"
    "details nvarchar(2000),timestamp timestamp,primary key (id))",
    "create table if not exists konysyncPENDINGUPLOADREQUESTINFO (scopename nvarchar(100) not null,"
    "uploadrequest text,objectlevelinfo text,insertcount integer,updatecount integer,"
    "deletecount integer,batchinsertcount integer,batchupdatecount integer,"
    "batchdeletecount integer,uploadlimit integer,primary key (scopename))",
    "create table if not exists konysyncCHUNKDATA (chunkid integer not null,"
    "payloadid nvarchar(50) not null,scopename nvarchar(100) not null,chunkdata text,"
    "timestamp nvarchar(50),primary key (chunkid, payloadid, scopename))",
    "create table if not exists konysyncCHUNKMETAINFO (payloadid nvarchar(50) not null,"
    "scopename nvarchar(100) not null,chunkacknowledged integer,chunksize integer,"
    "chunkcount integer,chunkhashsum nvarchar(35),chunkdiscarded integer,"
    "primary key (payloadid, scopename))",
    "create table if not exists konysyncBLOBSTOREMANAGER (id integer primary key,"
    "localPath nvarchar(4000),tableName nvarchar(4000),columnName nvarchar(4000),"
    "type nvarchar(4000),state int,status int,size int,retry int,"
    "lastUpdatedTimeStamp TIMESTAMP default CURRENT_TIMESTAMP)",
    "create table if not exists SyncConfigTable (DeviceID nvarchar(4000),"
    "InstanceID nvarchar(4000),SyncVersion nvarchar(4000),schemaupgradecontext nvarchar(4000))",
  };
}

std::vector<std::string> device_ddl(const sync_config& config) {
  std::vector<std::string> out;
  for (const auto& scope : config.scopes)
    for (const auto& table : scope.tables)
      for (auto& stmt : table_ddl(table))
        out.push_back(std::move(stmt));
  for (auto& stmt : meta_ddl())
    out.push_back(std::move(stmt));
  return out;
}

std::vector<std::string> all_table_names(const sync_config& config) {
  std::vector<std::string> out;
  for (const auto& scope : config.scopes)
    for (const auto& table : scope.tables) {
      out.push_back(table.name);
      out.push_back(history_table(table.name));
      out.push_back(original_table(table.name));
    }
  for (const char* meta : meta_tables)
    out.emplace_back(meta);
  return out;
}

void configure_connection(db::connection& db) {
  // WAL: readers never block the one writer, and a commit is one append.
  // synchronous=FULL: a committed ORM write or download batch survives power loss.
  // foreign_keys=ON: the generated schema declares none, but apps' own tables may.
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=FULL");
  db.exec("PRAGMA foreign_keys=ON");
  db.exec("PRAGMA temp_store=MEMORY");
  // Bulk downloads: a 64 MB page cache and fewer checkpoints (docs/architecture.md figures).
  db.exec("PRAGMA cache_size=-65536");
  db.exec("PRAGMA wal_autocheckpoint=10000");
}

bool is_initialized(const db::connection& db) { return db.table_exists("SyncConfigTable"); }

init_result initialize(db::connection& db, const sync_config& config) {
  init_result result;
  try {
    db::transaction tx{db};
    if (is_initialized(db)) {
      auto stored = db.query("select SyncVersion from SyncConfigTable limit 1");
      if (!stored.empty() && stored[0]["SyncVersion"].is_string())
        result.stored_version = stored[0]["SyncVersion"].get<std::string>();
      result.version_mismatch = result.stored_version != config.version;
      if (result.version_mismatch)
        return result; // nothing is touched: schema upgrade is a separate step
      for (const auto& stmt : meta_ddl())
        db.exec(stmt); // "if not exists": older databases gain newer meta tables
      // Scopes added to a config of the same Version cannot exist; still, keep
      // every scope's konysyncMETAINFO row present.
      for (std::size_t i = 0; i < config.scopes.size(); ++i) {
        if (!db.query_int("select 1 from konysyncMETAINFO where scopename = ? and filtervalue = ?",
                          {config.scopes[i].name, no_filter}))
          db.prepare("insert into konysyncMETAINFO (id, versionnumber, lastserversynccontext, "
                     "lastserveruploadsynccontext, lastschemaupgradesynccontext, filtervalue, "
                     "replaysequencenumber, lastgeneratedid, scopename) values ((select "
                     "coalesce(max(id), -1) + 1 from konysyncMETAINFO), 0, '', '', '', ?, 0, -1, ?)")
            .bind(1, no_filter)
            .bind(2, config.scopes[i].name)
            .run();
      }
      tx.commit();
      return result;
    }
    for (const auto& stmt : device_ddl(config))
      db.exec(stmt);
    create_meta_rows(db, config);
    tx.commit();
    result.created = true;
    result.stored_version = config.version;
  } catch (const db::sqlite_error& e) {
    throw sync_exception(error_code::metatable_error,
                         "Meta tables did not get created successfully because of some unknown "
                         "problem in sync.init, please invoke sync.reset",
                         {{"sqlite", e.what()}});
  }
  return result;
}

void reset(db::connection& db, const sync_config& config) {
  try {
    db::transaction tx{db};
    auto names = all_table_names(config);
    for (const auto& name : names)
      db.exec("drop table if exists " + db::quote_identifier(name));
    for (const auto& stmt : device_ddl(config))
      db.exec(stmt);
    create_meta_rows(db, config);
    tx.commit();
  } catch (const db::sqlite_error& e) {
    throw sync_exception(error_code::sync_reset, "Sync Reset failed.", {{"sqlite", e.what()}});
  }
}

void reset_scope(db::connection& db, const sync_config& config, const std::string& scope_name) {
  const auto* scope = config.find_scope(scope_name);
  if (!scope)
    throw sync_exception(error_code::scope_does_not_exist,
                         "Scope:" + scope_name + " Doesnot exists ");
  try {
    db::transaction tx{db};
    for (const auto& table : scope->tables)
      for (const auto& name :
           {table.name, history_table(table.name), original_table(table.name)})
        db.exec("delete from " + db::quote_identifier(name));
    auto index = static_cast<std::int64_t>(*config.scope_index(scope_name));
    db.prepare("delete from konysyncMETAINFO where scopename = ? and filtervalue <> ?")
      .bind(1, scope_name)
      .bind(2, no_filter)
      .run();
    db.prepare("delete from konysyncMETAINFO where scopename = ?").bind(1, scope_name).run();
    db.prepare("insert into konysyncMETAINFO (id, versionnumber, lastserversynccontext, "
               "lastserveruploadsynccontext, lastschemaupgradesynccontext, filtervalue, "
               "replaysequencenumber, lastgeneratedid, scopename) values (?, 0, '', '', '', ?, 0, "
               "-1, ?)")
      .bind(1, index)
      .bind(2, no_filter)
      .bind(3, scope_name)
      .run();
    for (const char* meta : {"konysyncPENDINGUPLOADREQUESTINFO", "konysyncCHUNKDATA",
                             "konysyncCHUNKMETAINFO"})
      db.prepare(std::string{"delete from "} + meta + " where scopename = ?")
        .bind(1, scope_name)
        .run();
    // The scope is no longer initialized: drop it from the diagnostics settings.
    auto rows = db.query("select details from konysyncDIAGNOSTICS where id = 1");
    if (!rows.empty() && rows[0]["details"].is_string()) {
      auto details = nlohmann::json::parse(rows[0]["details"].get<std::string>(), nullptr, false);
      if (details.is_object() && details.contains("scopeSettings")
          && details["scopeSettings"].is_object()) {
        details["scopeSettings"].erase(scope_name);
        db.prepare("update konysyncDIAGNOSTICS set details = ? where id = 1")
          .bind(1, details.dump())
          .run();
      }
    }
    tx.commit();
  } catch (const db::sqlite_error& e) {
    throw sync_exception(error_code::sync_reset, "Sync Reset failed.", {{"sqlite", e.what()}});
  }
}

} // namespace mxsync::schema
