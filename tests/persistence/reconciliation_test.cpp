#define CAF_SUITE reconciliation
#include <caf/test/unit_test.hpp>

#include "persistence/reconciliation.hpp"
#include "sync_test_fixture.hpp"

using namespace sync_test;
namespace reconcile = mxsync::syncdb::reconcile;
namespace orm = mxsync::orm;

namespace {

/// An order with cascading lines, a note that does not cascade, and a composite key.
const char* cascade_config_text() {
  return R"({
  "AppID": "reconcile", "Version": "1.0",
  "ArrayOfSyncScope": [
   {"ScopeName": "Orders", "ScopeDatabaseName": "orders", "Strategy": "PERSISTENT_SYNC",
    "ScopeTables": [
     {"Name": "OrderHead", "Pk_Columns": ["orderId"], "Columns": [
       {"Name": "orderId", "type": "string"},
       {"Name": "title", "type": "string"}],
      "Relationships": {"OneToMany": [
       {"TargetObject": "OrderLine", "SourceObject_Attribute": "orderId",
        "TargetObject_Attribute": "orderId", "Cascade": "true"},
       {"TargetObject": "OrderNote", "SourceObject_Attribute": "orderId",
        "TargetObject_Attribute": "orderId", "Cascade": "false"}]}},
     {"Name": "OrderLine", "Pk_Columns": ["lineNo", "orderId"], "Columns": [
       {"Name": "lineNo", "type": "int"},
       {"Name": "orderId", "type": "string"},
       {"Name": "qty", "type": "int"}]},
     {"Name": "OrderNote", "Pk_Columns": ["noteId"], "Columns": [
       {"Name": "noteId", "type": "int"},
       {"Name": "orderId", "type": "string"},
       {"Name": "text", "type": "string"}]}]},
   {"ScopeName": "Other", "ScopeDatabaseName": "other", "Strategy": "OTA_SYNC",
    "ScopeTables": [
     {"Name": "Thing", "Pk_Columns": ["id"], "Columns": [
       {"Name": "id", "type": "int"}, {"Name": "name", "type": "string"}]}]}
  ]})";
}

struct reconcile_fixture {
  mxsync::sync_config config = mxsync::sync_config::parse_text(cascade_config_text());
  mxsync::db::connection db{":memory:"};

  reconcile_fixture() { mxsync::schema::initialize(db, config); }

  std::int64_t count(const std::string& sql) { return db.query_int(sql).value_or(-999); }

  void stored(const std::string& table, const json& values) {
    std::string cols, marks;
    std::vector<json> params;
    for (const auto& [k, v] : values.items()) {
      cols += (cols.empty() ? "" : ",") + mxsync::db::quote_identifier(k);
      marks += marks.empty() ? "?" : ",?";
      params.push_back(v);
    }
    db.query("insert into " + table + " (" + cols + ") values (" + marks + ")", params);
  }

