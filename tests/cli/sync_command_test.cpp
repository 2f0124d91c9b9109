#define CAF_SUITE cli_sync
#include <caf/test/unit_test.hpp>

#include "cli_support.hpp"

#include <chrono>
#include <future>
#include <thread>

using namespace mxsync::test;

namespace {

/// Finds an actor named `name` anywhere below `node`.
bool tree_has(const nlohmann::json& node, const std::string& name) {
  if (node.is_object() && node.value("name", std::string{}) == name)
    return true;
  if (node.is_object() && node.contains("children"))
    for (const auto& child : node["children"])
      if (tree_has(child, name))
        return true;
  return false;
}

} // namespace

CAF_TEST(sync downloads every row and prints a JSON summary) {
  cli_server server{"cli-sync", 100};
  auto device = device_args("sync");
  auto run = run_command(cli + " sync" + device + server.sync_flags() + " --json");
  CAF_REQUIRE_EQUAL(run.exit_code, 0);
  auto summary = parse_output(run);
  CAF_REQUIRE(summary.is_object());
  auto result = summary["result"].get<std::string>();
  CAF_CHECK_EQUAL(result, "ok");
  auto downloaded = summary["totals"]["rowsDownloaded"].get<std::int64_t>();
  CAF_CHECK_EQUAL(downloaded, 1200); // 12 objects x 100 rows
  auto scope_state = summary["scopes"]["FSPersistentScope"]["state"].get<std::string>();
  CAF_CHECK_EQUAL(scope_state, "done");
  auto count = run_command(cli + " query" + device + " \"select count(*) as n from WorkOrder\" --json");
  CAF_REQUIRE_EQUAL(count.exit_code, 0);
  auto rows = parse_output(count);
  auto n = rows[0]["n"].get<std::int64_t>();
  CAF_CHECK_EQUAL(n, 100);
  // Human output: the summary table, no progress line (stderr is no terminal).
  auto human = run_command(cli + " sync" + device + server.sync_flags() + " 2>&1");
  CAF_CHECK_EQUAL(human.exit_code, 0);
  CAF_CHECK(human.output.find("Sync finished") != std::string::npos);
  CAF_CHECK(human.output.find("\r") == std::string::npos);
}

CAF_TEST(sync failures exit 1 with the error code and usage errors exit 2) {
  auto device = device_args("sync-fail");
  // Nothing listens on port 1: a network error (1000-range code) and exit 1.
  auto refused = run_command(cli + " sync" + device + " --host 127.0.0.1 --port 1 --user u "
                             "--password p --json");
  CAF_CHECK_EQUAL(refused.exit_code, 1);
  auto error = parse_output(refused);
  CAF_CHECK_EQUAL(error["result"], "error");
  CAF_CHECK(error["error"].contains("errorCode") || error["error"].contains("code"));
  auto human = run_command(cli + " sync" + device + " --host 127.0.0.1 --port 1 2>&1");
  CAF_CHECK_EQUAL(human.exit_code, 1);
  CAF_CHECK(human.output.find("error 10") != std::string::npos);
  auto no_server = run_command(cli + " sync" + device + " 2>&1");
  CAF_CHECK_EQUAL(no_server.exit_code, 2);
  auto bad_batch = run_command(cli + " sync" + device + " --host h --batchsize x 2>&1");
  CAF_CHECK_EQUAL(bad_batch.exit_code, 2);
  auto session_file = fresh_file("cli-bad-session.json");
  std::ofstream{session_file} << R"({"serverhost": "127.0.0.1", "nosuchkey": 1})";
  auto bad_session = run_command(cli + " sync" + device + " --session " + session_file + " 2>&1");
  CAF_CHECK_EQUAL(bad_session.exit_code, 2);
  CAF_CHECK(bad_session.output.find("nosuchkey") != std::string::npos);
}

CAF_TEST(status shows the actor tree of a running sync and stop ends it) {
  cli_server server{"cli-status", 3000};
  std::string db;
  auto device = device_args("status", &db);
  auto idle = run_command(cli + " status --db " + db + " --json");
  CAF_CHECK_EQUAL(idle.exit_code, 1);
  auto background = std::async(std::launch::async, [&] {
    return run_command(cli + " sync" + device + server.sync_flags()
                       + " --batchsize 20 --status-interval 100 --json");
  });
  nlohmann::json seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto status = run_command(cli + " status --db " + db + " --json");
    auto answer = parse_output(status);
    if (status.exit_code == 0 && answer.is_object() && tree_has(answer["tree"], "session_coordinator")) {
      seen = answer;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CAF_REQUIRE(!seen.is_null());
  CAF_CHECK_EQUAL(seen["running"], true);
  CAF_CHECK(seen["tree"].contains("mailbox"));
  auto human = run_command(cli + " status --db " + db);
  CAF_CHECK_EQUAL(human.exit_code, 0);
  CAF_CHECK(human.output.find("session_coordinator") != std::string::npos);
  auto second = run_command(cli + " sync" + device + server.sync_flags() + " 2>&1");
  CAF_CHECK_EQUAL(second.exit_code, 1);
  CAF_CHECK(second.output.find("already running") != std::string::npos);
  auto stop = run_command(cli + " stop --db " + db + " --json");
  CAF_CHECK_EQUAL(stop.exit_code, 0);
  auto finished = background.get();
  CAF_CHECK_EQUAL(finished.exit_code, 0);
  auto summary = parse_output(finished);
  CAF_REQUIRE(summary.is_object());
  auto result = summary["result"].get<std::string>();
  CAF_CHECK_EQUAL(result, "stopped");
  auto scope_state = summary["scopes"]["FSPersistentScope"]["state"].get<std::string>();
  CAF_CHECK_EQUAL(scope_state, "stopped");
  auto after = run_command(cli + " status --db " + db + " --json");
  CAF_CHECK_EQUAL(after.exit_code, 1);
  auto stop_again = run_command(cli + " stop --db " + db + " 2>&1");
  CAF_CHECK_EQUAL(stop_again.exit_code, 1);
}

CAF_TEST(demo runs the round trip to a correct end) {
  auto run = run_command(cli + " demo --rows 50 --server-binary " + cli_server_binary + " 2>&1");
  CAF_CHECK_EQUAL(run.exit_code, 0);
  CAF_CHECK(run.output.find("demo finished: device and server agree") != std::string::npos);
  if (run.exit_code != 0)
    CAF_MESSAGE(run.output);
}
