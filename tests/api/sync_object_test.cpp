#define CAF_SUITE sync_object
#include <caf/test/unit_test.hpp>

#include "mxsync/sync_object.hpp"

#include <deque>
#include <future>

using namespace mxsync;
using json = nlohmann::json;

namespace {

client_options fixture_options() {
  client_options options;
  options.database_path = ":memory:";
  options.config_path = MXSYNC_FIXTURES_DIR "/workorder-sync-config.json";
  return options;
}

json order(const std::string& id, const std::string& status = "New") {
  return {{"orderId", id}, {"customerId", "C-" + id}, {"status", status}};
}

struct fixture {
  std::deque<json> kept;

  /// The value of a successful call, kept alive for the whole test: CAF_CHECK_EQUAL
  /// binds references, so `value(x)["key"]` must not point into a temporary.
  const json& value(const result& r) {
    if (!r.ok())
      CAF_FAIL("call failed: " << r.error().code << " " << r.error().message);
    return kept.emplace_back(r.value());
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(sync_object_tests, fixture)

CAF_TEST(every ORM call reaches the database through the actors) {
  sync_client sync{fixture_options()};
  CAF_REQUIRE(sync.init().ok());
  auto orders = sync.object("WorkOrder");
  auto details = sync.object("workorderdetails"); // names resolve case-insensitively
  CAF_CHECK_EQUAL(details.name(), "WorkOrderDetails");

  CAF_CHECK_EQUAL(value(orders.create(order("1")))["orderId"], "1");
  CAF_CHECK_EQUAL(value(orders.createAll(json::array({order("2"), order("3")}))).size(), 2u);
  CAF_CHECK_EQUAL(value(orders.create(order("4"), false))["orderId"], "4"); // deferred
  CAF_CHECK_EQUAL(value(details.create({{"orderId", "1"}, {"serviceStatus", "open"}}))["orderId"],
                  "1");

  CAF_CHECK_EQUAL(value(orders.getAllCount())["count"], 4);
  CAF_CHECK_EQUAL(value(orders.getCount("status = 'New'"))["count"], 4);
  CAF_CHECK_EQUAL(value(orders.updateByPK("2", {{"status", "Done"}}))["rowsupdated"], 1);
  CAF_CHECK_EQUAL(value(orders.update(where_clause{"orderId = ?", {"3"}}, {{"status", "Done"}}))
                    ["rowsupdated"],
                  1);
  CAF_CHECK_EQUAL(value(orders.updateAll(json::array(
                    {{{"changeSet", {{"priority", "1"}}}, {"whereClause", "status = 'Done'"}}})))
                    ["rowsupdated"],
                  2);
  auto done = value(orders.find(where_clause{"status = ?", {"Done"}}));
  CAF_CHECK_EQUAL(done.size(), 2u);
  auto sorted = value(orders.getAll(json::array({{{"key", "orderId"}, {"sortType", "desc"}}}), 2));
  CAF_REQUIRE_EQUAL(sorted.size(), 2u);
  CAF_CHECK_EQUAL(sorted[0]["orderId"], "4");
  auto one = value(orders.getAllDetailsByPK("1"));
  CAF_REQUIRE_EQUAL(one.size(), 1u);
  CAF_CHECK_EQUAL(one[0]["customerId"], "C-1");

  CAF_CHECK_EQUAL(value(orders.getRelated("WorkOrderDetails", "1")).size(), 1u);
  CAF_CHECK_EQUAL(value(orders.getRelatedCount("WorkOrderDetails", "1"))["count"], 1);

  CAF_CHECK_EQUAL(value(orders.isRecordDeferredForUpload("4")), true);
  CAF_CHECK_EQUAL(value(orders.isRecordPendingForUpload("1")), true);
  CAF_CHECK_EQUAL(value(orders.getDeferredUpload()).size(), 1u);
  CAF_CHECK_EQUAL(value(orders.getPendingUpload()).size(), 3u);
  CAF_CHECK_EQUAL(value(orders.getPendingAcknowledgement()).size(), 0u);
  CAF_CHECK_EQUAL(value(orders.markForUploadByPK("4"))["rowsmarked"], 1);
  CAF_CHECK_EQUAL(value(orders.markForUpload("orderId = '4'"))["rowsmarked"], 0);
  CAF_CHECK_EQUAL(value(orders.getPendingUpload("orderId = '4'")).size(), 1u);

  auto pending = value(sync.getPendingUpload());
  CAF_CHECK_EQUAL(pending["totalCount"], 5);
  CAF_CHECK_EQUAL(pending["totalData"]["WorkOrder"]["count"], 4);
  CAF_CHECK_EQUAL(value(sync.getDeferredUpload())["totalCount"], 0);
  CAF_CHECK_EQUAL(value(sync.getPendingAcknowledgement())["totalCount"], 0);

  CAF_CHECK_EQUAL(value(details.removeDeviceInstanceByPK("1"))["rowsdeleted"], 1);
  CAF_CHECK_EQUAL(value(orders.deleteByPK("3"))["rowsdeleted"], 1);
  CAF_CHECK_EQUAL(value(orders.remove("orderId = '2'"))["rowsdeleted"], 1);
  CAF_CHECK_EQUAL(value(orders.rollbackPendingLocalChangesByPK("1"))["rowsrolledback"], 1);
  CAF_CHECK_EQUAL(value(orders.removeDeviceInstance("orderId = '4'"))["rowsdeleted"], 1);
  CAF_CHECK_EQUAL(value(orders.rollbackPendingLocalChanges())["rowsrolledback"], 2);
  CAF_CHECK_EQUAL(value(sync.rollbackPendingLocalChanges())["rowsrolledback"], 0);
  CAF_CHECK_EQUAL(value(orders.getAllCount())["count"], 0);
  auto rows = value(sync.executeSelectQuery("select count(*) as n from WorkOrder_history"));
  CAF_CHECK_EQUAL(rows[0]["n"], 0);
}

CAF_TEST(errors reach the error callback with the documented codes) {
  sync_client sync{fixture_options()};
  CAF_REQUIRE(sync.init().ok());
  auto orders = sync.object("WorkOrder");
  CAF_REQUIRE(orders.create(order("1")).ok());
  std::promise<sync_error> duplicate;
  orders.create(
    order("1"), [](const json&) {},
    [&](const sync_error& e) { duplicate.set_value(e); });
  auto error = duplicate.get_future().get();
  CAF_CHECK_EQUAL(error.code, 7016);
  std::promise<sync_error> missing_key;
  orders.create(
    {{"status", "x"}}, [](const json&) {},
    [&](const sync_error& e) { missing_key.set_value(e); });
  CAF_CHECK_EQUAL(missing_key.get_future().get().code, 7003);
  auto no_record = orders.updateByPK("nope", {{"status", "x"}});
  CAF_REQUIRE(!no_record.ok());
  CAF_CHECK_EQUAL(no_record.error().code, 7009);
  auto injected = orders.find("1=1; drop table WorkOrder");
  CAF_REQUIRE(!injected.ok());
  auto writes = sync.executeSelectQuery("delete from WorkOrder");
  CAF_REQUIRE(!writes.ok());
  CAF_CHECK_EQUAL(value(orders.getAllCount())["count"], 1);
  bool unknown_table = false;
  try {
    sync.object("NoSuchTable");
  } catch (const sync_exception& e) {
    unknown_table = e.code() == 7031;
  }
  CAF_CHECK(unknown_table);
}

CAF_TEST_FIXTURE_SCOPE_END()
