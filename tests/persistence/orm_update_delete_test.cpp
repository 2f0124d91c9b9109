#define CAF_SUITE orm_update_delete
#include <caf/test/unit_test.hpp>

#include "orm_test_fixture.hpp"

using namespace orm_test;
namespace orm = mxsync::orm;

CAF_TEST_FIXTURE_SCOPE(orm_update_delete_tests, fixture)

CAF_TEST(update of a server row saves the pre-image once and appends history) {
  server_row("Parent", {{"pid", "p1"}, {"name", "server"}}, "hash-1");
  bump_version("OpsScope");
  orm::update_by_pk(db, config, "Parent", "p1", {{"name", "first"}});
  orm::update_by_pk(db, config, "Parent", {{"pid", "p1"}}, {{"name", "second"}});
  auto main = rows("select * from Parent");
  CAF_REQUIRE_EQUAL(main.size(), 1u);
  CAF_CHECK_EQUAL(main[0]["name"], "second");
  CAF_CHECK_EQUAL(main[0]["konysyncchangetype"], 1);
  CAF_CHECK_EQUAL(main[0]["konysyncversionnumber"], 1);
  CAF_CHECK_EQUAL(main[0]["konysynchashsum"], "hash-1");
  auto original = rows("select * from Parent_original");
  CAF_REQUIRE_EQUAL(original.size(), 1u);
  CAF_CHECK_EQUAL(original[0]["name"], "server"); // the first pre-image, kept
  CAF_CHECK_EQUAL(original[0]["konysyncoriginalchangetype"], 1);
  CAF_CHECK(original[0]["konysyncoriginalversionnumber"].is_null());
  CAF_CHECK_EQUAL(original[0]["konysynchashsum"], "hash-1");
  auto history = rows("select * from Parent_history order by konysyncreplaysequence");
  CAF_REQUIRE_EQUAL(history.size(), 2u);
  CAF_CHECK_EQUAL(history[0]["name"], "first");
  CAF_CHECK_EQUAL(history[1]["name"], "second");
  CAF_CHECK_EQUAL(history[1]["konysyncchangetype"], 1);
  CAF_CHECK_EQUAL(history[1]["konysyncversionnumber"], 1);
  CAF_CHECK_EQUAL(history[1]["konysyncreplaysequence"], 2);
  CAF_CHECK_EQUAL(history[1]["konysynchashsum"], "hash-1");
}

CAF_TEST(update keeps unchanged attributes and a local insert stays an insert) {
  orm::create(db, config, "Header", {{"code", 1}, {"region", "EU"}, {"title", "a"}});
  orm::update_by_pk(db, config, "Header", {{"code", 1}, {"region", "EU"}}, json::object());
  orm::update_by_pk(db, config, "Header", {{"region", "EU"}, {"code", "1"}}, {{"title", "b"}});
  CAF_CHECK_EQUAL(count("select konysyncchangetype from Header"), 0);
  auto history =
    rows("select title, konysyncchangetype from Header_history order by konysyncreplaysequence");
  CAF_REQUIRE_EQUAL(history.size(), 3u);
  CAF_CHECK_EQUAL(history[0]["konysyncchangetype"], 0);
  CAF_CHECK_EQUAL(history[1]["title"], "a");
  CAF_CHECK_EQUAL(history[2]["konysyncchangetype"], 1);
  CAF_CHECK_EQUAL(history[2]["title"], "b");
  CAF_CHECK_EQUAL(count("select konysyncoriginalchangetype from Header_original"), 0);
}

CAF_TEST(update of a missing record is 7009 and changes nothing) {
  auto before = snapshot();
  auto error = error_details([&] { orm::update_by_pk(db, config, "Parent", "nope", {{"name", "x"}}); });
  CAF_CHECK_EQUAL(error.code, 7009);
  CAF_CHECK_EQUAL(error.message, "No data with specified primary key found in SyncObject Parent.");
  CAF_CHECK_EQUAL(error_of([&] { orm::delete_by_pk(db, config, "Parent", "nope"); }), 7009);
  CAF_CHECK_EQUAL(error_of([&] { orm::mark_for_upload_by_pk(db, config, "Parent", "nope"); }),
                  7009);
  CAF_CHECK_EQUAL(
    error_of([&] { orm::remove_device_instance_by_pk(db, config, "Parent", "nope"); }), 7009);
  CAF_CHECK_EQUAL(
    error_of([&] { orm::rollback_pending_local_changes_by_pk(db, config, "Parent", "nope"); }),
    7009);
  CAF_CHECK_EQUAL(snapshot(), before);
}

