#define CAF_SUITE session_many
#include <caf/test/unit_test.hpp>

#include "session/session_support.hpp"

#include <set>
#include <thread>

using namespace mxsync;
using namespace mxsync::test;
using json = nlohmann::json;

CAF_TEST(fifty user sessions share one actor system and transport against one server) {
  constexpr int devices = 50;
  sync_server server{"many"};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("SRV", 100)}}), 0);
  auto shared = std::make_shared<environment>(2);
  std::vector<std::unique_ptr<sync_client>> clients;
  for (int i = 0; i < devices; ++i) {
    client_options options;
    options.config_path = fixture_config;
    options.database_path = fresh_file("many-" + std::to_string(i) + "-device.db");
    options.shared_environment = shared;
    clients.push_back(std::make_unique<sync_client>(std::move(options)));
    CAF_REQUIRE(clients.back()->init().ok());
    CAF_REQUIRE(clients.back()->object("WorkOrder").createAll(work_orders("D" + std::to_string(i), 3)).ok());
  }
  auto run_all = [&] {
    std::vector<std::thread> threads;
    std::vector<int> failures(devices, 0);
    for (int i = 0; i < devices; ++i)
      threads.emplace_back([&, i] {
        auto keys = server.session();
        keys.deviceid = "many-device-" + std::to_string(i);
        failures[i] = clients[i]->synchronize(keys).ok() ? 0 : 1;
      });
    for (auto& t : threads)
      t.join();
    return std::count(failures.begin(), failures.end(), 1);
  };
  CAF_CHECK_EQUAL(run_all(), 0); // everybody uploads (and downloads what is there)
  CAF_CHECK_EQUAL(run_all(), 0); // everybody downloads everybody's rows and the acks
  std::set<std::string> expected;
  for (int i = 1; i <= 100; ++i)
    expected.insert("SRV-" + std::to_string(i));
  for (int d = 0; d < devices; ++d)
    for (int i = 1; i <= 3; ++i)
      expected.insert("D" + std::to_string(d) + "-" + std::to_string(i));
  for (int d = 0; d < devices; ++d) {
    std::set<std::string> ids;
    auto rows = clients[d]->object("WorkOrder").getAll();
    for (const auto& row : rows.value())
      ids.insert(row["orderId"].get<std::string>());
    CAF_CHECK_EQUAL(ids.size(), expected.size());
    CAF_CHECK(ids == expected);
    auto pending = clients[d]->getPendingUpload();
    CAF_CHECK_EQUAL(pending.value()["totalCount"], 0);
  }
  // The server agrees: a fresh device downloads exactly the same set.
  auto fresh = make_device("many-check");
  CAF_REQUIRE(fresh->synchronize(server.session()).ok());
  CAF_CHECK_EQUAL(count_rows(*fresh, "WorkOrder"), static_cast<std::int64_t>(expected.size()));
  clients.clear();
}
