#define CAF_SUITE upload_batch
#include <caf/test/unit_test.hpp>

#include "persistence/sync_state.hpp"
#include "persistence/upload_batch.hpp"
#include "sync_test_fixture.hpp"

using namespace sync_test;
namespace syncdb = mxsync::syncdb;
namespace orm = mxsync::orm;
using mxsync::transport::change_kind;
using mxsync::transport::upload_row;

namespace {

/// "Parent:2 Tag:1" - object and replay sequence of each row, in order.
std::string shape(const syncdb::upload_window& window) {
  std::string out;
  for (const auto& row : window.rows)
    out += (out.empty() ? "" : " ") + row.object_type + ":" + std::to_string(row.replay_sequence);
  return out;
}

const column_value* column(const upload_row& row, const std::string& name) {
  for (const auto& [key, value] : row.columns)
    if (key == name)
      return &value;
  return nullptr;
}

/// Keys of an ORM pending query result, as "k1,k2".
std::string keys(const json& rows, const std::string& key) {
  std::string out;
  for (const auto& row : rows)
    out += (out.empty() ? "" : ",") + (row[key].is_string() ? row[key].get<std::string>()
                                                            : row[key].dump());
  return out;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(upload_batch_tests, fixture)

CAF_TEST(nothing pending gives an empty window) {
  auto window = syncdb::next_batch(db, config, ota_scope, 50);
  CAF_CHECK(window.empty());
  CAF_CHECK(!window.more_pending);
  CAF_CHECK_EQUAL(window.last_sequence, 0);
}

// A pending change whose text is not UTF-8 (written by another SQLite client, or before
// the ORM refused such text) cannot be encoded as JSON: 7001 naming it, not an exception
// that kills the uploader actor; the change stays pending (issue 11).
CAF_TEST(a pending change with text that is not utf8 is 7001 and stays pending) {
  orm::create(db, config, "Tag", {{"tagId", "t1"}});
  db.exec("update Tag_history set tagId = cast(x'74ff' as text)");
  db.exec("update Tag set tagId = cast(x'74ff' as text)");
  mxsync::sync_error error;
  try {
    syncdb::next_batch(db, config, ota_scope, 50);
  } catch (const mxsync::sync_exception& e) {
    error = e.error();
  }
  CAF_CHECK_EQUAL(error.code, 7001);
  CAF_CHECK_EQUAL(error.info["table"], "Tag");
  CAF_CHECK_EQUAL(error.info["column"], "tagId");
  CAF_CHECK_EQUAL(error.info["reason"], "not valid UTF-8");
  CAF_CHECK(error.to_json().dump().size() > 0); // printable
  // Nothing moved, and the statement was reset: the database is usable as before.
  CAF_CHECK_EQUAL(count("select count(*) from Tag_history"), 1);
  db.exec("update Tag_history set tagId = 't1'");
  CAF_CHECK_EQUAL(syncdb::next_batch(db, config, ota_scope, 50).rows.size(), 1u);
}

CAF_TEST(windows span tables and group rows per table) {
  orm::create(db, config, "Tag", {{"tagId", "t1"}});                       // seq 1
  auto parent = orm::create(db, config, "Parent", {{"name", "p"}});         // seq 2
  orm::create(db, config, "Tag", {{"tagId", "t2"}});                       // seq 3
  orm::create(db, config, "Child", {{"childId", "c1"}, {"parentId", -1}}); // seq 4
  orm::update_by_pk(db, config, "Parent", -1, {{"name", "p2"}});            // seq 5
  orm::create(db, config, "Tag", {{"tagId", "t3"}}, false);                // seq 6, deferred
  CAF_CHECK_EQUAL(parent, json({{"id", -1}}));

  auto first = syncdb::next_batch(db, config, ota_scope, 2);
  CAF_CHECK_EQUAL(shape(first), "Parent:2 Tag:1"); // ScopeTables order, not sequence order
  CAF_CHECK_EQUAL(first.first_sequence, 1);
  CAF_CHECK_EQUAL(first.last_sequence, 2);
  CAF_CHECK_EQUAL(first.upload_sequence, 0);
  CAF_CHECK(first.more_pending);
  CAF_CHECK_EQUAL(first.totals.inserted, 2);
  CAF_REQUIRE_EQUAL(first.per_object.size(), 2u);
  CAF_CHECK_EQUAL(first.per_object[0].first, "Parent");
  CAF_CHECK_EQUAL(first.per_object[0].second, (syncdb::change_counts{1, 0, 0}));
  CAF_CHECK_EQUAL(first.per_object[1].first, "Tag");

  CAF_CHECK_EQUAL(syncdb::commit_uploaded_batch(db, config, ota_scope, 2, "up-1"), 1);
  // Rows after the window moved to the next upload sequence; the uploaded ones wait
  // for their acknowledgement.
  auto tag_ack = orm::get_pending_acknowledgement(db, config, "Tag");
  auto tag_upload = orm::get_pending_upload(db, config, "Tag");
  auto parent_upload = orm::get_pending_upload(db, config, "Parent");
  auto child_upload = orm::get_pending_upload(db, config, "Child");
  // They wait with the old upload sequence number; an OTA scope never reports them as
  // pending acknowledgement, since its acks land with the commit (commit_ota_upload).
  CAF_CHECK(tag_ack.empty());
  CAF_CHECK_EQUAL(count("select count(*) from Tag_history where konysyncversionnumber = 0"), 1);
  CAF_CHECK_EQUAL(keys(tag_upload, "tagId"), "t2");
  CAF_CHECK_EQUAL(keys(parent_upload, "id"), "-1"); // its update is still to go
  CAF_CHECK_EQUAL(keys(child_upload, "childId"), "c1");
  auto deferred = orm::get_deferred_upload(db, config, "Tag");
  CAF_CHECK_EQUAL(keys(deferred, "tagId"), "t3");

  auto second = syncdb::next_batch(db, config, ota_scope, 2);
  CAF_CHECK_EQUAL(shape(second), "Child:4 Tag:3");
  CAF_CHECK_EQUAL(second.upload_sequence, 1);
  CAF_CHECK(second.more_pending);
  CAF_CHECK_EQUAL(syncdb::commit_uploaded_batch(db, config, ota_scope, second.last_sequence,
                                                "up-2"),
                  2);

  auto third = syncdb::next_batch(db, config, ota_scope, 2);
  CAF_CHECK_EQUAL(shape(third), "Parent:5");
  CAF_CHECK(!third.more_pending);
  CAF_CHECK_EQUAL(third.totals.updated, 1);
  syncdb::commit_uploaded_batch(db, config, ota_scope, third.last_sequence, "up-3");

  CAF_CHECK(syncdb::next_batch(db, config, ota_scope, 2).empty());
  auto parent_ack = orm::get_pending_acknowledgement(db, config, "Parent");
  CAF_CHECK(parent_ack.empty());
  CAF_CHECK_EQUAL(count("select count(*) from Parent where konysyncversionnumber = 2"), 1);
  CAF_CHECK_EQUAL(orm::get_pending_upload(db, config, "Parent").size(), 0u);
  auto position = syncdb::read_scope_position(db, config, ota_scope);
  CAF_CHECK_EQUAL(position.upload_sequence, 3);
  CAF_CHECK_EQUAL(position.upload_blob, "up-3");
}

CAF_TEST(a deferred change joins the window once marked for upload) {
  orm::create(db, config, "Tag", {{"tagId", "t1"}}, false);
  CAF_CHECK(syncdb::next_batch(db, config, ota_scope, 10).empty());
  orm::mark_for_upload_by_pk(db, config, "Tag", "t1");
  auto window = syncdb::next_batch(db, config, ota_scope, 10);
  CAF_CHECK_EQUAL(shape(window), "Tag:1");
  CAF_CHECK_EQUAL(window.rows[0].change_type, 0);
}

CAF_TEST(the window widens to batch size across tables) {
  for (int i = 1; i <= 3; ++i)
    orm::create(db, config, "Parent", {{"name", "p" + std::to_string(i)}}); // seq 1..3
  orm::create(db, config, "Tag", {{"tagId", "t"}});                          // seq 4
  orm::create(db, config, "Parent", {{"name", "p4"}});                        // seq 5
  auto window = syncdb::next_batch(db, config, ota_scope, 4);
  CAF_CHECK_EQUAL(shape(window), "Parent:1 Parent:2 Parent:3 Tag:4");
  CAF_CHECK_EQUAL(window.last_sequence, 4);
  CAF_CHECK(window.more_pending);
  auto all = syncdb::next_batch(db, config, ota_scope, 0); // 0 = no limit
  CAF_CHECK_EQUAL(all.rows.size(), 5u);
  CAF_CHECK(!all.more_pending);
  auto big = syncdb::next_batch(db, config, ota_scope, 50);
  CAF_CHECK_EQUAL(big.last_sequence, 5);
  CAF_CHECK(!big.more_pending);
  auto after = syncdb::next_batch(db, config, ota_scope, 2, 3);
  CAF_CHECK_EQUAL(shape(after), "Parent:5 Tag:4");
}

CAF_TEST(rows carry every column with nulls change kinds and hashsums) {
  stored_row("Parent", {{"id", 10}, {"name", "server"}}, "h-10");
  stored_row("Tag", {{"tagId", "t9"}, {"parentRef", 10}, {"text", "x"}}, "h-t9");
  orm::update_by_pk(db, config, "Parent", 10, {{"name", "local"}});
  orm::delete_by_pk(db, config, "Tag", "t9");
  orm::create(db, config, "Tag", {{"tagId", "t1"}});
  auto window = syncdb::next_batch(db, config, ota_scope, 10);
  CAF_REQUIRE_EQUAL(window.rows.size(), 3u);
  const auto& update = window.rows[0];
  CAF_CHECK_EQUAL(update.object_type, "Parent");
  CAF_CHECK(update.change == change_kind::update);
  CAF_CHECK_EQUAL(update.change_type, 1);
  CAF_CHECK_EQUAL(update.version_number, 0);
  CAF_CHECK_EQUAL(update.replay_sequence, 1);
  CAF_CHECK_EQUAL(update.hashsum.value_or(""), "h-10");
  CAF_REQUIRE_EQUAL(update.columns.size(), 2u);
  CAF_CHECK_EQUAL(update.columns[0].first, "id");
  CAF_CHECK(update.columns[0].second == column_value{std::int64_t{10}});
  CAF_CHECK(update.columns[1].second == column_value{std::string{"local"}});
  const auto& removed = window.rows[1];
  CAF_CHECK(removed.change == change_kind::remove);
  CAF_CHECK_EQUAL(removed.change_type, 2);
  CAF_CHECK_EQUAL(removed.hashsum.value_or(""), "h-t9");
  CAF_CHECK(*column(removed, "text") == column_value{std::string{"x"}});
  const auto& created = window.rows[2];
  CAF_CHECK(created.change == change_kind::insert);
  CAF_CHECK(!created.hashsum);
  CAF_REQUIRE(column(created, "parentRef") != nullptr);
  CAF_CHECK(std::holds_alternative<std::monostate>(*column(created, "parentRef")));
  CAF_CHECK_EQUAL(window.totals, (syncdb::change_counts{1, 1, 1}));
  CAF_REQUIRE_EQUAL(window.per_object.size(), 2u);
  CAF_CHECK_EQUAL(window.per_object[1].second, (syncdb::change_counts{1, 0, 1}));
}

CAF_TEST(intermediate updates are separate rows) {
  orm::create(db, config, "Line", {{"lineId", 1}, {"note", "a"}});
  orm::update_by_pk(db, config, "Line", 1, {{"note", "b"}});
  orm::update_by_pk(db, config, "Line", 1, {{"note", "c"}});
  auto window = syncdb::next_batch(db, config, persistent_scope, 50);
  CAF_REQUIRE_EQUAL(window.rows.size(), 3u);
  CAF_CHECK_EQUAL(window.rows[0].change_type, 0);
  CAF_CHECK_EQUAL(window.rows[2].change_type, 1);
  CAF_CHECK(*column(window.rows[2], "note") == column_value{std::string{"c"}});
  // Scopes do not mix.
  CAF_CHECK(syncdb::next_batch(db, config, ota_scope, 50).empty());
}

CAF_TEST(the cached request round trips and commit clears it) {
  CAF_CHECK(!syncdb::get_cached_request(db, config, persistent_scope));
  syncdb::cached_upload_request request;
  request.upload_request = R"({"d":{"results":[],"SequenceNumber":0}})";
  request.object_level_info = R"({"Line":{"rowsuploaded":1}})";
  request.session_counts = {3, 2, 1};
  request.batch_counts = {1, 0, 0};
  request.upload_limit = 7;
  syncdb::put_cached_request(db, config, persistent_scope, request);
  auto cached = syncdb::get_cached_request(db, config, persistent_scope);
  CAF_REQUIRE(cached);
  CAF_CHECK_EQUAL(*cached, request);
  CAF_CHECK(!syncdb::get_cached_request(db, config, ota_scope));
  request.upload_limit = 9;
  syncdb::put_cached_request(db, config, persistent_scope, request);
  const auto replaced = syncdb::get_cached_request(db, config, persistent_scope);
  CAF_REQUIRE(replaced);
  CAF_CHECK_EQUAL(replaced->upload_limit, 9);
  CAF_CHECK_EQUAL(count("select count(*) from konysyncPENDINGUPLOADREQUESTINFO"), 1);
  syncdb::clear_cached_request(db, config, persistent_scope);
  CAF_CHECK(!syncdb::get_cached_request(db, config, persistent_scope));
  syncdb::put_cached_request(db, config, persistent_scope, request);
  syncdb::commit_uploaded_batch(db, config, persistent_scope, 9, "blob");
  CAF_CHECK(!syncdb::get_cached_request(db, config, persistent_scope));
}

CAF_TEST(a cached request is resent unchanged after a crash) {
  orm::create(db, config, "Line", {{"lineId", 1}}); // seq 1
  orm::create(db, config, "Line", {{"lineId", 2}}); // seq 2
  auto window = syncdb::next_batch(db, config, persistent_scope, 50);
  syncdb::cached_upload_request request;
  request.upload_request = "{\"d\":{\"SequenceNumber\":0}}";
  request.batch_counts = window.totals;
  request.upload_limit = window.last_sequence;
  syncdb::put_cached_request(db, config, persistent_scope, request);
  // ...the process dies before the answer; the app writes again after the restart.
  orm::create(db, config, "Line", {{"lineId", 3}}); // seq 3
  auto cached = syncdb::get_cached_request(db, config, persistent_scope);
  CAF_REQUIRE(cached);
  CAF_CHECK_EQUAL(cached->upload_request, request.upload_request);
  CAF_CHECK_EQUAL(cached->upload_limit, 2);
  syncdb::commit_uploaded_batch(db, config, persistent_scope, cached->upload_limit, "b");
  auto next = syncdb::next_batch(db, config, persistent_scope, 50);
  CAF_CHECK_EQUAL(shape(next), "Line:3");
  CAF_CHECK_EQUAL(next.upload_sequence, 1);
}

CAF_TEST(commit is one transaction with the caller) {
  orm::create(db, config, "Line", {{"lineId", 1}});
  const auto before = snapshot();
  {
    mxsync::db::transaction tx{db};
    syncdb::commit_uploaded_batch(db, config, persistent_scope, 0, "blob");
  }
  CAF_CHECK_EQUAL(snapshot(), before);
}

CAF_TEST(commit moves the main rows of later changes only) {
  orm::create(db, config, "Header", {{"code", 1}, {"region", "EU"}, {"qty", 1}}); // seq 1
  orm::create(db, config, "Header", {{"code", 2}, {"region", "EU"}, {"qty", 1}}); // seq 2
  orm::create(db, config, "Line", {{"lineId", 1}});                               // seq 3
  syncdb::commit_uploaded_batch(db, config, persistent_scope, 2, "b");
  auto versions = rows("select code, konysyncversionnumber as v from Header order by code");
  CAF_CHECK_EQUAL(versions, json::parse(R"([{"code":1,"v":0},{"code":2,"v":0}])"));
  CAF_CHECK_EQUAL(value("select konysyncversionnumber from Line"), json(1));
  CAF_CHECK_EQUAL(value("select konysyncversionnumber from Line_history"), json(1));
  auto pending = orm::get_pending_acknowledgement(db, config, "Header");
  CAF_CHECK_EQUAL(pending.size(), 2u);
}

CAF_TEST(unknown scopes are reported) {
  CAF_CHECK_EQUAL(error_of([&] { syncdb::next_batch(db, config, "Nope", 1); }), 7030);
  CAF_CHECK_EQUAL(error_of([&] { syncdb::get_cached_request(db, config, "Nope"); }), 7030);
  CAF_CHECK_EQUAL(error_of([&] { syncdb::commit_uploaded_batch(db, config, "Nope", 1, ""); }),
                  7030);
}

CAF_TEST_FIXTURE_SCOPE_END()