CAF_TEST(update validation failures change nothing) {
  server_row("Line", {{"orderNo", "o"}, {"lineNo", 1}, {"qty", 3}});
  auto before = snapshot();
  CAF_CHECK_EQUAL(error_of([&] {
                    orm::update_by_pk(db, config, "Line", {{"orderNo", "o"}, {"lineNo", 1}},
                                      {{"qty", nullptr}});
                  }),
                  7002);
  CAF_CHECK_EQUAL(error_of([&] {
                    orm::update_by_pk(db, config, "Line", {{"orderNo", "o"}, {"lineNo", 1}},
                                      {{"qty", "many"}});
                  }),
                  7001);
  CAF_CHECK_EQUAL(error_of([&] {
                    orm::update_by_pk(db, config, "Line", {{"orderNo", "o"}, {"lineNo", 1}},
                                      {{"lineNo", 2}});
                  }),
                  7001); // keys cannot change
  CAF_CHECK_EQUAL(
    error_of([&] { orm::update_by_pk(db, config, "Line", {{"orderNo", "o"}}, {{"qty", 1}}); }),
    7003);
  auto pk = error_details([&] { orm::delete_by_pk(db, config, "Line", {{"orderNo", "o"}}); });
  CAF_CHECK_EQUAL(error_of([&] { orm::delete_by_pk(db, config, "Line", "o"); }), 7003);
  CAF_CHECK_EQUAL(pk.code, 7003);
  CAF_CHECK_EQUAL(pk.message, "Primary Key lineNo not specified in deleting an item in Line.");
  CAF_CHECK_EQUAL(snapshot(), before);
  // The same key value is accepted.
  orm::update_by_pk(db, config, "Line", {{"orderNo", "o"}, {"lineNo", 1}},
                    {{"lineNo", 1}, {"qty", 4}});
  CAF_CHECK_EQUAL(count("select qty from Line"), 4);
}

CAF_TEST(deferred records: 7028 on uploadable update and 7012 on uploadable delete) {
  orm::create(db, config, "Parent", {{"pid", "p1"}, {"name", "a"}}, false);
  auto before = snapshot();
  auto update = error_details(
    [&] { orm::update_by_pk(db, config, "Parent", "p1", {{"name", "b"}}, true); });
  CAF_CHECK_EQUAL(update.code, 7028);
  CAF_CHECK_EQUAL(update.message, "MarkforUpload value can not be made true if the object is "
                                  "created with mark for upload as false");
  auto remove = error_details([&] { orm::delete_by_pk(db, config, "Parent", "p1", true); });
  CAF_CHECK_EQUAL(remove.code, 7012);
  CAF_CHECK_EQUAL(remove.message, "Record does not exist on server, mark it for upload before "
                                  "updating/deleting it.");
  CAF_CHECK_EQUAL(error_of([&] { orm::update(db, config, "Parent", "", {{"name", "c"}}); }), 7028);
  CAF_CHECK_EQUAL(error_of([&] { orm::remove(db, config, "Parent", "pid = 'p1'"); }), 7012);
  CAF_CHECK_EQUAL(snapshot(), before);
  // Deferred changes of a deferred record are fine and stay deferred.
  orm::update_by_pk(db, config, "Parent", "p1", {{"name", "b"}}, false);
  CAF_CHECK_EQUAL(count("select konysyncchangetype from Parent"), 90);
  CAF_CHECK_EQUAL(
    count("select konysyncchangetype from Parent_history where konysyncreplaysequence = 2"), 91);
  // Once marked, uploadable changes are allowed.
  orm::mark_for_upload_by_pk(db, config, "Parent", "p1");
  orm::update_by_pk(db, config, "Parent", "p1", {{"name", "c"}}, true);
  CAF_CHECK_EQUAL(count("select konysyncchangetype from Parent"), 0);
}

