#include "cli/status_command.hpp"

#include "cli/command_line.hpp"
#include "cli/sync_command.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>

#include <sys/types.h>

namespace mxsync::cli {

namespace {

/// One actor per line, children indented: name [state] mailbox, then its counters.
void print_tree(const nlohmann::json& node, int depth, std::ostream& out) {
  out << std::string(static_cast<std::size_t>(depth) * 2, ' ') << node.value("name", std::string{"?"})
      << " [" << (node.contains("state") && node["state"].is_string() ? node["state"].get<std::string>()
                  : node.contains("state") ? node["state"].dump() : "?")
      << "]";
  if (node.contains("mailbox"))
    out << " mailbox=" << node["mailbox"].dump();
  for (const char* key : {"scope", "currentScope", "database", "session"})
    if (node.contains(key) && !node[key].is_null())
      out << " " << key << "=" << node[key].dump();
  if (node.contains("counters") && node["counters"].is_object())
    for (const auto& [name, value] : node["counters"].items())
      out << " " << name << "=" << value.dump();
  out << "\n";
  if (node.contains("children") && node["children"].is_array())
    for (const auto& child : node["children"])
      print_tree(child, depth + 1, out);
}

} // namespace

int running_sync_pid(const std::string& db_path) {
  std::ifstream in{pid_file_for(db_path)};
  int pid = 0;
  if (!(in >> pid) || pid <= 0)
    return 0;
  // A pid file left by a crashed sync names a process that is gone.
  return kill(pid, 0) == 0 ? pid : 0;
}

int run_status(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  arguments parsed{args, {"json"}, {"db"}};
  auto db_path = parsed.require("db");
  auto pid = running_sync_pid(db_path);
  nlohmann::json published;
  if (pid != 0) {
    std::ifstream in{status_file_for(db_path)};
    published = nlohmann::json::parse(in, nullptr, false);
  }
  if (pid == 0 || published.is_discarded() || !published.is_object()) {
    if (parsed.flag("json"))
      out << nlohmann::json{{"running", false}, {"pid", pid}}.dump(2) << "\n";
    else if (pid == 0)
      err << "mxsync status: no sync is running on " << db_path << "\n";
    else
      err << "mxsync status: the sync (pid " << pid << ") has not published its status yet\n";
    return exit_failure;
  }
  if (parsed.flag("json")) {
    published["running"] = true;
    out << published.dump(2) << "\n";
    return exit_ok;
  }
  out << "sync running on " << db_path << " (pid " << pid << ")\n";
  print_tree(published["tree"], 0, out);
  return exit_ok;
}

} // namespace mxsync::cli
