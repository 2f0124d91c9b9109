#include "cli/stop_command.hpp"

#include "cli/command_line.hpp"
#include "cli/status_command.hpp"
#include "cli/sync_command.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

namespace mxsync::cli {

int run_stop(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  arguments parsed{args, {"json"}, {"db", "timeout"}};
  auto db_path = parsed.require("db");
  double timeout_seconds = 30;
  if (auto text = parsed.get("timeout")) {
    try {
      timeout_seconds = std::stod(*text);
    } catch (const std::exception&) {
      throw usage_error("--timeout needs a number of seconds, not '" + *text + "'");
    }
  }
  auto pid = running_sync_pid(db_path);
  if (pid == 0) {
    if (parsed.flag("json"))
      out << nlohmann::json{{"stopped", false}, {"running", false}}.dump(2) << "\n";
    else
      err << "mxsync stop: no sync is running on " << db_path << "\n";
    return exit_failure;
  }
  kill(pid, SIGUSR1);
  // The sync removes its pid file once its session has ended.
  auto deadline = std::chrono::steady_clock::now()
                  + std::chrono::milliseconds(static_cast<std::int64_t>(timeout_seconds * 1000));
  while (std::filesystem::exists(pid_file_for(db_path))
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  bool ended = !std::filesystem::exists(pid_file_for(db_path));
  if (parsed.flag("json"))
    out << nlohmann::json{{"stopped", ended}, {"pid", pid}}.dump(2) << "\n";
  else if (ended)
    out << "stopped the sync on " << db_path << " (pid " << pid << ")\n";
  else
    err << "mxsync stop: the sync (pid " << pid << ") has not ended within " << timeout_seconds
        << " s\n";
  return ended ? exit_ok : exit_failure;
}

} // namespace mxsync::cli
