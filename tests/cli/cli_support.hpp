#pragma once
// Shared pieces of the CLI end-to-end tests: the binaries, fresh files, a server
// with generated data, and a `--config .. --db ..` argument string.

#include "support/process.hpp"
#include "support/server_process.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <string>

namespace mxsync::test {

inline const std::string cli = MXSYNC_CLI;
inline const std::string cli_server_binary = MXSYNC_SERVER_BINARY;
inline const std::string cli_fixture_config = MXSYNC_FIXTURES_DIR "/workorder-sync-config.json";

/// A server on a loopback port with `rows_per_table` generated rows and testuser.
struct cli_server {
  std::string db;
  std::unique_ptr<server_process> process;

  cli_server(const std::string& name, int rows_per_table) : db(fresh_file(name + "-server.db")) {
    auto generated = run_command(cli_server_binary + " generate --config " + cli_fixture_config
                                 + " --rows-per-table " + std::to_string(rows_per_table)
                                 + " --db " + db + " >/dev/null 2>&1");
    if (generated.exit_code != 0)
      throw std::runtime_error("mxsync-server generate failed");
    process = std::make_unique<server_process>(
      cli_server_binary,
      std::vector<std::string>{"--config", cli_fixture_config, "--db", db, "--user",
                               "testuser:testpassword"});
  }

  std::string sync_flags() const {
    return " --server http://127.0.0.1:" + process->port()
           + "/ --user testuser --password testpassword";
  }
};

/// "--config <fixture> --db <fresh device db>" for a device named `name`.
inline std::string device_args(const std::string& name, std::string* db_path = nullptr) {
  auto db = fresh_file(name + "-cli-device.db");
  for (auto suffix : {".mxsync-pid", ".mxsync-status.json"})
    std::filesystem::remove(db + suffix);
  if (db_path)
    *db_path = db;
  return " --config " + cli_fixture_config + " --db " + db;
}

inline nlohmann::json parse_output(const process_result& result) {
  return nlohmann::json::parse(result.output, nullptr, false);
}

} // namespace mxsync::test
