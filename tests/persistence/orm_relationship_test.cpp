#define CAF_SUITE orm_relationship
#include <caf/test/unit_test.hpp>

#include "orm_test_fixture.hpp"

using namespace orm_test;
namespace orm = mxsync::orm;

CAF_TEST_FIXTURE_SCOPE(orm_relationship_tests, fixture)

CAF_TEST(a child of a OneToMany needs its parent unless the reference is null) {
  auto before = snapshot();
  auto error = error_details(
    [&] { orm::create(db, config, "Child", {{"childId", 1}, {"parentId", "p1"}}); });
  CAF_CHECK_EQUAL(error.code, 7014);
  CAF_CHECK_EQUAL(error.message,
                  "Referential Integrity Constraints Violation: pid = p1 does not exists in Parent.");
  CAF_CHECK_EQUAL(error.info["table"], "Parent");
  CAF_CHECK_EQUAL(snapshot(), before);
  orm::create(db, config, "Child", {{"childId", 1}, {"parentId", nullptr}});
  orm::create(db, config, "Parent", {{"pid", "p1"}});
  orm::create(db, config, "Child", {{"childId", 2}, {"parentId", "p1"}});
  CAF_CHECK_EQUAL(orm::get_all_count(db, config, "Child"), 2);
  // Pointing an existing child at a missing parent is refused as well.
  before = snapshot();
  CAF_CHECK_EQUAL(
    error_of([&] { orm::update_by_pk(db, config, "Child", 2, {{"parentId", "nope"}}); }), 7014);
  CAF_CHECK_EQUAL(error_of([&] { orm::update(db, config, "Child", "", {{"parentId", "nope"}}); }),
                  7014);
  CAF_CHECK_EQUAL(snapshot(), before);
  // Other attributes of an orphan may change (the reference is not touched).
  db.exec("delete from Parent");
  orm::update_by_pk(db, config, "Child", 2, {{"label", "still here"}});
}

CAF_TEST(a ManyToOne with two attribute pairs checks both columns) {
  orm::create(db, config, "Header", {{"code", 7}, {"region", "EU"}});
  auto before = snapshot();
  auto error = error_details([&] {
    orm::create(db, config, "Line",
                {{"orderNo", "o"}, {"lineNo", 1}, {"hcode", 7}, {"hregion", "US"}, {"qty", 1}});
  });
  CAF_CHECK_EQUAL(error.code, 7014);
  CAF_CHECK_EQUAL(error.message, "Referential Integrity Constraints Violation: code = 7 AND "
                                 "region = US does not exists in Header.");
  CAF_CHECK_EQUAL(snapshot(), before);
  orm::create(db, config, "Line",
              {{"orderNo", "o"}, {"lineNo", 1}, {"hcode", 7}, {"hregion", "EU"}, {"qty", 1}});
  // One null part means no reference.
  orm::create(db, config, "Line", {{"orderNo", "o"}, {"lineNo", 2}, {"hcode", 8}, {"qty", 1}});
  CAF_CHECK_EQUAL(error_of([&] {
                    orm::update_by_pk(db, config, "Line", {{"orderNo", "o"}, {"lineNo", 1}},
                                      {{"hcode", 8}});
                  }),
                  7014);
}

CAF_TEST(deleting a parent with dependents of a non-cascading relationship is 7014) {
  server_row("Parent", {{"pid", "p1"}});
  server_row("Blocker", {{"bid", 1}, {"pid", "p1"}});
  auto before = snapshot();
  auto error = error_details([&] { orm::delete_by_pk(db, config, "Parent", "p1"); });
  CAF_CHECK_EQUAL(error.code, 7014);
  CAF_CHECK_EQUAL(error.message, "Referential Integrity Constraints Violation: Delete dependent "
                                 "records from Blocker before deleting record(s) in Parent.");
  CAF_CHECK_EQUAL(error_of([&] { orm::remove(db, config, "Parent", ""); }), 7014);
  CAF_CHECK_EQUAL(snapshot(), before);
  orm::delete_by_pk(db, config, "Blocker", 1);
  orm::delete_by_pk(db, config, "Parent", "p1");
  CAF_CHECK_EQUAL(orm::get_all_count(db, config, "Parent"), 0);
}

CAF_TEST(deleting the target of a ManyToOne with dependents is 7014) {
  server_row("Header", {{"code", 1}, {"region", "EU"}});
  server_row("Line", {{"orderNo", "o"}, {"lineNo", 1}, {"hcode", 1}, {"hregion", "EU"}, {"qty", 1}});
  auto before = snapshot();
  auto error = error_details(
    [&] { orm::delete_by_pk(db, config, "Header", {{"code", 1}, {"region", "EU"}}); });
  CAF_CHECK_EQUAL(error.code, 7014);
  CAF_CHECK_EQUAL(error.message, "Referential Integrity Constraints Violation: Delete dependent "
                                 "records from Line before deleting record(s) in Header.");
  CAF_CHECK_EQUAL(snapshot(), before);
}