CAF_TEST(deferred delete is tracked as 92) {
  orm::create(db, config, "Parent", {{"pid", "p1"}}, false);
  orm::delete_by_pk(db, config, "Parent", "p1", false);
  CAF_CHECK_EQUAL(count("select count(*) from Parent"), 0);
  CAF_CHECK_EQUAL(
    count("select konysyncchangetype from Parent_history order by konysyncreplaysequence desc"),
    92);
  CAF_CHECK_EQUAL(orm::is_record_deferred_for_upload(db, config, "Parent", "p1"), false);
  server_row("Parent", {{"pid", "p2"}});
  orm::delete_by_pk(db, config, "Parent", "p2", false);
  CAF_CHECK_EQUAL(orm::is_record_deferred_for_upload(db, config, "Parent", "p2"), true);
  CAF_CHECK_EQUAL(orm::is_record_pending_for_upload(db, config, "Parent", "p2"), false);
  orm::mark_for_upload_by_pk(db, config, "Parent", "p2"); // a delete is only in the history
  CAF_CHECK_EQUAL(count("select konysyncchangetype from Parent_history where pid = 'p2'"), 2);
  CAF_CHECK_EQUAL(count("select konysyncoriginalchangetype from Parent_original where pid = 'p2'"),
                  2);
  CAF_CHECK_EQUAL(orm::is_record_pending_for_upload(db, config, "Parent", "p2"), true);
}

CAF_TEST(delete removes the row and records it in history and original) {
  server_row("Parent", {{"pid", "p1"}, {"name", "srv"}}, "hh");
  bump_version("OpsScope");
  orm::delete_by_pk(db, config, "Parent", "p1");
  CAF_CHECK_EQUAL(count("select count(*) from Parent"), 0);
  auto history = rows("select * from Parent_history");
  CAF_REQUIRE_EQUAL(history.size(), 1u);
  CAF_CHECK_EQUAL(history[0]["name"], "srv");
  CAF_CHECK_EQUAL(history[0]["konysyncchangetype"], 2);
  CAF_CHECK_EQUAL(history[0]["konysyncversionnumber"], 1);
  CAF_CHECK_EQUAL(history[0]["konysyncreplaysequence"], 1);
  CAF_CHECK_EQUAL(history[0]["konysynchashsum"], "hh");
  auto original = rows("select * from Parent_original");
  CAF_REQUIRE_EQUAL(original.size(), 1u);
  CAF_CHECK_EQUAL(original[0]["konysyncoriginalchangetype"], 2);
  CAF_CHECK_EQUAL(original[0]["name"], "srv");
}

CAF_TEST(update and remove by where touch each selected record with tracking) {
  for (const char* pid : {"odd", "even", "x"})
    server_row("Parent", {{"pid", pid}});
  for (int i = 1; i <= 4; ++i)
    server_row("Blocker", {{"bid", i}, {"pid", i % 2 ? "odd" : "even"}});
  CAF_CHECK_EQUAL(orm::update(db, config, "Blocker", "pid = 'odd'", {{"pid", nullptr}}), 2);
  CAF_CHECK_EQUAL(count("select count(*) from Blocker where pid is null and konysyncchangetype = 1"),
                  2);
  CAF_CHECK_EQUAL(count("select count(*) from Blocker_history"), 2);
  CAF_CHECK_EQUAL(orm::update(db, config, "Blocker", {"bid > ?", {json(3)}}, {{"pid", "x"}}), 1);
  CAF_CHECK_EQUAL(orm::update(db, config, "Blocker", "bid > 100", {{"pid", "x"}}), 0);
  CAF_CHECK_EQUAL(orm::remove(db, config, "Blocker", {"pid = ?", {json("even")}}), 1);
  CAF_CHECK_EQUAL(count("select count(*) from Blocker"), 3);
  CAF_CHECK_EQUAL(count("select count(*) from Blocker_history where konysyncchangetype = 2"), 1);
  CAF_CHECK_EQUAL(orm::remove(db, config, "Blocker", ""), 3); // no clause: every record
  CAF_CHECK_EQUAL(count("select count(*) from Blocker"), 0);
  CAF_CHECK_EQUAL(replay_sequence("OpsScope"), 7);
}

