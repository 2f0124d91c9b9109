#define CAF_SUITE download_batch
#include <caf/test/unit_test.hpp>

#include "persistence/download_batch.hpp"
#include "persistence/pending_changes.hpp"
#include "persistence/sync_state.hpp"
#include "persistence/upload_batch.hpp"
#include "sync_test_fixture.hpp"

#include <fstream>

using namespace sync_test;
namespace syncdb = mxsync::syncdb;
namespace orm = mxsync::orm;
namespace pending = mxsync::pending;
using syncdb::upload_error_policy;
using mxsync::transport::upload_error_entry;

namespace {

struct download_fixture : fixture {
  syncdb::batch_result apply(const std::string& scope, const std::vector<sync_row>& server_rows,
                             const std::vector<sync_row>& acks = {},
                             const std::string& blob = "dl-1", bool more = true,
                             const std::vector<upload_error_entry>& errors = {},
                             upload_error_policy policy = upload_error_policy::abort_on_error,
                             const std::string& filter = "no filter") {
    return syncdb::apply_batch(db, config, scope, filter,
                               {server_rows, acks, errors, blob, more}, policy);
  }

  /// Uploads everything pending of the scope as one batch.
  syncdb::upload_window upload_all(const std::string& scope) {
    auto window = syncdb::next_batch(db, config, scope, 0);
    syncdb::commit_uploaded_batch(db, config, scope, window.last_sequence, "up");
    return window;
  }

