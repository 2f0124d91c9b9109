#define CAF_SUITE cli_data
#include <caf/test/unit_test.hpp>

#include "cli_support.hpp"

using namespace mxsync::test;

namespace {

nlohmann::json run_json(const std::string& command, int expected_exit = 0) {
  auto run = run_command(cli + " " + command + " --json");
  CAF_CHECK_EQUAL(run.exit_code, expected_exit);
  return parse_output(run);
}

} // namespace

CAF_TEST(object create update get find delete and mark-for-upload with JSON output) {
  auto device = device_args("object");
  CAF_REQUIRE_EQUAL(run_command(cli + " init" + device + " >/dev/null").exit_code, 0);
  auto created = run_json("object WorkOrder create" + device
                          + R"( --values '{"orderId":"W1","status":"Open"}')");
  CAF_CHECK(created.dump().find("W1") != std::string::npos);
  run_json("object WorkOrder create" + device + R"( --values '{"orderId":"W2","status":"Open"}')");
  run_json("object WorkOrder update" + device + R"( --pk W1 --values '{"status":"Closed"}')");
  auto got = run_json("object WorkOrder get" + device + " --pk W1");
  CAF_CHECK(got.dump().find("Closed") != std::string::npos);
  auto found = run_json("object WorkOrder find" + device + R"( --where "status = 'Open'")");
  CAF_REQUIRE(found.is_array());
  CAF_CHECK_EQUAL(found.size(), 1u);
  auto pending = run_json("pending upload" + device);
  auto total = pending["totalCount"].get<std::int64_t>();
  CAF_CHECK_EQUAL(total, 2);
  run_json("object WorkOrder delete" + device + " --pk W2");
  auto all = run_json("object WorkOrder get" + device);
  CAF_REQUIRE(all.is_array());
  CAF_CHECK_EQUAL(all.size(), 1u);
  // A deferred change, then marked for upload.
  run_json("object WorkOrder create" + device
           + R"( --values '{"orderId":"W3","status":"Open"}' --no-upload)");
  auto deferred = run_json("pending deferred" + device);
  auto deferred_count = deferred["totalCount"].get<std::int64_t>();
  CAF_CHECK_EQUAL(deferred_count, 1);
  run_json("object WorkOrder mark-for-upload" + device + " --pk W3");
  auto after_mark = run_json("pending deferred" + device);
  auto after_mark_count = after_mark["totalCount"].get<std::int64_t>();
  CAF_CHECK_EQUAL(after_mark_count, 0);
  auto acks = run_json("pending acknowledgement" + device);
  CAF_CHECK(acks.contains("totalCount"));
  // An unknown object fails with 7031 (exit 1).
  auto unknown = run_json("object NoSuchObject get" + device, 1);
  CAF_CHECK(unknown.dump().find("7031") != std::string::npos);
}

CAF_TEST(rollback reset and query) {
  auto device = device_args("rollback");
  CAF_REQUIRE_EQUAL(run_command(cli + " init" + device + " >/dev/null").exit_code, 0);
  run_json("object WorkOrder create" + device + R"( --values '{"orderId":"R1"}')");
  auto rolled = run_json("rollback" + device);
  CAF_CHECK(rolled.is_object());
  auto rows = run_json("query" + device + R"( "select count(*) as n from WorkOrder")");
  auto n = rows[0]["n"].get<std::int64_t>();
  CAF_CHECK_EQUAL(n, 0);
  run_json("object WorkOrder create" + device + R"( --values '{"orderId":"R2"}')");
  run_json("reset" + device);
  auto after_reset = run_json("query" + device + R"( "select count(*) as n from WorkOrder")");
  auto n_after = after_reset[0]["n"].get<std::int64_t>();
  CAF_CHECK_EQUAL(n_after, 0);
  run_json("reset" + device + " --scope FSPersistentScope");
  auto bad_scope = run_command(cli + " reset" + device + " --scope NoScope 2>&1");
  CAF_CHECK_EQUAL(bad_scope.exit_code, 1);
  auto bad_query = run_command(cli + " query" + device + R"( "delete from WorkOrder" 2>&1)");
  CAF_CHECK_EQUAL(bad_query.exit_code, 1);
  CAF_CHECK(bad_query.output.find("error ") != std::string::npos);
  auto human = run_command(cli + " query" + device + R"( "select 1 as one")");
  CAF_CHECK_EQUAL(human.exit_code, 0);
  CAF_CHECK(human.output.find("one") != std::string::npos);
}

CAF_TEST(usage errors exit 2) {
  auto device = device_args("usage");
  for (const auto& bad : std::vector<std::string>{" nosuchcommand", " pending" + device, " pending sideways" + device,
                          " object WorkOrder" + device, " object WorkOrder fly" + device,
                          " query" + device, " status", " stop", " sync --db x",
                          " init --config x --db y --bogus", " demo --rows -3"}) {
    auto run = run_command(cli + bad + " 2>&1");
    CAF_CHECK_EQUAL(run.exit_code, 2);
    if (run.exit_code != 2)
      CAF_MESSAGE("mxsync" << bad << " -> " << run.output);
  }
  CAF_CHECK_EQUAL(run_command(cli + " help").exit_code, 0);
}
