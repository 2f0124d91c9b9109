#define CAF_SUITE cli_reconcile
#include <caf/test/unit_test.hpp>

#include "cli_support.hpp"
#include "persistence/sqlite.hpp"

using namespace mxsync::test;

CAF_TEST(reconcile fetches missing rows deletes extra ones and prints the totals) {
  cli_server server{"cli-reconcile", 20};
  std::string db_path;
  auto device = device_args("reconcile", &db_path);
  auto synced = run_command(cli + " sync" + device + server.sync_flags() + " --json");
  CAF_REQUIRE_EQUAL(synced.exit_code, 0);
  {
    // Behind mxsync's back, as a damaged or hand-edited database would be: 3 rows gone,
    // 1 row the server never had; none of it tracked.
    mxsync::db::connection db{db_path};
    db.exec("delete from WorkOrder where rowid in (select rowid from WorkOrder limit 3)");
    db.exec("insert into WorkOrder (orderId) values ('NOT-ON-SERVER')");
  }
  auto run = run_command(cli + " reconcile" + device + server.sync_flags()
                         + " --scope FSPersistentScope --objects WorkOrder --bulkgetbatchsize 2"
                           " --json");
  CAF_REQUIRE_EQUAL(run.exit_code, 0);
  auto summary = parse_output(run);
  CAF_REQUIRE(summary.is_object());
  auto keys = summary["reconciletotaldownloads"].get<std::int64_t>();
  auto fetched = summary["reconciletotalinsertions"].get<std::int64_t>();
  auto deleted = summary["reconciletotaldeletions"].get<std::int64_t>();
  CAF_CHECK_EQUAL(keys, 20);
  CAF_CHECK_EQUAL(fetched, 3);
  CAF_CHECK_EQUAL(deleted, 1);
  auto count = run_command(cli + " query" + device + " \"select count(*) as n from WorkOrder\" --json");
  auto n = parse_output(count)[0]["n"].get<std::int64_t>();
  CAF_CHECK_EQUAL(n, 20);
  auto human = run_command(cli + " reconcile" + device + server.sync_flags()
                           + " --scope FSPersistentScope --objects WorkOrder 2>&1");
  CAF_CHECK_EQUAL(human.exit_code, 0);
  CAF_CHECK(human.output.find("WorkOrder: 20 keys on the server, 0 rows fetched, 0 rows deleted")
            != std::string::npos);
}

CAF_TEST(reconcile errors exit 1 with the code and usage errors exit 2) {
  cli_server server{"cli-reconcile-errors", 1};
  auto device = device_args("reconcile-errors");
  auto unknown = run_command(cli + " reconcile" + device + server.sync_flags()
                             + " --scope NoSuchScope --json");
  CAF_CHECK_EQUAL(unknown.exit_code, 1);
  auto error = parse_output(unknown);
  CAF_CHECK_EQUAL(error["errorCode"], "7030");
  auto nothing = run_command(cli + " reconcile" + device + server.sync_flags() + " 2>&1");
  CAF_CHECK_EQUAL(nothing.exit_code, 2);
  auto bad_size = run_command(cli + " reconcile" + device + server.sync_flags()
                              + " --scope FSPersistentScope --downloadbatchsize 0 2>&1");
  CAF_CHECK_EQUAL(bad_size.exit_code, 2);
  auto keys_file = fresh_file("cli-bad-reconcile.json");
  std::ofstream{keys_file} << R"({"reconciliation": {"FSPersistentScope": "WorkOrder"}})";
  auto bad_file = run_command(cli + " reconcile" + device + server.sync_flags()
                              + " --reconciliation " + keys_file + " 2>&1");
  CAF_CHECK_EQUAL(bad_file.exit_code, 1);
  CAF_CHECK(bad_file.output.find("error 7032") != std::string::npos);
}