CAF_TEST(a cascading delete deletes and tracks the children recursively) {
  server_row("Parent", {{"pid", "p1"}});
  server_row("Parent", {{"pid", "p2"}});
  server_row("Child", {{"childId", 1}, {"parentId", "p1"}, {"label", "one"}});
  server_row("Child", {{"childId", 2}, {"parentId", "p1"}});
  server_row("Child", {{"childId", 3}, {"parentId", "p2"}});
  server_row("GrandChild", {{"gid", 10}, {"childId", 1}});
  orm::delete_by_pk(db, config, "Parent", "p1");
  CAF_CHECK_EQUAL(count("select count(*) from Parent"), 1);
  CAF_CHECK_EQUAL(count("select count(*) from Child"), 1);
  CAF_CHECK_EQUAL(count("select count(*) from GrandChild"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Child_history where konysyncchangetype = 2"), 2);
  CAF_CHECK_EQUAL(count("select count(*) from GrandChild_history where konysyncchangetype = 2"), 1);
  auto child = rows("select label from Child_original where childId = 1");
  CAF_CHECK_EQUAL(child[0]["label"], "one");
  // Children go before their parents in replay order.
  CAF_CHECK_EQUAL(count("select konysyncreplaysequence from GrandChild_history"), 1);
  CAF_CHECK_EQUAL(count("select konysyncreplaysequence from Parent_history"), 4);
  // Deferred deletes cascade as deferred.
  orm::delete_by_pk(db, config, "Parent", "p2", false);
  CAF_CHECK_EQUAL(count("select konysyncchangetype from Child_history where childId = 3"), 92);
  // And a rollback brings the whole tree back.
  auto result = mxsync::pending::rollback_pending_local_changes(db, config);
  CAF_CHECK_EQUAL(result["rowsrolledback"], 6);
  CAF_CHECK_EQUAL(count("select count(*) from Child"), 3);
  CAF_CHECK_EQUAL(count("select count(*) from GrandChild"), 1);
}

CAF_TEST(relationship look ups return the related records and their count) {
  server_row("Parent", {{"pid", "p1"}});
  server_row("Parent", {{"pid", "p2"}});
  server_row("Child", {{"childId", 1}, {"parentId", "p1"}});
  server_row("Child", {{"childId", 2}, {"parentId", "p1"}});
  server_row("Child", {{"childId", 3}, {"parentId", "p2"}});
  auto children = orm::get_related(db, config, "Parent", "p1", "Child");
  CAF_CHECK_EQUAL(children.size(), 2u);
  CAF_CHECK_EQUAL(orm::get_related_count(db, config, "Parent", "p1", "Child", "pid"), 2);
  CAF_CHECK_EQUAL(orm::get_related_count(db, config, "Parent", "p2", "Child", "parentId"), 1);
  CAF_CHECK_EQUAL(orm::get_related_count(db, config, "Parent", "p2", "Blocker"), 0);
  server_row("Header", {{"code", 1}, {"region", "EU"}, {"title", "h"}});
  server_row("Line", {{"orderNo", "o"}, {"lineNo", 1}, {"hcode", 1}, {"hregion", "EU"}, {"qty", 1}});
  auto header = orm::get_related(db, config, "Line", {{"orderNo", "o"}, {"lineNo", 1}}, "Header");
  CAF_REQUIRE_EQUAL(header.size(), 1u);
  CAF_CHECK_EQUAL(header[0]["title"], "h");
  CAF_CHECK_EQUAL(error_of([&] { orm::get_related(db, config, "Parent", "nope", "Child"); }), 7009);
  CAF_CHECK_EQUAL(error_of([&] { orm::get_related(db, config, "Parent", "p1", "Header"); }), 7031);
  CAF_CHECK_EQUAL(
    error_of([&] { orm::get_related_count(db, config, "Parent", "p1", "Child", "label"); }), 7031);
}

CAF_TEST(the workorder fixture config works end to end) {
  auto workorder = mxsync::sync_config::load_file(MXSYNC_FIXTURES_DIR "/workorder-sync-config.json");
  mxsync::db::connection other{":memory:"};
  mxsync::schema::initialize(other, workorder);
  orm::create(other, workorder, "WorkOrder", {{"orderId", "w1"}, {"customerId", "c1"}});
  orm::create(other, workorder, "WorkOrderDetails", {{"orderId", "w1"}});
  orm::create(other, workorder, "PartMapping", {{"partid", "p"}, {"orderid", "w1"}});
  CAF_CHECK_EQUAL(orm::get_related_count(other, workorder, "WorkOrder", "w1", "WorkOrderDetails",
                                         "orderId"),
                  1);
  CAF_CHECK_EQUAL(error_of([&] { orm::delete_by_pk(other, workorder, "WorkOrder", "w1"); }), 7014);
  auto pending = mxsync::pending::get_pending_upload(other, workorder);
  CAF_CHECK_EQUAL(pending["totalCount"], 3);
}

CAF_TEST_FIXTURE_SCOPE_END()
