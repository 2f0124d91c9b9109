#define CAF_SUITE pending_changes
#include <caf/test/unit_test.hpp>

#include "orm_test_fixture.hpp"

using namespace orm_test;
namespace orm = mxsync::orm;
namespace pending = mxsync::pending;

CAF_TEST_FIXTURE_SCOPE(pending_changes_tests, fixture)

CAF_TEST(an untouched database has nothing pending) {
  server_row("Parent", {{"pid", "p"}});
  auto empty = json({{"totalCount", 0}, {"totalData", json::object()}});
  CAF_CHECK_EQUAL(pending::get_pending_upload(db, config), empty);
  CAF_CHECK_EQUAL(pending::get_pending_acknowledgement(db, config), empty);
  CAF_CHECK_EQUAL(pending::get_deferred_upload(db, config), empty);
  CAF_CHECK_EQUAL(pending::rollback_pending_local_changes(db, config),
                  json({{"rowsrolledback", 0}}));
}

CAF_TEST(pending upload lists every table of every scope with changes) {
  server_row("Parent", {{"pid", "p"}});
  server_row("Blocker", {{"bid", 1}, {"pid", "p"}});
  orm::create(db, config, "Note", {{"body", "a"}});
  orm::create(db, config, "Note", {{"body", "b"}});
  orm::update_by_pk(db, config, "Parent", "p", {{"name", "n"}});
  orm::delete_by_pk(db, config, "Blocker", 1);
  orm::create(db, config, "Header", {{"code", 1}, {"region", "EU"}});
  orm::create(db, config, "Child", {{"childId", 1}}, false); // deferred: not pending
  auto result = pending::get_pending_upload(db, config);
  CAF_CHECK_EQUAL(result["totalCount"], 5);
  auto& data = result["totalData"];
  CAF_CHECK_EQUAL(data.size(), 4u);
  CAF_CHECK_EQUAL(data["Note"]["count"], 2);
  CAF_CHECK_EQUAL(data["Note"]["data"].size(), 2u);
  CAF_CHECK_EQUAL(data["Parent"]["data"][0]["name"], "n");
  CAF_CHECK_EQUAL(data["Parent"]["data"][0]["konysyncchangetype"], 1);
  CAF_CHECK_EQUAL(data["Blocker"]["data"][0]["konysyncchangetype"], 2);
  CAF_CHECK_EQUAL(data["Header"]["count"], 1);
  CAF_CHECK(!data.contains("Child"));
  auto deferred = pending::get_deferred_upload(db, config);
  CAF_CHECK_EQUAL(deferred["totalCount"], 1);
  CAF_CHECK_EQUAL(deferred["totalData"]["Child"]["data"][0]["childId"], 1);
}

CAF_TEST(uploaded changes wait for acknowledgement per scope version) {
  orm::create(db, config, "Note", {{"body", "a"}});
  orm::create(db, config, "Header", {{"code", 1}, {"region", "EU"}});
  bump_version("PersistScope"); // the persistent scope uploaded
  auto upload = pending::get_pending_upload(db, config);
  CAF_CHECK_EQUAL(upload["totalCount"], 1);
  CAF_CHECK(upload["totalData"].contains("Note"));
  auto ack = pending::get_pending_acknowledgement(db, config);
  CAF_CHECK_EQUAL(ack["totalCount"], 1);
  CAF_CHECK_EQUAL(ack["totalData"]["Header"]["data"][0]["konysyncversionnumber"], 0);
  // A later change is pending again, stamped with the new version.
  orm::update_by_pk(db, config, "Header", {{"code", 1}, {"region", "EU"}}, {{"title", "t"}});
  auto no_ack = pending::get_pending_acknowledgement(db, config);
  CAF_CHECK_EQUAL(no_ack["totalCount"], 0);
  auto again = pending::get_pending_upload(db, config);
  CAF_CHECK_EQUAL(again["totalData"]["Header"]["data"][0]["konysyncversionnumber"], 1);
}

CAF_TEST(rollback of everything restores the last synchronized state) {
  server_row("Parent", {{"pid", "p"}, {"name", "server"}}, "hp");
  server_row("Blocker", {{"bid", 1}, {"pid", "p"}}, "hb");
  server_row("Header", {{"code", 1}, {"region", "EU"}, {"title", "server"}}, "hh");
  const auto synced = rows("select pid, name, konysynchashsum from Parent");
  orm::update_by_pk(db, config, "Parent", "p", {{"name", "x"}});
  orm::update_by_pk(db, config, "Parent", "p", {{"name", "y"}}, false);
  orm::delete_by_pk(db, config, "Blocker", 1, false);
  orm::create(db, config, "Note", {{"body", "new"}});
  orm::update_by_pk(db, config, "Header", {{"code", 1}, {"region", "EU"}}, {{"title", "local"}});
  orm::create(db, config, "Line", {{"orderNo", "o"}, {"lineNo", 1}, {"qty", 2}}, false);
  auto result = pending::rollback_pending_local_changes(db, config);
  CAF_CHECK_EQUAL(result, json({{"rowsrolledback", 5}}));
  CAF_CHECK_EQUAL(rows("select pid, name, konysynchashsum from Parent"), synced);
  CAF_CHECK_EQUAL(count("select konysyncchangetype from Parent"), -1);
  CAF_CHECK_EQUAL(count("select count(*) from Blocker where konysyncchangetype = -1"), 1);
  CAF_CHECK_EQUAL(count("select count(*) from Note"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Line"), 0);
  auto header = rows("select title from Header");
  CAF_CHECK_EQUAL(header[0]["title"], "server");
  for (const auto& scope : config.scopes)
    for (const auto& table : scope.tables) {
      CAF_CHECK_EQUAL(count("select count(*) from " + table.name + "_history"), 0);
      CAF_CHECK_EQUAL(count("select count(*) from " + table.name + "_original"), 0);
    }
  auto upload = pending::get_pending_upload(db, config);
  auto deferred = pending::get_deferred_upload(db, config);
  CAF_CHECK_EQUAL(upload["totalCount"], 0);
  CAF_CHECK_EQUAL(deferred["totalCount"], 0);
}

CAF_TEST(rows of one object with a filter) {
  orm::create(db, config, "Note", {{"body", "a"}});
  orm::create(db, config, "Note", {{"body", "b"}});
  auto filtered = pending::rows(db, config, "Note", pending::kind::upload, {"body = ?", {json("b")}});
  CAF_REQUIRE_EQUAL(filtered.size(), 1u);
  CAF_CHECK_EQUAL(filtered[0]["noteId"], "-2");
  CAF_CHECK_EQUAL(
    error_of([&] { pending::rows(db, config, "Note", pending::kind::upload, "1; drop table Note"); }),
    7019);
  CAF_CHECK_EQUAL(error_of([&] { pending::rows(db, config, "Nope", pending::kind::upload); }), 7031);
}

CAF_TEST(booleans come back as booleans in pending rows) {
  orm::create(db, config, "Sample", {{"name", "a"}, {"flag", true}});
  auto result = pending::get_pending_upload(db, config);
  CAF_CHECK_EQUAL(result["totalData"]["Sample"]["data"][0]["flag"], true);
}

CAF_TEST_FIXTURE_SCOPE_END()
