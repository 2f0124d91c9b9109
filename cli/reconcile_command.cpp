#include "cli/reconcile_command.hpp"

#include "cli/client_support.hpp"
#include "cli/command_line.hpp"
#include "cli/sync_command.hpp"

#include <fstream>
#include <sstream>

namespace mxsync::cli {

namespace {

/// "A,B" -> {"A", "B"}; empty pieces are usage errors (a stray comma is a typo).
std::vector<std::string> split_objects(const std::string& list) {
  std::vector<std::string> objects;
  std::stringstream in{list};
  std::string name;
  while (std::getline(in, name, ','))
    objects.push_back(name);
  for (const auto& object : objects)
    if (object.empty())
      throw usage_error("--objects needs names separated by commas, not '" + list + "'");
  return objects;
}

/// The reconciliation keys: --reconciliation <file.json> (the page's keys, server keys
/// included), then --scope/--objects and the batch sizes laid over them; the server
/// part comes from the `mxsync sync` flags.
reconciliation_config config_from_arguments(const arguments& parsed) {
  reconciliation_config config;
  if (auto file = parsed.get("reconciliation")) {
    std::ifstream in{*file};
    if (!in)
      throw usage_error("cannot read --reconciliation file " + *file);
    auto json = nlohmann::json::parse(in, nullptr, false);
    if (json.is_discarded() || !json.is_object())
      throw usage_error("--reconciliation file " + *file + " is not a JSON object");
    config = reconciliation_config::from_json(json); // 7032 naming the key at fault
  }
  if (auto scope = parsed.get("scope")) {
    auto objects = parsed.get("objects") ? split_objects(*parsed.get("objects"))
                                         : std::vector<std::string>{};
    config.reconciliation = std::vector<std::pair<std::string, std::vector<std::string>>>{
      {*scope, std::move(objects)}};
  } else if (parsed.get("objects")) {
    throw usage_error("--objects needs --scope");
  }
  if (!config.reconciliation)
    throw usage_error("say what to reconcile: --scope S [--objects A,B] or --reconciliation <file>");
  if (parsed.get("downloadbatchsize"))
    config.reconciledownloadbatchsize = parsed.positive_number("downloadbatchsize");
  if (parsed.get("bulkgetbatchsize"))
    config.reconcilebulkgetbatchsize = parsed.positive_number("bulkgetbatchsize");
  // A --reconciliation file may carry the server keys; the flags still win.
  bool has_server = !config.session.serverhost.empty() || config.session.serverurl;
  if (!has_server || parsed.get("session") || parsed.get("server") || parsed.get("host")) {
    auto keys = session_from_arguments(parsed);
    config.session = std::move(keys);
  } else {
    if (auto user = parsed.get("user"))
      config.session.userid = *user;
    if (auto password = parsed.get("password"))
      config.session.password = *password;
  }
  return config;
}

void print_summary(const nlohmann::json& summary, std::ostream& out) {
  for (const auto& [object, counts] : summary["reconcileobjectlevelinfo"].items())
    out << object << ": " << counts["reconciletotaldownloads"] << " keys on the server, "
        << counts["reconciletotalinsertions"] << " rows fetched, "
        << counts["reconciletotaldeletions"] << " rows deleted\n";
  out << "total: " << summary["reconciletotaldownloads"] << " keys, "
      << summary["reconciletotalinsertions"] << " fetched, "
      << summary["reconciletotaldeletions"] << " deleted\n";
  const auto& skipped = summary["pendingreconcilescopes"];
  if (!skipped.empty())
    out << "skipped (pending local changes): " << skipped.dump() << "\n";
}

} // namespace

int run_reconcile(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  arguments parsed{args,
                   {"json"},
                   {"config", "db", "session", "server", "host", "port", "user", "password",
                    "scope", "objects", "reconciliation", "downloadbatchsize",
                    "bulkgetbatchsize"}};
  parsed.require("config");
  parsed.require("db");
  auto config = config_from_arguments(parsed);
  auto client = open_initialized_client(parsed);
  auto outcome = client->reconcile(std::move(config));
  client->flush();
  if (!outcome.ok() || parsed.flag("json"))
    return report_result("reconcile", outcome, parsed.flag("json"), out, err);
  print_summary(outcome.value(), out);
  return exit_ok;
}

} // namespace mxsync::cli