  const syncdb::object_batch_counts* counts(const syncdb::batch_result& result,
                                            const std::string& object) {
    for (const auto& [name, c] : result.per_object)
      if (name == object)
        return &c;
    return nullptr;
  }
};

sync_row with_client_key(sync_row row, const std::string& column, std::int64_t old_value) {
  row.client_keys.emplace_back(column, old_value);
  return row;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(download_batch_tests, download_fixture)

CAF_TEST(server rows are upserted and deleted with their hashsum) {
  stored_row("Parent", {{"id", 1}, {"name", "old"}});
  stored_row("Parent", {{"id", 2}, {"name", "gone"}});
  auto result = apply(ota_scope,
                      {server_row("Parent", {{"id", 1}, {"name", "new"}, {"unknown", "x"}}, "h1b"),
                       server_row("Parent", {{"id", 3}, {"name", "fresh"}}, "h3"),
                       server_row("Parent", {{"id", 2}}, std::nullopt, "delete"),
                       server_row("Child", {{"childId", "c"}, {"parentId", 3}, {"label", "l"}},
                                  "hc")});
  CAF_CHECK_EQUAL(result.rows_downloaded, 4);
  CAF_CHECK_EQUAL(result.rows_inserted, 2);
  CAF_CHECK_EQUAL(result.rows_updated, 1);
  CAF_CHECK_EQUAL(result.rows_deleted, 1);
  CAF_CHECK_EQUAL(result.rows_skipped, 0);
  CAF_CHECK(result.failed_rows.empty());
  auto parents = rows("select id, name, konysyncchangetype as ct, konysynchashsum as h "
                      "from Parent order by id");
  CAF_CHECK_EQUAL(parents, json::parse(R"([{"id":1,"name":"new","ct":null,"h":"h1b"},
                                          {"id":3,"name":"fresh","ct":null,"h":"h3"}])"));
  CAF_REQUIRE(counts(result, "Parent"));
  CAF_CHECK_EQUAL(counts(result, "Parent")->downloaded, 3);
  CAF_CHECK_EQUAL(counts(result, "Parent")->inserted, 1);
  CAF_CHECK_EQUAL(counts(result, "Child")->inserted, 1);
  auto info = result.object_level_info();
  CAF_CHECK_EQUAL(info["Parent"]["rowsupdated"], json(1));
  CAF_CHECK_EQUAL(info["Parent"]["rowsdeleted"], json(1));
  // Nothing was tracked: server rows are not local changes.
  CAF_CHECK_EQUAL(count("select count(*) from Parent_history"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Parent_original"), 0);
  CAF_CHECK_EQUAL(syncdb::read_scope_position(db, config, ota_scope).download_blob, "dl-1");
  CAF_CHECK(!syncdb::is_scope_initialized(db, ota_scope));
  CAF_CHECK(!result.scope_initialized);
}

CAF_TEST(the last batch marks the scope initialized) {
  auto first = apply(ota_scope, {server_row("Parent", {{"id", 1}})}, {}, "dl-1", true);
  CAF_CHECK(!first.scope_initialized);
  auto last = apply(ota_scope, {}, {}, "dl-2", false);
  CAF_CHECK(last.scope_initialized);
  CAF_CHECK(syncdb::is_scope_initialized(db, ota_scope));
  CAF_CHECK_EQUAL(syncdb::read_scope_position(db, config, ota_scope).download_blob, "dl-2");
  auto later = apply(ota_scope, {}, {}, "dl-3", false);
  CAF_CHECK(!later.scope_initialized); // only the first completion is news
  CAF_CHECK(!syncdb::is_scope_initialized(db, persistent_scope));
}

CAF_TEST(an update without a hashsum keeps the stored one) {
  stored_row("Line", {{"lineId", 1}, {"note", "a"}}, "keep");
  apply(persistent_scope, {server_row("Line", {{"lineId", 1}, {"note", "b"}})});
  CAF_CHECK_EQUAL(value("select konysynchashsum from Line"), json("keep"));
  // Columns the row does not bring are kept too.
  apply(persistent_scope, {server_row("Line", {{"lineId", 1}}, "h2")});
  CAF_CHECK_EQUAL(value("select note from Line"), json("b"));
  CAF_CHECK_EQUAL(value("select konysynchashsum from Line"), json("h2"));
}

CAF_TEST(rows with pending local changes are never overwritten) {
  orm::create(db, config, "Tag", {{"tagId", "inserted"}, {"text", "local"}});
  stored_row("Tag", {{"tagId", "updated"}, {"text", "server"}});
  orm::update_by_pk(db, config, "Tag", "updated", {{"text", "local"}});
  stored_row("Tag", {{"tagId", "deleted"}, {"text", "server"}});
  orm::delete_by_pk(db, config, "Tag", "deleted");
  stored_row("Tag", {{"tagId", "deferred"}, {"text", "server"}});
  orm::update_by_pk(db, config, "Tag", "deferred", {{"text", "local"}}, false);
  stored_row("Tag", {{"tagId", "acked"}, {"text", "server"}});
  db.exec("update Tag set konysyncchangetype = -1 where tagId = 'acked'");
  auto result = apply(ota_scope,
                      {server_row("Tag", {{"tagId", "inserted"}, {"text", "S"}}, "x"),
                       server_row("Tag", {{"tagId", "updated"}, {"text", "S"}}, "x"),
                       server_row("Tag", {{"tagId", "deleted"}, {"text", "S"}}, "x"),
                       server_row("Tag", {{"tagId", "deferred"}, {"text", "S"}}, "x"),
                       server_row("Tag", {{"tagId", "updated"}}, std::nullopt, "delete"),
                       server_row("Tag", {{"tagId", "acked"}, {"text", "S"}}, "x")});
  CAF_CHECK_EQUAL(result.rows_skipped, 5);
  CAF_CHECK_EQUAL(result.rows_updated, 1);
  CAF_CHECK_EQUAL(result.rows_inserted, 0);
  CAF_CHECK_EQUAL(result.rows_deleted, 0);
  auto tags = rows("select tagId, text from Tag order by tagId");
  CAF_CHECK_EQUAL(tags, json::parse(R"([{"tagId":"acked","text":"S"},
                                       {"tagId":"deferred","text":"local"},
                                       {"tagId":"inserted","text":"local"},
                                       {"tagId":"updated","text":"local"}])"));
  // The local delete is still pending: the record did not come back.
  CAF_CHECK_EQUAL(count("select count(*) from Tag where tagId = 'deleted'"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Tag_history where tagId = 'deleted'"), 1);
}

CAF_TEST(a server delete removes a clean row only) {
  stored_row("Line", {{"lineId", 1}});
  stored_row("Line", {{"lineId", 2}});
  orm::update_by_pk(db, config, "Line", 2, {{"note", "mine"}});
  auto result = apply(persistent_scope,
                      {server_row("Line", {{"lineId", 1}}, std::nullopt, "delete"),
                       server_row("Line", {{"lineId", 2}}, std::nullopt, "delete"),
                       server_row("Line", {{"lineId", 3}}, std::nullopt, "delete")});
  // Line 3 was never on the device: its delete is counted all the same.
  CAF_CHECK_EQUAL(result.rows_deleted, 2);
  CAF_CHECK_EQUAL(result.rows_skipped, 1);
  CAF_CHECK_EQUAL(count("select count(*) from Line"), 1);
}

CAF_TEST(a server delete of a row the device does not have counts as deleted) {
  stored_row("Line", {{"lineId", 1}});
  auto result = apply(persistent_scope,
                      {server_row("Line", {{"lineId", 1}}, std::nullopt, "delete"),
                       server_row("Line", {{"lineId", 8}}, std::nullopt, "delete"),
                       server_row("Line", {{"lineId", 9}}, std::nullopt, "delete")});
  CAF_CHECK_EQUAL(result.rows_downloaded, 3);
  CAF_CHECK_EQUAL(result.rows_deleted, 3);
  CAF_CHECK_EQUAL(result.rows_skipped, 0);
  CAF_REQUIRE(counts(result, "Line"));
  CAF_CHECK_EQUAL(counts(result, "Line")->deleted, 3);
  const auto info = result.object_level_info();
  CAF_CHECK_EQUAL(info["Line"]["rowsdeleted"], json(3));
  CAF_CHECK(result.failed_rows.empty());
  CAF_CHECK_EQUAL(count("select count(*) from Line"), 0);
  // Nothing was tracked: neither the delete nor the absent rows are local changes.
  CAF_CHECK_EQUAL(count("select count(*) from Line_history"), 0);
}

CAF_TEST(every server row is counted once as inserted updated deleted or skipped) {
  stored_row("Tag", {{"tagId", "clean"}, {"text", "server"}});
  stored_row("Tag", {{"tagId", "clean-del"}, {"text", "server"}});
  stored_row("Tag", {{"tagId", "dirty"}, {"text", "server"}});
  orm::update_by_pk(db, config, "Tag", "dirty", {{"text", "local"}});
  stored_row("Tag", {{"tagId", "dirty-del"}, {"text", "server"}});
  orm::update_by_pk(db, config, "Tag", "dirty-del", {{"text", "local"}});
  stored_row("Tag", {{"tagId", "local-del"}, {"text", "server"}});
  orm::delete_by_pk(db, config, "Tag", "local-del");
  stored_row("Parent", {{"id", 5}, {"name", "p"}});
  auto result = apply(ota_scope,
                      {server_row("Tag", {{"tagId", "new"}, {"text", "S"}}),          // inserted
                       server_row("Tag", {{"tagId", "clean"}, {"text", "S"}}),        // updated
                       server_row("Tag", {{"tagId", "clean-del"}}, std::nullopt, "delete"),
                       server_row("Tag", {{"tagId", "absent"}}, std::nullopt, "delete"),
                       server_row("Tag", {{"tagId", "dirty"}, {"text", "S"}}),        // skipped
                       server_row("Tag", {{"tagId", "dirty-del"}}, std::nullopt, "delete"),
                       server_row("Tag", {{"tagId", "local-del"}, {"text", "S"}}),    // skipped
                       server_row("Tag", {{"tagId", "local-del"}}, std::nullopt, "delete"),
                       server_row("Parent", {{"id", 5}}, std::nullopt, "delete"),
                       server_row("Parent", {{"id", 6}}, std::nullopt, "delete")});
  CAF_CHECK(result.failed_rows.empty());
  CAF_CHECK_EQUAL(result.rows_downloaded, 10);
  CAF_CHECK_EQUAL(result.rows_inserted, 1);
  CAF_CHECK_EQUAL(result.rows_updated, 1);
  CAF_CHECK_EQUAL(result.rows_deleted, 4);
  CAF_CHECK_EQUAL(result.rows_skipped, 4);
  CAF_CHECK_EQUAL(result.rows_downloaded, result.rows_inserted + result.rows_updated
                                            + result.rows_deleted + result.rows_skipped);
  CAF_REQUIRE(counts(result, "Tag"));
  CAF_REQUIRE(counts(result, "Parent"));
  const auto tag = *counts(result, "Tag");
  const auto parent = *counts(result, "Parent");
  CAF_CHECK_EQUAL(tag.downloaded, 8);
  CAF_CHECK_EQUAL(tag.inserted, 1);
  CAF_CHECK_EQUAL(tag.updated, 1);
  CAF_CHECK_EQUAL(tag.deleted, 2);
  CAF_CHECK_EQUAL(tag.skipped, 4);
  CAF_CHECK_EQUAL(parent.downloaded, 2);
  CAF_CHECK_EQUAL(parent.deleted, 2);
  CAF_CHECK_EQUAL(parent.skipped, 0);
  for (const auto& [name, c] : result.per_object)
    CAF_CHECK_EQUAL(c.downloaded, c.inserted + c.updated + c.deleted + c.skipped);
  // The kept rows are untouched, the local delete still pending.
  auto tags = rows("select tagId, text from Tag order by tagId");
  CAF_CHECK_EQUAL(tags, json::parse(R"([{"tagId":"clean","text":"S"},
                                       {"tagId":"dirty","text":"local"},
                                       {"tagId":"dirty-del","text":"local"},
                                       {"tagId":"new","text":"S"}])"));
  CAF_CHECK_EQUAL(count("select count(*) from Tag_history where tagId = 'local-del'"), 1);
}

CAF_TEST(persistent acks clear history and dirty flags) {
  orm::create(db, config, "Header", {{"code", 1}, {"region", "EU"}, {"title", "a"}, {"qty", 1}});
  orm::create(db, config, "Header", {{"code", 2}, {"region", "EU"}, {"qty", 1}});
  upload_all(persistent_scope);
  orm::update_by_pk(db, config, "Header", {{"code", 1}, {"region", "EU"}}, {{"title", "b"}});
  CAF_CHECK_EQUAL(syncdb::pending_acknowledgement_counts(db, config, persistent_scope),
                  (std::vector<std::pair<std::string, std::int64_t>>{{"Header", 2}, {"Line", 0}}));
  auto result = apply(
    persistent_scope, {},
    {ack_row("Header", {{"code", 1}, {"region", "EU"}, {"title", "a"}, {"qty", 1}}, 1, 0, 0, "ha"),
     ack_row("Header", {{"code", 2}, {"region", "EU"}, {"qty", 1}}, 2, 0, 0, "hb")});
  CAF_CHECK_EQUAL(result.ack_total, 2);
  // Insert acks of keys the app gave count as updates (docs/callbacks.md 2.5).
  CAF_CHECK_EQUAL(result.ack_inserted, 0);
  CAF_CHECK_EQUAL(result.ack_updated, 2);
  CAF_CHECK_EQUAL(result.acknowledged.size(), 2u);
  CAF_CHECK(result.failed_rows.empty());
  auto headers = rows("select code, title, konysyncchangetype as ct, konysynchashsum as h, "
                      "konysyncversionnumber as v from Header order by code");
  // Record 2: clean. Record 1: its later update is still pending upload, now with the
  // hashsum the server gave the acknowledged version.
  CAF_CHECK_EQUAL(headers, json::parse(R"([{"code":1,"title":"b","ct":0,"h":"ha","v":1},
                                          {"code":2,"title":null,"ct":-1,"h":"hb","v":0}])"));
  auto history = rows("select code, konysyncreplaysequence as s, konysynchashsum as h "
                      "from Header_history");
  CAF_CHECK_EQUAL(history, json::parse(R"([{"code":1,"s":3,"h":"ha"}])"));
  CAF_CHECK_EQUAL(count("select count(*) from Header_original where code = 2"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Header_original where code = 1"), 1);
  CAF_CHECK_EQUAL(orm::get_pending_acknowledgement(db, config, "Header").size(), 0u);
  CAF_CHECK_EQUAL(orm::get_pending_upload(db, config, "Header").size(), 1u);
  const auto unacknowledged = syncdb::pending_acknowledgement_counts(db, config, persistent_scope);
  CAF_CHECK_EQUAL(unacknowledged[0].second, 0);
  // Its own ack later clears it completely.
  auto next = upload_all(persistent_scope);
  CAF_CHECK_EQUAL(next.rows.size(), 1u);
  CAF_CHECK_EQUAL(next.rows[0].hashsum.value_or(""), "ha");
  apply(persistent_scope, {},
        {ack_row("Header", {{"code", 1}, {"region", "EU"}}, 3, 1, 1, "ha2")});
  CAF_CHECK_EQUAL(value("select konysyncchangetype from Header where code = 1"), json(-1));
  CAF_CHECK_EQUAL(count("select count(*) from Header_history"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Header_original"), 0);
}

CAF_TEST(acks of updates and deletes are counted by kind) {
  stored_row("Line", {{"lineId", 1}, {"note", "a"}});
  stored_row("Line", {{"lineId", 2}, {"note", "b"}});
  orm::update_by_pk(db, config, "Line", 1, {{"note", "z"}});
  orm::delete_by_pk(db, config, "Line", 2);
  upload_all(persistent_scope);
  auto result = apply(persistent_scope, {},
                      {ack_row("Line", {{"lineId", 1}, {"note", "z"}}, 1, 0, 1, "h1"),
                       ack_row("Line", {{"lineId", 2}, {"note", "NULL"}}, 2, 0, 2, "h2")});
  CAF_CHECK_EQUAL(result.ack_total, 2);
  CAF_CHECK_EQUAL(result.ack_updated, 1);
  CAF_CHECK_EQUAL(result.ack_deleted, 1);
  CAF_CHECK_EQUAL(counts(result, "Line")->acknowledged, 2);
  // Echoed data never overwrites the row; the deleted record stays deleted.
  auto lines = rows("select lineId, note, konysyncchangetype as ct from Line");
  CAF_CHECK_EQUAL(lines, json::parse(R"([{"lineId":1,"note":"z","ct":-1}])"));
  CAF_CHECK_EQUAL(count("select count(*) from Line_history"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Line_original"), 0);
  const auto pending_upload = pending::get_pending_upload(db, config);
  CAF_CHECK_EQUAL(pending_upload["totalCount"], json(0));
}

CAF_TEST(insert acks count as inserted only for keys generated on the device) {
  orm::create(db, config, "Parent", {{"name", "p"}});   // autogenerated: id -1
  orm::create(db, config, "Tag", {{"tagId", "t1"}});    // a key the app gave
  orm::create(db, config, "Tag", {{"tagId", "t2"}});
  stored_row("Tag", {{"tagId", "t3"}, {"text", "server"}});
  orm::update_by_pk(db, config, "Tag", "t3", {{"text", "local"}});
  stored_row("Tag", {{"tagId", "t4"}, {"text", "server"}});
  orm::delete_by_pk(db, config, "Tag", "t4");
  upload_all(ota_scope);
  auto result = syncdb::apply_upload_acks(
    db, config, ota_scope,
    {with_client_key(ack_row("Parent", {{"id", 100}, {"name", "p"}}, 1, 0, 0, "hp"), "id", -1),
     ack_row("Tag", {{"tagId", "t1"}}, 2, 0, 0, "h1"),
     ack_row("Tag", {{"tagId", "t2"}}, 3, 0, 0, "h2"),
     ack_row("Tag", {{"tagId", "t3"}, {"text", "local"}}, 4, 0, 1, "h3"),
     ack_row("Tag", {{"tagId", "t4"}}, 5, 0, 2, "h4")});
  CAF_CHECK(result.failed_rows.empty());
  CAF_CHECK_EQUAL(result.ack_total, 5);
  CAF_CHECK_EQUAL(result.ack_inserted, 1); // Parent -1 -> 100 only
  CAF_CHECK_EQUAL(result.ack_updated, 3);  // t1, t2 (inserts of app keys) and t3
  CAF_CHECK_EQUAL(result.ack_deleted, 1);
  CAF_REQUIRE(counts(result, "Parent"));
  CAF_REQUIRE(counts(result, "Tag"));
  const auto parent = *counts(result, "Parent");
  const auto tag = *counts(result, "Tag");
  CAF_CHECK_EQUAL(parent.ack_inserted, 1);
  CAF_CHECK_EQUAL(parent.ack_updated, 0);
  CAF_CHECK_EQUAL(tag.ack_inserted, 0);
  CAF_CHECK_EQUAL(tag.ack_updated, 3);
  CAF_CHECK_EQUAL(tag.ack_deleted, 1);
  // The same in a download batch (persistent strategy), with the echoed change type
  // missing: __metadata.changeType "insert" of an app key is an update ack too.
  orm::create(db, config, "Line", {{"lineId", 1}});
  upload_all(persistent_scope);
  auto insert_ack = ack_row("Line", {{"lineId", 1}}, 1, 0, 0, "hl");
  insert_ack.change_type_code.reset();
  insert_ack.change_type = "insert";
  auto download = apply(persistent_scope, {}, {insert_ack});
  CAF_CHECK_EQUAL(download.ack_total, 1);
  CAF_CHECK_EQUAL(download.ack_inserted, 0);
  CAF_CHECK_EQUAL(download.ack_updated, 1);
}

CAF_TEST(ack kinds are exact per object when several objects are acknowledged) {
  orm::create(db, config, "Parent", {{"name", "p"}}); // -1
  orm::create(db, config, "Parent", {{"name", "q"}}); // -2
  stored_row("Parent", {{"id", 50}, {"name", "old"}});
  orm::update_by_pk(db, config, "Parent", 50, {{"name", "new"}});
  orm::create(db, config, "Tag", {{"tagId", "t1"}});
  stored_row("Tag", {{"tagId", "t2"}, {"text", "server"}});
  orm::delete_by_pk(db, config, "Tag", "t2");
  stored_row("Tag", {{"tagId", "t3"}, {"text", "server"}});
  orm::delete_by_pk(db, config, "Tag", "t3");
  orm::create(db, config, "Child", {{"childId", "c1"}, {"parentId", 50}});
  upload_all(ota_scope);
  auto result = syncdb::apply_upload_acks(
    db, config, ota_scope,
    {with_client_key(ack_row("Parent", {{"id", 101}}, 1, 0, 0), "id", -1),
     with_client_key(ack_row("Parent", {{"id", 102}}, 2, 0, 0), "id", -2),
     ack_row("Parent", {{"id", 50}, {"name", "new"}}, 3, 0, 1),
     ack_row("Tag", {{"tagId", "t1"}}, 4, 0, 0),
     ack_row("Tag", {{"tagId", "t2"}}, 5, 0, 2),
     ack_row("Tag", {{"tagId", "t3"}}, 6, 0, 2),
     ack_row("Child", {{"childId", "c1"}, {"parentId", 50}}, 7, 0, 0)});
  CAF_CHECK(result.failed_rows.empty());
  CAF_CHECK_EQUAL(result.ack_total, 7);
  CAF_CHECK_EQUAL(result.ack_inserted, 2);
  CAF_CHECK_EQUAL(result.ack_updated, 3);
  CAF_CHECK_EQUAL(result.ack_deleted, 2);
  struct expected_kinds {
    const char* object;
    std::int64_t inserted, updated, deleted;
  };
  for (const auto& want : {expected_kinds{"Parent", 2, 1, 0}, expected_kinds{"Tag", 0, 1, 2},
                           expected_kinds{"Child", 0, 1, 0}}) {
    CAF_MESSAGE("object " << want.object);
    const auto* found = counts(result, want.object);
    CAF_REQUIRE(found);
    const auto got = *found;
    CAF_CHECK_EQUAL(got.ack_inserted, want.inserted);
    CAF_CHECK_EQUAL(got.ack_updated, want.updated);
    CAF_CHECK_EQUAL(got.ack_deleted, want.deleted);
    CAF_CHECK_EQUAL(got.acknowledged, want.inserted + want.updated + want.deleted);
  }
  const auto info = result.object_level_info();
  const auto tag_info = info["Tag"];
  CAF_CHECK_EQUAL(tag_info["ackinsertedrows"], json(0));
  CAF_CHECK_EQUAL(tag_info["ackupdatedrows"], json(1));
  CAF_CHECK_EQUAL(tag_info["ackdeletedrows"], json(2));
  CAF_CHECK_EQUAL(tag_info["rowsacknowledged"], json(3));
  const auto parent_info = info["Parent"];
  CAF_CHECK_EQUAL(parent_info["ackinsertedrows"], json(2));
  CAF_CHECK_EQUAL(parent_info["ackupdatedrows"], json(1));
  CAF_CHECK_EQUAL(parent_info["ackdeletedrows"], json(0));
  // Session totals add the kinds per object.
  auto total = result;
  total.merge(result);
  const auto* merged = counts(total, "Tag");
  CAF_REQUIRE(merged);
  const auto merged_tag = *merged;
  CAF_CHECK_EQUAL(merged_tag.ack_updated, 2);
  CAF_CHECK_EQUAL(merged_tag.ack_deleted, 4);
  CAF_CHECK_EQUAL(total.ack_inserted, 4);
}

CAF_TEST(autogenerated keys are remapped with child foreign keys) {
  orm::create(db, config, "Parent", {{"name", "p"}});                       // id -1, seq 1
  orm::create(db, config, "Child", {{"childId", "c1"}, {"parentId", -1}}); // seq 2
  orm::create(db, config, "Tag", {{"tagId", "t1"}, {"parentRef", -1}});    // seq 3
  orm::create(db, config, "Parent", {{"name", "q"}});                       // id -2, seq 4
  upload_all(ota_scope);
  auto result = syncdb::apply_upload_acks(
    db, config, ota_scope,
    {with_client_key(ack_row("Parent", {{"id", 100}, {"name", "p"}}, 1, 0, 0, "hp"), "id", -1)});
  CAF_CHECK_EQUAL(result.ack_total, 1);
  CAF_REQUIRE_EQUAL(result.reconciled_keys.size(), 1u);
  CAF_CHECK_EQUAL(result.reconciled_keys[0].column, "id");
  auto info = result.object_level_info();
  CAF_CHECK_EQUAL(info["Parent"]["reconciledprimarykeys"],
                  json::parse(R"([{"id":{"newpk":100,"oldpk":-1}}])"));
  auto parents = rows("select id, name, konysyncchangetype as ct, konysynchashsum as h "
                      "from Parent order by id");
  CAF_CHECK_EQUAL(parents, json::parse(R"([{"id":-2,"name":"q","ct":0,"h":null},
                                          {"id":100,"name":"p","ct":-1,"h":"hp"}])"));
  CAF_CHECK_EQUAL(count("select count(*) from Parent_history where id = -1"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Parent_original where id = -1"), 0);
  // OneToMany child and ManyToOne referrer follow, history and pre-image included.
  CAF_CHECK_EQUAL(value("select parentId from Child"), json(100));
  CAF_CHECK_EQUAL(value("select parentId from Child_history"), json(100));
  CAF_CHECK_EQUAL(value("select parentId from Child_original"), json(100));
  CAF_CHECK_EQUAL(value("select parentRef from Tag"), json(100));
  CAF_CHECK_EQUAL(value("select parentRef from Tag_history"), json(100));
  CAF_CHECK_EQUAL(result.acknowledged.size(), 1u);
  CAF_CHECK(result.acknowledged[0].key[0].second == column_value{std::int64_t{100}});
}

CAF_TEST(many remapped keys in one batch move all their children) {
  const int parents = 150; // more than one group of rewritten foreign keys
  for (int i = 1; i <= parents; ++i) {
    orm::create(db, config, "Parent", {{"name", "p"}}); // id -i
    std::string child_id{"c"}; // appended: "c" + std::string trips GCC 12's -O3 -Wrestrict (bug 105329)
    child_id += std::to_string(i);
    orm::create(db, config, "Child", {{"childId", child_id}, {"parentId", -i}});
  }
  upload_all(ota_scope);
  std::vector<sync_row> acks;
  for (int i = 1; i <= parents; ++i)
    acks.push_back(with_client_key(ack_row("Parent", {{"id", 1000 + i}}, 2 * i - 1, 0), "id", -i));
  auto result = syncdb::apply_upload_acks(db, config, ota_scope, acks);
  CAF_CHECK_EQUAL(result.reconciled_keys.size(), static_cast<std::size_t>(parents));
  CAF_CHECK_EQUAL(count("select count(*) from Parent where id < 0"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Child join Parent on Child.parentId = Parent.id "
                        "where Parent.id = 1000 + cast(substr(Child.childId, 2) as integer)"),
                  parents);
  CAF_CHECK_EQUAL(count("select count(*) from Child_history where parentId < 0"), 0);
}

CAF_TEST(an upload answer applies acks and server rows but no blob) {
  orm::create(db, config, "Tag", {{"tagId", "t1"}});
  upload_all(ota_scope);
  mxsync::transport::upload_answer answer;
  answer.server_blob = "up-9";
  answer.ack_rows.push_back(ack_row("Tag", {{"tagId", "t1"}}, 1, 0, 0, "h"));
  answer.server_rows.push_back(server_row("Tag", {{"tagId", "t2"}, {"text", "server"}}, "h2"));
  auto result = syncdb::apply_upload_answer(db, config, ota_scope, answer);
  CAF_CHECK_EQUAL(result.ack_total, 1);
  CAF_CHECK_EQUAL(result.rows_inserted, 1);
  CAF_CHECK_EQUAL(count("select count(*) from Tag where konysyncchangetype = -1"), 1);
  CAF_CHECK_EQUAL(syncdb::read_scope_position(db, config, ota_scope).download_blob, "");
  CAF_CHECK(!syncdb::is_scope_initialized(db, ota_scope));
}

CAF_TEST(a remapped key replaces a downloaded copy of the same record) {
  orm::create(db, config, "Parent", {{"name", "p"}}); // id -1
  upload_all(ota_scope);
  stored_row("Parent", {{"id", 100}, {"name", "p"}}, "server");
  auto result = apply(
    ota_scope, {},
    {with_client_key(ack_row("Parent", {{"id", 100}}, 1, 0, 0, "hp"), "id", -1)});
  CAF_CHECK_EQUAL(result.ack_total, 1);
  CAF_CHECK_EQUAL(count("select count(*) from Parent"), 1);
  CAF_CHECK_EQUAL(value("select konysynchashsum from Parent where id = 100"), json("hp"));
}

CAF_TEST(failed acks keep the row pending and are reported) {
  orm::create(db, config, "Header", {{"code", 1}, {"region", "EU"}, {"qty", 1}});
  orm::create(db, config, "Header", {{"code", 2}, {"region", "EU"}, {"qty", 1}});
  upload_all(persistent_scope);
  auto failed = ack_row("Header", {{"code", 1}, {"region", "EU"}}, 1, 0);
  failed.merged_with_eis = "0";
  failed.error_message = "constraint violated";
  auto also_failed = ack_row("Header", {{"code", 2}, {"region", "EU"}}, 2, 0);
  also_failed.error_message = "rejected";
  auto result = apply(persistent_scope, {}, {failed, also_failed}, "dl-1", false, {},
                      upload_error_policy::continue_on_error);
  CAF_CHECK_EQUAL(result.ack_total, 0);
  CAF_REQUIRE_EQUAL(result.failed_rows.size(), 2u);
  const auto first_failure = result.failed_row_info()[0];
  CAF_CHECK_EQUAL(first_failure,
                  json::parse(R"({"key":{"code":1,"region":"EU"},"type":"Header",
                                  "errorMessage":"constraint violated"})"));
  CAF_CHECK_EQUAL(counts(result, "Header")->failed, 2);
  CAF_CHECK_EQUAL(count("select count(*) from Header_history"), 2);
  // Persistent + continueonerror: uploaded again in the next session.
  auto again = syncdb::next_batch(db, config, persistent_scope, 50);
  CAF_CHECK_EQUAL(again.rows.size(), 2u);
  CAF_CHECK_EQUAL(orm::get_pending_upload(db, config, "Header").size(), 2u);
  CAF_CHECK_EQUAL(orm::get_pending_acknowledgement(db, config, "Header").size(), 0u);
}

// Any policy: a row the server did not merge is a pending upload again (it used to stay
// "pending acknowledgement" for good under abortonerror, which no later ack ever clears).
CAF_TEST(failed acks under abortonerror are pending uploads again) {
  orm::create(db, config, "Line", {{"lineId", 1}});
  upload_all(persistent_scope);
  auto failed = ack_row("Line", {{"lineId", 1}}, 1, 0, 0, std::nullopt, "0");
  auto result = apply(persistent_scope, {}, {failed});
  CAF_CHECK_EQUAL(result.failed_rows.size(), 1u);
  CAF_CHECK_EQUAL(syncdb::next_batch(db, config, persistent_scope, 50).rows.size(), 1u);
  CAF_CHECK_EQUAL(orm::get_pending_acknowledgement(db, config, "Line").size(), 0u);
  CAF_CHECK_EQUAL(orm::get_pending_upload(db, config, "Line").size(), 1u);
}

// OTA acks come only with the upload answer: a change the answer does not acknowledge
// (a server that dropped it) is a pending upload again and a failed row, never a change
// that waits for an ack that cannot come, nor a silent success (issue 11).
CAF_TEST(an OTA upload answer that drops a change leaves it a pending upload) {
  orm::create(db, config, "Tag", {{"tagId", "t1"}});
  orm::create(db, config, "Tag", {{"tagId", "t2"}});
  auto window = syncdb::next_batch(db, config, ota_scope, 50);
  CAF_REQUIRE_EQUAL(window.rows.size(), 2u);
  auto acked = ack_row("Tag", {{"tagId", "t1"}}, window.rows[0].replay_sequence, 0, 0, "h1");
  auto result = syncdb::commit_ota_upload(db, config, ota_scope, window.last_sequence, "up-1",
                                          {acked});
  CAF_CHECK_EQUAL(result.ack_total, 1);
  CAF_REQUIRE_EQUAL(result.failed_rows.size(), 1u);
  CAF_CHECK_EQUAL(result.failed_rows[0].object_type, "Tag");
  CAF_CHECK_EQUAL(counts(result, "Tag")->failed, 1);
  auto pending = orm::get_pending_upload(db, config, "Tag");
  CAF_REQUIRE_EQUAL(pending.size(), 1u);
  CAF_CHECK_EQUAL(pending[0]["tagId"], "t2");
  CAF_CHECK_EQUAL(orm::get_pending_acknowledgement(db, config, "Tag").size(), 0u);
  CAF_CHECK_EQUAL(syncdb::next_batch(db, config, ota_scope, 50).rows.size(), 1u);
  CAF_CHECK_EQUAL(syncdb::read_scope_position(db, config, ota_scope).upload_blob, "up-1");
}

CAF_TEST(upload errors are reported as failed rows) {
  std::vector<upload_error_entry> errors(1);
  errors[0].key = "row-7";
  errors[0].object_type = "Header";
  errors[0].primary_keys = columns({{"code", 7}, {"region", "EU"}});
  errors[0].error_message = "bad row";
  auto result = apply(persistent_scope, {}, {}, "dl-1", false, errors);
  const auto failures = result.failed_row_info();
  CAF_CHECK_EQUAL(failures,
                  json::parse(R"([{"key":"row-7","primaryKeys":{"code":7,"region":"EU"},
                                   "type":"Header","errorMessage":"bad row"}])"));
  const auto info = result.object_level_info();
  CAF_CHECK_EQUAL(info["Header"]["rowsfailedtoupload"], json(1));
  CAF_CHECK(syncdb::is_scope_initialized(db, persistent_scope));
}

CAF_TEST(an unknown object type is reported and the rest of the batch lands) {
  auto result = apply(ota_scope,
                      {server_row("Parent", {{"id", 1}}), server_row("Header", {{"code", 1}}),
                       server_row("Nope", {{"x", 1}}), server_row("Parent", {{"id", 2}})},
                      {}, "dl-9", false);
  CAF_CHECK_EQUAL(result.rows_downloaded, 4);
  CAF_CHECK_EQUAL(result.rows_inserted, 2);
  CAF_REQUIRE_EQUAL(result.failed_rows.size(), 2u);
  CAF_CHECK_EQUAL(result.failed_rows[0].object_type, "Header"); // another scope's object
  CAF_CHECK_EQUAL(result.failed_rows[1].object_type, "Nope");
  CAF_CHECK_EQUAL(syncdb::read_scope_position(db, config, ota_scope).download_blob, "dl-9");
  CAF_CHECK(syncdb::is_scope_initialized(db, ota_scope));
}

CAF_TEST(rows without a key or breaking a constraint are reported) {
  auto result = apply(persistent_scope,
                      {server_row("Header", {{"code", 1}, {"region", "EU"}}),      // qty missing
                       server_row("Header", {{"code", 2}, {"qty", 1}}),            // key part missing
                       server_row("Header", {{"code", 3}, {"region", "EU"}, {"qty", 1}})});
  CAF_CHECK_EQUAL(result.rows_inserted, 1);
  CAF_CHECK_EQUAL(result.failed_rows.size(), 2u);
  CAF_CHECK_EQUAL(count("select count(*) from Header"), 1);
}

CAF_TEST(a failing statement aborts the whole batch with its blob) {
  db.exec("create trigger refuse before insert on Parent when new.name = 'boom' "
          "begin select raise(abort, 'refused'); end");
  stored_row("Parent", {{"id", 5}, {"name", "x"}});
  orm::create(db, config, "Tag", {{"tagId", "t"}});
  upload_all(ota_scope);
  const auto before = snapshot();
  auto code = error_of([&] {
    apply(ota_scope,
          {server_row("Parent", {{"id", 1}, {"name", "ok"}}),
           server_row("Parent", {{"id", 5}}, std::nullopt, "delete"),
           server_row("Parent", {{"id", 2}, {"name", "boom"}})},
          {ack_row("Tag", {{"tagId", "t"}}, 1, 0)}, "dl-x", false);
  });
  CAF_CHECK_EQUAL(code, 7019);
  CAF_CHECK_EQUAL(snapshot(), before);
  CAF_CHECK_EQUAL(syncdb::read_scope_position(db, config, ota_scope).download_blob, "");
  CAF_CHECK(!syncdb::is_scope_initialized(db, ota_scope));
}

CAF_TEST(each filter value keeps its own download blob) {
  const auto filter = syncdb::filter_value_text(json::parse(R"([{"Parent":[{"Name":"id"}]}])"));
  apply(ota_scope, {server_row("Parent", {{"id", 1}})}, {}, "dl-f", false, {},
        upload_error_policy::abort_on_error, filter);
  CAF_CHECK_EQUAL(syncdb::read_scope_position(db, config, ota_scope, filter).download_blob,
                  "dl-f");
  CAF_CHECK_EQUAL(syncdb::read_scope_position(db, config, ota_scope).download_blob, "");
  CAF_CHECK(syncdb::is_scope_initialized(db, ota_scope));
}

CAF_TEST(a parsed answer applies the same way) {
  mxsync::transport::download_answer answer;
  answer.server_rows.push_back(server_row("Line", {{"lineId", 4}}, "h"));
  answer.server_blob = "dl-a";
  answer.more_changes_available = false;
  auto result = syncdb::apply_download_answer(db, config, persistent_scope, "no filter", answer);
  CAF_CHECK_EQUAL(result.rows_inserted, 1);
  CAF_CHECK_EQUAL(syncdb::read_scope_position(db, config, persistent_scope).download_blob, "dl-a");
}

CAF_TEST(batch results add up over a session) {
  auto one = apply(ota_scope, {server_row("Parent", {{"id", 1}})});
  auto two = apply(ota_scope, {server_row("Parent", {{"id", 2}}), server_row("Tag", {{"tagId", "t"}})});
  one.merge(two);
  CAF_CHECK_EQUAL(one.rows_inserted, 3);
  CAF_CHECK_EQUAL(one.per_object.size(), 2u);
  CAF_CHECK_EQUAL(counts(one, "Parent")->inserted, 2);
}

CAF_TEST(remove after upload deletes acknowledged clean rows only) {
  orm::create(db, config, "Tag", {{"tagId", "t1"}});
  orm::create(db, config, "Tag", {{"tagId", "t2"}});
  orm::create(db, config, "Parent", {{"name", "p"}}); // -1
  upload_all(ota_scope);
  auto acks = syncdb::apply_upload_acks(
    db, config, ota_scope,
    {ack_row("Tag", {{"tagId", "t1"}}, 1, 0), ack_row("Tag", {{"tagId", "t2"}}, 2, 0),
     with_client_key(ack_row("Parent", {{"id", 7}}, 3, 0), "id", -1)});
  CAF_CHECK_EQUAL(acks.acknowledged.size(), 3u);
  orm::update_by_pk(db, config, "Tag", "t2", {{"text", "changed again"}});
  auto removed = syncdb::remove_after_upload(db, config, ota_scope, {"Tag"}, acks.acknowledged);
  CAF_CHECK_EQUAL(removed, (std::vector<std::pair<std::string, std::int64_t>>{{"Tag", 1}}));
  CAF_CHECK_EQUAL(count("select count(*) from Tag where tagId = 't1'"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Tag where tagId = 't2'"), 1);
  CAF_CHECK_EQUAL(count("select count(*) from Parent"), 1);
  // Nothing is tracked: the removal is local only.
  CAF_CHECK_EQUAL(count("select count(*) from Tag_history where tagId = 't1'"), 0);
  auto all = syncdb::remove_after_upload(db, config, ota_scope, {}, acks.acknowledged);
  CAF_CHECK_EQUAL(all, (std::vector<std::pair<std::string, std::int64_t>>{{"Parent", 1}}));
  CAF_CHECK_EQUAL(count("select count(*) from Parent"), 0);
}

CAF_TEST(unknown scopes are reported) {
  CAF_CHECK_EQUAL(error_of([&] { apply("Nope", {}); }), 7030);
  CAF_CHECK_EQUAL(error_of([&] { syncdb::apply_upload_acks(db, config, "Nope", {}); }), 7030);
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- the real client's recorded sessions (docs/protocol.md 8) replayed through the bookkeeping

namespace {

std::vector<json> recording(const std::string& name) {
  std::ifstream in{std::string{MXSYNC_FIXTURES_DIR} + "/real-client-requests/" + name + ".jsonl"};
  std::vector<json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.push_back(json::parse(line));
  return out;
}

struct replay_fixture {
  mxsync::sync_config config =
    mxsync::sync_config::load_file(std::string{MXSYNC_FIXTURES_DIR} + "/workorder-sync-config.json");
  mxsync::db::connection db{":memory:"};
  std::string scope = "FSPersistentScope";

  replay_fixture() { mxsync::schema::initialize(db, config); }

  /// The local changes a recorded upload carries, made through the ORM.
  void make_local_changes(const json& upload_request) {
    for (const auto& row : upload_request["d"]["results"]) {
      const auto type = row["metadata"]["type"].get<std::string>();
      const auto change = row["metadata"]["changetype"].get<std::string>();
      json values = json::object();
      for (const auto& [name, value] : row.items())
        if (name != "metadata" && !name.starts_with("konysync") && value != "null"
            && value != "NULL")
          values[name] = value;
      const auto* table = config.find_table(type).second;
      json key = json::object();
      for (const auto& pk : table->primary_key)
        key[pk] = values[pk];
      if (change == "insert") {
        orm::create(db, config, type, values);
      } else if (change == "update") {
        for (const auto& pk : table->primary_key)
          values.erase(pk);
        orm::update_by_pk(db, config, type, key, values);
      } else {
        orm::delete_by_pk(db, config, type, key);
      }
    }
  }

  /// The UploadRequest the bookkeeping gives for the next window, as JSON.
  json upload_request(const std::string& client_id, const std::string& null_spelling,
                      syncdb::upload_window& window) {
    window = syncdb::next_batch(db, config, scope, 50);
    mxsync::transport::upload_request request;
    request.scope.scope_name = scope;
    request.scope.client_id = client_id;
    request.scope_database_name = config.find_scope(scope)->database_name;
    request.server_blob = syncdb::read_scope_position(db, config, scope).upload_blob;
    request.sequence_number = window.upload_sequence;
    request.more_changes_available = window.more_pending;
    request.rows = window.rows;
    request.null_spelling = null_spelling;
    return json::parse(mxsync::transport::upload_request_json(request));
  }

  std::int64_t count(const std::string& sql) { return db.query_int(sql).value_or(-999); }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(recorded_session_tests, replay_fixture)

CAF_TEST(the recorded persistent acknowledgement sessions replay) {
  auto records = recording("sc13-ack");
  CAF_REQUIRE_EQUAL(records.size(), 5u);
  // Session 1: three work orders and a part created, uploaded, acknowledged in the
  // download that follows (with two server rows).
  const auto& first_upload = records[1]["decoded"]["UploadRequest"];
  make_local_changes(first_upload);
  syncdb::upload_window window;
  auto built = upload_request(first_upload["d"]["clientid"].get<std::string>(), "null", window);
  CAF_CHECK_EQUAL(built, first_upload);
  auto upload_answer = mxsync::transport::parse_upload_answer(records[1]["response"].dump());
  CAF_REQUIRE(upload_answer);
  syncdb::commit_uploaded_batch(db, config, scope, window.last_sequence,
                                upload_answer->server_blob);
  CAF_CHECK(!syncdb::is_scope_initialized(db, scope)); // InitialSync "true" was sent
  auto download = mxsync::transport::download_answer_from_json(records[2]["response"]);
  CAF_REQUIRE(download);
  auto result = syncdb::apply_download_answer(db, config, scope, "no filter", download.value());
  CAF_CHECK_EQUAL(result.ack_total, 4);
  // Four insert acks of keys the app gave (no konysyncClient<pk>): update acks, per
  // object too (WorkOrder 3, Part 1), as the real client counts them.
  CAF_CHECK_EQUAL(result.ack_inserted, 0);
  CAF_CHECK_EQUAL(result.ack_updated, 4);
  CAF_REQUIRE_EQUAL(result.per_object.size(), 2u);
  for (const auto& [name, counts] : result.per_object) {
    CAF_CHECK(name == "WorkOrder" || name == "Part");
    const std::int64_t acked = name == "Part" ? 1 : 3;
    CAF_CHECK_EQUAL(counts.ack_updated, acked);
    CAF_CHECK_EQUAL(counts.ack_inserted, 0);
    CAF_CHECK_EQUAL(counts.acknowledged, acked);
  }
  CAF_CHECK_EQUAL(result.rows_inserted, 2);
  CAF_CHECK_EQUAL(result.rows_downloaded, result.rows_inserted + result.rows_updated
                                            + result.rows_deleted + result.rows_skipped);
  CAF_CHECK(result.failed_rows.empty());
  CAF_CHECK(syncdb::is_scope_initialized(db, scope)); // "{}" in the next session
  CAF_CHECK_EQUAL(count("select count(*) from WorkOrder where konysyncchangetype = -1"), 3);
  CAF_CHECK_EQUAL(count("select count(*) from WorkOrder where konysyncchangetype is null"), 2);
  CAF_CHECK_EQUAL(count("select count(*) from WorkOrder_history"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Part_history"), 0);
  CAF_CHECK_EQUAL(syncdb::read_scope_position(db, config, scope).download_blob, "dl-1");
  // Session 2: an update and a delete, sent with the hashsums the acks stored.
  const auto& second_upload = records[3]["decoded"]["UploadRequest"];
  make_local_changes(second_upload);
  built = upload_request(second_upload["d"]["clientid"].get<std::string>(), "NULL", window);
  CAF_CHECK_EQUAL(built, second_upload);
  upload_answer = mxsync::transport::parse_upload_answer(records[3]["response"].dump());
  CAF_REQUIRE(upload_answer);
  syncdb::commit_uploaded_batch(db, config, scope, window.last_sequence,
                                upload_answer->server_blob);
  download = mxsync::transport::download_answer_from_json(records[4]["response"]);
  CAF_REQUIRE(download);
  result = syncdb::apply_download_answer(db, config, scope, "no filter", download.value());
  CAF_CHECK_EQUAL(result.ack_total, 2);
  CAF_CHECK_EQUAL(result.ack_updated, 1);
  CAF_CHECK_EQUAL(result.ack_deleted, 1);
  // Two objects acknowledged in one batch: each has its own kind.
  for (const auto& [name, counts] : result.per_object) {
    CAF_CHECK_EQUAL(counts.ack_updated, name == "WorkOrder" ? 1 : 0);
    CAF_CHECK_EQUAL(counts.ack_deleted, name == "Part" ? 1 : 0);
  }
  auto pending = mxsync::pending::get_pending_upload(db, config);
  auto unacknowledged = mxsync::pending::get_pending_acknowledgement(db, config);
  CAF_CHECK_EQUAL(pending["totalCount"], json(0));
  CAF_CHECK_EQUAL(unacknowledged["totalCount"], json(0));
  CAF_CHECK_EQUAL(count("select count(*) from Part"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from WorkOrder where orderId = 'CLI-2' and "
                        "status = 'Closed' and konysyncchangetype = -1"),
                  1);
}

CAF_TEST(the recorded OTA session is acknowledged by its upload answer) {
  auto records = recording("sc13-ota-ack");
  CAF_REQUIRE_EQUAL(records.size(), 3u);
  const auto& upload = records[1]["decoded"]["UploadRequest"];
  make_local_changes(upload);
  syncdb::upload_window window;
  auto built = upload_request(upload["d"]["clientid"].get<std::string>(), "null", window);
  CAF_CHECK_EQUAL(built, upload);
  auto answer = mxsync::transport::parse_upload_answer(records[1]["response"].dump());
  CAF_REQUIRE(answer);
  {
    // Commit and acks together, as the uploader does for OTA answers.
    mxsync::db::transaction tx{db};
    syncdb::commit_uploaded_batch(db, config, scope, window.last_sequence,
                                  answer.value().server_blob);
    auto acks = syncdb::apply_upload_answer(db, config, scope, answer.value());
    CAF_CHECK_EQUAL(acks.ack_total, 3);
    tx.commit();
  }
  CAF_CHECK_EQUAL(count("select count(*) from WorkOrder where konysyncchangetype = -1 and "
                        "konysynchashsum like 'acked-%'"),
                  3);
  CAF_CHECK_EQUAL(count("select count(*) from WorkOrder_history"), 0);
  auto download = mxsync::transport::download_answer_from_json(records[2]["response"]);
  CAF_REQUIRE(download);
  auto result = syncdb::apply_download_answer(db, config, scope, "no filter", download.value());
  CAF_CHECK_EQUAL(result.rows_inserted, 2);
  CAF_CHECK_EQUAL(syncdb::read_scope_position(db, config, scope).upload_blob, "up-0-3");
}

CAF_TEST(the recorded download batches move the blob and the initialized flag) {
  auto records = recording("sc13-download-batches");
  std::size_t downloads = 0;
  for (const auto& record : records) {
    if (record["path"] != "/syncservice/resources/download")
      continue;
    ++downloads;
    // What the client sent follows from the bookkeeping before the batch.
    const auto position = syncdb::read_scope_position(db, config, scope);
    CAF_CHECK_EQUAL(position.download_blob, record["params"]["tickcount"].get<std::string>());
    const bool initial = record["decoded"]["clientcontext"].contains("InitialSync");
    CAF_CHECK_EQUAL(syncdb::is_scope_initialized(db, scope), !initial);
    auto answer = mxsync::transport::download_answer_from_json(record["response"]);
    CAF_REQUIRE(answer);
    syncdb::apply_download_answer(db, config, scope, "no filter", answer.value());
  }
  CAF_CHECK_EQUAL(downloads, 3u);
  CAF_CHECK_EQUAL(count("select count(*) from WorkOrder"), 6);
}

CAF_TEST_FIXTURE_SCOPE_END()