  static sync_row key_row(const std::string& type, const json& key) {
    return server_row(type, key, std::nullopt, "");
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(reconciliation_tests, reconcile_fixture)

CAF_TEST(keys are stored per object and counted once) {
  reconcile::begin(db, config, {"OrderHead", "OrderLine"});
  auto batch = reconcile::store_server_keys(
    db, config, {"OrderHead", "OrderLine"},
    {key_row("OrderHead", {{"orderId", "A"}}), key_row("OrderHead", {{"ORDERID", "B"}}),
     key_row("OrderLine", {{"lineNo", 1}, {"orderId", "A"}}),
     key_row("OrderNote", {{"noteId", 1}}), key_row("OrderHead", {{"title", "no key"}}),
     key_row("Nowhere", {{"id", 1}})});
  CAF_CHECK_EQUAL(batch.keys_downloaded, 3);
  CAF_CHECK_EQUAL(batch.rows_ignored, 3);
  CAF_REQUIRE_EQUAL(batch.per_object.size(), 2u);
  CAF_CHECK_EQUAL(batch.per_object[0].first, "OrderHead");
  CAF_CHECK_EQUAL(batch.per_object[0].second, 2);
  CAF_CHECK_EQUAL(count("select count(*) from temp.OrderHead_tempReconciliation"), 2);
  // An overlapping page repeats a key: stored once.
  reconcile::store_server_keys(db, config, {"OrderHead"}, {key_row("OrderHead", {{"orderId", "A"}})});
  CAF_CHECK_EQUAL(count("select count(*) from temp.OrderHead_tempReconciliation"), 2);
  // A new run starts empty.
  reconcile::begin(db, config, {"OrderHead"});
  CAF_CHECK_EQUAL(count("select count(*) from temp.OrderHead_tempReconciliation"), 0);
  reconcile::end(db, config, {"OrderHead", "OrderLine"});
  CAF_CHECK(!db.query_int("select 1 from sqlite_temp_master where name like '%tempReconciliation'"));
}

CAF_TEST(rows the server lacks are removed with their cascading children) {
  stored("OrderHead", {{"orderId", "A"}, {"title", "kept"}});
  stored("OrderHead", {{"orderId", "B"}, {"title", "gone"}});
  stored("OrderLine", {{"lineNo", 1}, {"orderId", "B"}, {"qty", 3}});
  stored("OrderLine", {{"lineNo", 2}, {"orderId", "B"}, {"qty", 4}});
  stored("OrderLine", {{"lineNo", 1}, {"orderId", "A"}, {"qty", 5}});
  stored("OrderNote", {{"noteId", 9}, {"orderId", "B"}, {"text", "stays"}});
  reconcile::begin(db, config, {"OrderHead"});
  reconcile::store_server_keys(db, config, {"OrderHead"}, {key_row("OrderHead", {{"orderId", "A"}})});
  auto removed = reconcile::delete_rows_missing_on_server(db, config, "OrderHead");
  CAF_CHECK_EQUAL(removed, 1);
  CAF_CHECK_EQUAL(count("select count(*) from OrderHead"), 1);
  CAF_CHECK_EQUAL(count("select count(*) from OrderLine where orderId = 'B'"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from OrderLine where orderId = 'A'"), 1);
  CAF_CHECK_EQUAL(count("select count(*) from OrderNote"), 1);
  // Nothing is tracked: the server never had these rows.
  CAF_CHECK_EQUAL(count("select count(*) from OrderHead_history"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from OrderLine_history"), 0);
}

CAF_TEST(composite keys compare by every column) {
  stored("OrderLine", {{"lineNo", 1}, {"orderId", "A"}, {"qty", 1}});
  stored("OrderLine", {{"lineNo", 2}, {"orderId", "A"}, {"qty", 2}});
  reconcile::begin(db, config, {"OrderLine"});
  reconcile::store_server_keys(db, config, {"OrderLine"},
                               {key_row("OrderLine", {{"lineNo", 1}, {"orderId", "A"}}),
                                key_row("OrderLine", {{"lineNo", 2}, {"orderId", "B"}})});
  CAF_CHECK_EQUAL(reconcile::delete_rows_missing_on_server(db, config, "OrderLine"), 1);
  auto page = reconcile::next_missing_keys(db, config, "OrderLine", 0, 10);
  CAF_REQUIRE_EQUAL(page.keys.size(), 1u);
  auto order = std::get<std::string>(page.keys[0][1].second);
  CAF_CHECK_EQUAL(order, "B");
}

CAF_TEST(missing keys come in pages by position) {
  stored("OrderHead", {{"orderId", "K2"}});
  reconcile::begin(db, config, {"OrderHead"});
  std::vector<sync_row> keys;
  for (int i = 1; i <= 5; ++i)
    keys.push_back(key_row("OrderHead", {{"orderId", "K" + std::to_string(i)}}));
  reconcile::store_server_keys(db, config, {"OrderHead"}, keys);
  auto first = reconcile::next_missing_keys(db, config, "OrderHead", 0, 2);
  CAF_REQUIRE_EQUAL(first.keys.size(), 2u);
  auto k1 = std::get<std::string>(first.keys[0][0].second);
  auto k3 = std::get<std::string>(first.keys[1][0].second);
  CAF_CHECK_EQUAL(k1, "K1");
  CAF_CHECK_EQUAL(k3, "K3");
  // Keys bulkGet did not bring are not listed again: the next page starts after them.
  auto second = reconcile::next_missing_keys(db, config, "OrderHead", first.next_position, 2);
  CAF_REQUIRE_EQUAL(second.keys.size(), 2u);
  auto third = reconcile::next_missing_keys(db, config, "OrderHead", second.next_position, 2);
  CAF_CHECK(third.keys.empty());
}

CAF_TEST(bulk get rows are inserted clean with their hashsum) {
  stored("OrderHead", {{"orderId", "A"}, {"title", "local"}});
  auto batch = reconcile::insert_server_rows(
    db, config, "Orders",
    {server_row("OrderHead", {{"orderId", "A"}, {"title", "server"}}, std::nullopt, ""),
     server_row("OrderHead", {{"orderId", "B"}, {"title", "new"}, {"unknownColumn", 1}}, "h-b", ""),
     server_row("OrderLine", {{"lineNo", 1}, {"orderId", "B"}, {"qty", 2}}, std::nullopt, ""),
     server_row("Thing", {{"id", 1}}, std::nullopt, "")});
  CAF_CHECK_EQUAL(batch.rows_downloaded, 4);
  CAF_CHECK_EQUAL(batch.rows_inserted, 2);
  CAF_REQUIRE_EQUAL(batch.inserted_per_object.size(), 2u);
  CAF_CHECK_EQUAL(batch.inserted_per_object[1].first, "OrderLine");
  auto title = db.query("select title from OrderHead where orderId = 'A'")[0]["title"];
  CAF_CHECK_EQUAL(title, "local");
  auto row = db.query("select * from OrderHead where orderId = 'B'");
  CAF_REQUIRE_EQUAL(row.size(), 1u);
  auto hash = row[0]["konysynchashsum"];
  auto change = row[0]["konysyncchangetype"];
  CAF_CHECK_EQUAL(hash, "h-b");
  CAF_CHECK(change.is_null());
  CAF_CHECK_EQUAL(count("select count(*) from OrderHead_history"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from Thing"), 0);
}

CAF_TEST(pending local changes mark the scope) {
  CAF_CHECK(!reconcile::scope_has_pending_changes(db, config, "Orders"));
  orm::create(db, config, "OrderNote", {{"noteId", 1}, {"orderId", nullptr}, {"text", "local"}});
  CAF_CHECK(reconcile::scope_has_pending_changes(db, config, "Orders"));
  CAF_CHECK(!reconcile::scope_has_pending_changes(db, config, "Other"));
  CAF_CHECK_EQUAL(error_of([&] { reconcile::scope_has_pending_changes(db, config, "Nope"); }), 7030);
  CAF_CHECK_EQUAL(error_of([&] { reconcile::begin(db, config, {"Nope"}); }), 7031);
}

CAF_TEST_FIXTURE_SCOPE_END()
