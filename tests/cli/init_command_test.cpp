#define CAF_SUITE cli_init
#include <caf/test/unit_test.hpp>

#include "support/process.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

using mxsync::test::run_command;

namespace {

std::string fresh_db(const std::string& name) {
  auto path = std::string{MXSYNC_BINARY_DIR} + "/cli_test_" + name + ".db";
  for (auto suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(path + suffix);
  return path;
}

const std::string cli = MXSYNC_CLI;
const std::string fixture_config = MXSYNC_FIXTURES_DIR "/workorder-sync-config.json";

} // namespace

CAF_TEST(init creates the device database and lists every table as JSON) {
  auto db = fresh_db("json");
  auto first = run_command(cli + " init --config " + fixture_config + " --db " + db + " --json");
  CAF_REQUIRE_EQUAL(first.exit_code, 0);
  auto answer = nlohmann::json::parse(first.output);
  CAF_CHECK_EQUAL(answer["created"], true);
  CAF_CHECK_EQUAL(answer["appId"], "konyfsjs");
  // 12 objects x (main, history, original) + 7 meta tables
  CAF_CHECK_EQUAL(answer["tables"].size(), 43u);
  auto second = run_command(cli + " init --config " + fixture_config + " --db " + db + " --json");
  CAF_REQUIRE_EQUAL(second.exit_code, 0);
  auto again = nlohmann::json::parse(second.output);
  CAF_CHECK_EQUAL(again["created"], false);
}

CAF_TEST(init prints a human table listing) {
  auto db = fresh_db("human");
  auto result = run_command(cli + " init --config " + fixture_config + " --db " + db);
  CAF_REQUIRE_EQUAL(result.exit_code, 0);
  CAF_CHECK(result.output.find("Created device database") != std::string::npos);
  CAF_CHECK(result.output.find("WorkOrder_history") != std::string::npos);
  CAF_CHECK(result.output.find("konysyncMETAINFO") != std::string::npos);
}

CAF_TEST(usage errors exit 2 and failures exit 1 with the error code) {
  CAF_CHECK_EQUAL(run_command(cli + " init --db x 2>&1").exit_code, 2);
  CAF_CHECK_EQUAL(run_command(cli + " frobnicate 2>&1").exit_code, 2);
  CAF_CHECK_EQUAL(run_command(cli + " init --config a --db b --bogus 2>&1").exit_code, 2);
  CAF_CHECK_EQUAL(run_command(cli + " help").exit_code, 0);
  auto bad_config = std::string{MXSYNC_BINARY_DIR} + "/cli_test_bad_config.json";
  std::ofstream{bad_config} << R"({"AppID":"a","Version":"v","ArrayOfSyncScope":[{"ScopeName":"S",
    "Strategy":"NOPE","ScopeTables":[]}]})";
  auto failed = run_command(cli + " init --config " + bad_config + " --db " + fresh_db("bad")
                            + " 2>&1");
  CAF_CHECK_EQUAL(failed.exit_code, 1);
  CAF_CHECK(failed.output.find("7004") != std::string::npos);
  CAF_CHECK(failed.output.find("Strategy") != std::string::npos);
}

CAF_TEST(a config that is not UTF-8 is error 7004 and the error prints) {
  // Invalid UTF-8 inside a name: the parser's message quotes the bytes, and printing them
  // as JSON aborted the process (uncaught type_error 316).
  std::ifstream in{fixture_config, std::ios::binary};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  auto at = text.find("WorkOrder");
  CAF_REQUIRE(at != std::string::npos);
  text.replace(at + 4, 0, "\xff\xfe");
  auto bad_config = std::string{MXSYNC_BINARY_DIR} + "/cli_test_not_utf8_config.json";
  std::ofstream{bad_config, std::ios::binary} << text;
  for (const char* json_flag : {"", " --json"}) {
    auto failed = run_command(cli + " init --config " + bad_config + " --db " +
                              fresh_db("not-utf8") + json_flag + " 2>&1");
    CAF_CHECK_EQUAL(failed.exit_code, 1);
    CAF_CHECK(failed.output.find("7004") != std::string::npos);
    CAF_CHECK(failed.output.find("terminate") == std::string::npos);
  }
}
