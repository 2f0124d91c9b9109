#define CAF_SUITE session_echo
#include <caf/test/unit_test.hpp>

#include "session/forwarding_proxy.hpp"
#include "session/session_support.hpp"

#include <set>

using namespace mxsync;
using namespace mxsync::test;
using json = nlohmann::json;

namespace {

/// One device of the user, with a proxy that records the download answers.
struct device_under_test {
  std::unique_ptr<sync_client> client;
  forwarding_proxy proxy;
  std::mutex mutex;
  std::vector<json> downloaded; ///< rows of download answers, acks included

  explicit device_under_test(const std::string& name) : client(make_device(name)) {
    proxy.on_answer = [this](const std::string& url, const json&, json& answer) {
      if (forwarding_proxy::endpoint_of(url) != "download")
        return;
      std::lock_guard<std::mutex> guard{mutex};
      for (const auto& row : answer["d"].value("results", json::array()))
        downloaded.push_back(row);
    };
  }

  /// One session; returns the orderIds of the WorkOrder changes it downloaded (acks
  /// not counted) and the orderIds acked.
  std::pair<std::multiset<std::string>, std::multiset<std::string>> sync(sync_server& server) {
    {
      std::lock_guard<std::mutex> guard{mutex};
      downloaded.clear();
    }
    auto keys = server.session();
    keys.invokeservicefunction = proxy.function();
    auto outcome = client->synchronize(keys);
    if (!outcome.ok())
      CAF_FAIL("session failed: " << outcome.error().to_json().dump());
    client->flush();
    std::multiset<std::string> changes, acks;
    std::lock_guard<std::mutex> guard{mutex};
    for (const auto& row : downloaded)
      if (row["__metadata"]["type"] == "WorkOrder")
        (row.contains("konysyncMergedWithEIS") ? acks : changes).insert(row["orderId"].get<std::string>());
    return {changes, acks};
  }

  std::string status_of(const std::string& order) {
    auto rows = client->executeSelectQuery("select status from WorkOrder where orderId = '" + order + "'");
    if (!rows.ok() || rows.value().empty())
      return "<missing>";
    return rows.value()[0]["status"].get<std::string>();
  }

  void update_status(const std::string& order, const std::string& status) {
    auto done = client->object("WorkOrder").updateByPK(json{{"orderId", order}}, json{{"status", status}});
    if (!done.ok())
      CAF_FAIL("update failed: " << done.error().to_json().dump());
  }
};

using ids = std::multiset<std::string>;

} // namespace

CAF_TEST(a device gets only acks for its uploads while its other device and server changes reach it) {
  sync_server server{"echo"};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("SRV", 2)}}), 0);
  device_under_test phone{"echo-phone"}, tablet{"echo-tablet"};

  // The phone creates three orders offline, then syncs: acks, and only the server's rows.
  for (const auto& row : work_orders("MINE", 3))
    CAF_REQUIRE(phone.client->object("WorkOrder").create(row).ok());
  auto [first_changes, first_acks] = phone.sync(server);
  CAF_CHECK_EQUAL(first_changes, (ids{"SRV-1", "SRV-2"}));
  CAF_CHECK_EQUAL(first_acks, (ids{"MINE-1", "MINE-2", "MINE-3"}));
  CAF_CHECK_EQUAL(count_rows(*phone.client, "WorkOrder"), 5);
  auto pending = phone.client->getPendingAcknowledgement();
  CAF_REQUIRE(pending.ok());
  CAF_CHECK_EQUAL(pending.value()["totalCount"], 0);

  // The user's tablet gets every row, the phone's included.
  auto [tablet_changes, tablet_acks] = tablet.sync(server);
  CAF_CHECK_EQUAL(tablet_changes, (ids{"SRV-1", "SRV-2", "MINE-1", "MINE-2", "MINE-3"}));
  CAF_CHECK(tablet_acks.empty());
  CAF_CHECK_EQUAL(count_rows(*tablet.client, "WorkOrder"), 5);

  // A second phone session with nothing new downloads nothing.
  auto [idle_changes, idle_acks] = phone.sync(server);
  CAF_CHECK(idle_changes.empty());
  CAF_CHECK(idle_acks.empty());

  // A server-side change of the phone's row and the tablet's change of another one
  // both reach the phone.
  CAF_REQUIRE_EQUAL(server.admin("upsert", json{{"WorkOrder", json::array({json{{"orderId", "MINE-1"}, {"status", "Closed"}}})}}), 0);
  tablet.update_status("MINE-2", "Assigned");
  auto [tablet_upload, tablet_upload_acks] = tablet.sync(server);
  CAF_CHECK_EQUAL(tablet_upload, (ids{"MINE-1"})); // not its own MINE-2
  CAF_CHECK_EQUAL(tablet_upload_acks, (ids{"MINE-2"}));
  auto [later_changes, later_acks] = phone.sync(server);
  CAF_CHECK_EQUAL(later_changes, (ids{"MINE-1", "MINE-2"}));
  CAF_CHECK(later_acks.empty());
  CAF_CHECK_EQUAL(phone.status_of("MINE-1"), "Closed");
  CAF_CHECK_EQUAL(phone.status_of("MINE-2"), "Assigned");

  // The phone's own update: an ack for the phone, the row for the tablet.
  phone.update_status("MINE-3", "Done");
  auto [own_update, own_update_acks] = phone.sync(server);
  CAF_CHECK(own_update.empty());
  CAF_CHECK_EQUAL(own_update_acks, (ids{"MINE-3"}));
  auto [tablet_later, tablet_later_acks] = tablet.sync(server);
  CAF_CHECK_EQUAL(tablet_later, (ids{"MINE-3"}));
  CAF_CHECK_EQUAL(tablet.status_of("MINE-3"), "Done");
  CAF_CHECK_EQUAL(count_rows(*phone.client, "WorkOrder"), 5);
  CAF_CHECK_EQUAL(count_rows(*tablet.client, "WorkOrder"), 5);
}
