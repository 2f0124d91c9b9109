#include "cli/init_command.hpp"

#include "cli/client_support.hpp"
#include "cli/command_line.hpp"
#include "mxsync/sync_client.hpp"
#include "persistence/device_schema.hpp"
#include "persistence/sqlite.hpp"

#include <iomanip>

namespace mxsync::cli {

namespace {

/// The tables of the device database with column and row counts (read-only).
nlohmann::json describe_tables(const std::string& path) {
  db::connection db{path, db::open_mode::read_only};
  auto tables = nlohmann::json::array();
  for (auto& row : db.query("select name from sqlite_master where type='table' order by name")) {
    auto name = row["name"].get<std::string>();
    auto columns = db.query_int("select count(*) from pragma_table_info(?)", {name}).value_or(0);
    auto rows = db.query_int("select count(*) from " + db::quote_identifier(name)).value_or(0);
    tables.push_back({{"name", name}, {"columns", columns}, {"rows", rows}});
  }
  return tables;
}

} // namespace

int run_init(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  arguments parsed{args, {"json"}, {"config", "db"}};
  auto config_path = parsed.require("config");
  auto db_path = parsed.require("db");
  client_options options;
  options.config_path = config_path;
  options.database_path = db_path;
  sync_client client{std::move(options)};
  auto outcome = client.init();
  if (!outcome.ok()) {
    if (parsed.flag("json"))
      out << outcome.error().to_json().dump(2) << "\n";
    else
      print_error("init", outcome.error(), err);
    return exit_failure;
  }
  auto tables = describe_tables(db_path);
  if (parsed.flag("json")) {
    out << nlohmann::json{{"database", db_path},
                          {"appId", client.configuration()["AppID"]},
                          {"version", client.configuration()["Version"]},
                          {"created", outcome.value()["created"]},
                          {"tables", tables}}
             .dump(2)
        << "\n";
    return exit_ok;
  }
  out << (outcome.value()["created"].get<bool>() ? "Created" : "Opened") << " device database "
      << db_path << " for app " << client.configuration()["AppID"].get<std::string>() << " ("
      << tables.size() << " tables)\n";
  out << std::left << std::setw(40) << "table" << std::right << std::setw(9) << "columns"
      << std::setw(10) << "rows" << "\n";
  for (const auto& t : tables)
    out << std::left << std::setw(40) << t["name"].get<std::string>() << std::right
        << std::setw(9) << t["columns"].get<std::int64_t>() << std::setw(10)
        << t["rows"].get<std::int64_t>() << "\n";
  return exit_ok;
}

} // namespace mxsync::cli