CAF_TEST(update_all applies each change set in one transaction) {
  for (const char* pid : {"a", "b", "c", "d"})
    server_row("Parent", {{"pid", pid}});
  for (int i = 1; i <= 3; ++i)
    server_row("Blocker", {{"bid", i}, {"pid", "a"}});
  auto changes = json::array({{{"changeSet", {{"pid", "b"}}}, {"whereClause", "where bid = 1"}},
                              {{"changeSet", {{"pid", "c"}}}, {"whereClause", "bid >= 2"}}});
  CAF_CHECK_EQUAL(orm::update_all(db, config, "Blocker", changes), 3);
  CAF_CHECK_EQUAL(count("select count(*) from Blocker where pid = 'c'"), 2);
  auto before = snapshot();
  auto bad = json::array({{{"changeSet", {{"pid", "d"}}}, {"whereClause", "bid = 1"}},
                          {{"changeSet", {{"pid", 5}}}, {"whereClause", "bid = 2"}}});
  CAF_CHECK_EQUAL(error_of([&] { orm::update_all(db, config, "Blocker", bad); }), 7001);
  CAF_CHECK_EQUAL(snapshot(), before);
  CAF_CHECK_EQUAL(
    error_of([&] { orm::update_all(db, config, "Blocker", json::array({json(1)})); }), 7027);
}

CAF_TEST(mark_for_upload rewrites deferred codes and stamps the current version) {
  orm::create(db, config, "Parent", {{"pid", "p1"}}, false);
  orm::update_by_pk(db, config, "Parent", "p1", {{"name", "x"}}, false);
  orm::create(db, config, "Parent", {{"pid", "p2"}}, false);
  bump_version("OpsScope");
  orm::mark_for_upload_by_pk(db, config, "Parent", "p1");
  auto main = rows("select konysyncchangetype, konysyncversionnumber from Parent where pid='p1'");
  CAF_CHECK_EQUAL(main[0]["konysyncchangetype"], 0);
  CAF_CHECK_EQUAL(main[0]["konysyncversionnumber"], 1);
  auto history = rows("select konysyncchangetype, konysyncversionnumber from Parent_history where "
                      "pid = 'p1' order by konysyncreplaysequence");
  CAF_REQUIRE_EQUAL(history.size(), 2u);
  CAF_CHECK_EQUAL(history[0]["konysyncchangetype"], 0);
  CAF_CHECK_EQUAL(history[1]["konysyncchangetype"], 1);
  CAF_CHECK_EQUAL(history[1]["konysyncversionnumber"], 1);
  CAF_CHECK_EQUAL(count("select konysyncoriginalchangetype from Parent_original where pid='p1'"),
                  0);
  CAF_CHECK_EQUAL(count("select konysyncchangetype from Parent where pid='p2'"), 90);
  // Marking a record without deferred changes is a no-op, not an error.
  auto before = snapshot();
  orm::mark_for_upload_by_pk(db, config, "Parent", "p1");
  CAF_CHECK_EQUAL(snapshot(), before);
  CAF_CHECK_EQUAL(orm::mark_for_upload(db, config, "Parent", ""), 1);
  CAF_CHECK_EQUAL(count("select konysyncchangetype from Parent where pid='p2'"), 0);
  CAF_CHECK_EQUAL(orm::mark_for_upload(db, config, "Parent", "pid = 'p2'"), 0);
}

CAF_TEST(rollback by key restores the last synchronized state) {
  server_row("Parent", {{"pid", "upd"}, {"name", "server"}}, "h-upd");
  server_row("Parent", {{"pid", "del"}, {"name", "gone"}}, "h-del");
  orm::update_by_pk(db, config, "Parent", "upd", {{"name", "local"}});
  orm::update_by_pk(db, config, "Parent", "upd", {{"name", "local2"}});
  orm::delete_by_pk(db, config, "Parent", "del");
  orm::create(db, config, "Parent", {{"pid", "ins"}});
  CAF_CHECK(orm::rollback_pending_local_changes_by_pk(db, config, "Parent", "upd"));
  auto upd = rows("select * from Parent where pid = 'upd'");
  CAF_CHECK_EQUAL(upd[0]["name"], "server");
  CAF_CHECK_EQUAL(upd[0]["konysyncchangetype"], -1);
  CAF_CHECK_EQUAL(upd[0]["konysynchashsum"], "h-upd");
  CAF_CHECK_EQUAL(count("select count(*) from Parent_history where pid = 'upd'"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Parent_original where pid = 'upd'"), 0);
  CAF_CHECK(orm::rollback_pending_local_changes_by_pk(db, config, "Parent", "del"));
  auto del = rows("select * from Parent where pid = 'del'");
  CAF_REQUIRE_EQUAL(del.size(), 1u);
  CAF_CHECK_EQUAL(del[0]["name"], "gone");
  CAF_CHECK_EQUAL(del[0]["konysyncchangetype"], -1);
  CAF_CHECK(orm::rollback_pending_local_changes_by_pk(db, config, "Parent", "ins"));
  CAF_CHECK_EQUAL(count("select count(*) from Parent where pid = 'ins'"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Parent_history"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Parent_original"), 0);
  // Nothing left to undo: false, unchanged.
  auto before = snapshot();
  CAF_CHECK(!orm::rollback_pending_local_changes_by_pk(db, config, "Parent", "upd"));
  CAF_CHECK_EQUAL(snapshot(), before);
}

CAF_TEST(rollback of an object undoes every key and counts them) {
  for (const char* pid : {"a", "b"})
    server_row("Parent", {{"pid", pid}});
  server_row("Blocker", {{"bid", 1}, {"pid", "a"}});
  orm::update_by_pk(db, config, "Blocker", 1, {{"pid", "b"}}, false);
  orm::create(db, config, "Blocker", {{"bid", 2}});
  orm::create(db, config, "Blocker", {{"bid", 3}});
  orm::delete_by_pk(db, config, "Blocker", 3);
  orm::create(db, config, "Parent", {{"pid", "untouched"}});
  CAF_CHECK_EQUAL(orm::rollback_pending_local_changes(db, config, "Blocker"), 3);
  auto left = rows("select bid, pid, konysyncchangetype from Blocker");
  CAF_REQUIRE_EQUAL(left.size(), 1u);
  CAF_CHECK_EQUAL(left[0]["pid"], "a");
  CAF_CHECK_EQUAL(left[0]["konysyncchangetype"], -1);
  CAF_CHECK_EQUAL(count("select count(*) from Parent where pid = 'untouched'"), 1);
  CAF_CHECK_EQUAL(orm::rollback_pending_local_changes(db, config, "Blocker"), 0);
}

CAF_TEST(remove_device_instance forgets the record locally without history) {
  server_row("Parent", {{"pid", "p1"}});
  server_row("Child", {{"childId", 1}, {"parentId", "p1"}});
  server_row("GrandChild", {{"gid", 1}, {"childId", 1}});
  server_row("Blocker", {{"bid", 1}, {"pid", "p1"}});
  orm::update_by_pk(db, config, "Child", 1, {{"label", "x"}});
  orm::remove_device_instance_by_pk(db, config, "Parent", "p1");
  CAF_CHECK_EQUAL(count("select count(*) from Parent"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Child"), 0);      // Cascade=true
  CAF_CHECK_EQUAL(count("select count(*) from GrandChild"), 0); // and further down
  CAF_CHECK_EQUAL(count("select count(*) from Blocker"), 1);    // Cascade=false: kept
  CAF_CHECK_EQUAL(count("select count(*) from Parent_history"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Child_history"), 0); // its pending change is gone
  CAF_CHECK_EQUAL(count("select count(*) from Child_original"), 0);
  CAF_CHECK_EQUAL(replay_sequence("OpsScope"), 1); // only the update counted
  server_row("Blocker", {{"bid", 2}, {"pid", "z"}});
  CAF_CHECK_EQUAL(orm::remove_device_instance(db, config, "Blocker", "bid >= 1"), 2);
  CAF_CHECK_EQUAL(count("select count(*) from Blocker_history"), 0);
}

CAF_TEST_FIXTURE_SCOPE_END()
