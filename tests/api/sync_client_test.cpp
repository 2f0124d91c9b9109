#define CAF_SUITE sync_client
#include <caf/test/unit_test.hpp>

#include "mxsync/sync_client.hpp"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

using namespace mxsync;
using json = nlohmann::json;

namespace {

json two_scope_config(const std::string& version = "v1") {
  return json::parse(R"({"AppID":"app","Version":")" + version + R"(","ArrayOfSyncScope":[
    {"ScopeName":"A","Strategy":"OTA_SYNC","ScopeTables":[{"Name":"Ta","Pk_Columns":["id"],
      "Columns":[{"Name":"id","type":"int"},{"Name":"v","type":"string"}]}]},
    {"ScopeName":"B","Strategy":"PERSISTENT_SYNC","ScopeTables":[{"Name":"Tb","Pk_Columns":["id"],
      "Columns":[{"Name":"id","type":"string"}]}]}]})");
}

std::string temp_db(const std::string& name) {
  auto path = std::string{MXSYNC_BINARY_DIR} + "/api_test_" + name + ".db";
  for (auto suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(path + suffix);
  return path;
}

client_options options_for(const std::string& path, json config = two_scope_config()) {
  client_options options;
  options.database_path = path;
  options.config = std::move(config);
  return options;
}

} // namespace

CAF_TEST(init creates the database once and a second init keeps it) {
  auto path = temp_db("init");
  {
    sync_client client{options_for(path)};
    auto first = client.init();
    CAF_REQUIRE(first.ok());
    CAF_CHECK_EQUAL(first.value()["created"], true);
    auto second = client.init();
    CAF_REQUIRE(second.ok());
    CAF_CHECK_EQUAL(second.value()["created"], false);
  }
  sync_client reopened{options_for(path)};
  auto again = reopened.init();
  CAF_REQUIRE(again.ok());
  CAF_CHECK_EQUAL(again.value()["created"], false);
}

CAF_TEST(a new config Version is refused by init and the database is kept) {
  auto path = temp_db("version");
  {
    sync_client client{options_for(path)};
    CAF_REQUIRE(client.init().ok());
  }
  sync_client newer{options_for(path, two_scope_config("v2"))};
  auto refused = newer.init();
  CAF_REQUIRE(!refused.ok());
  CAF_CHECK_EQUAL(refused.error().code, 7004);
  CAF_CHECK_EQUAL(refused.error().info["storedVersion"], "v1");
  CAF_CHECK_EQUAL(refused.error().info["configVersion"], "v2");
}

CAF_TEST(an invalid config is refused with 7004 naming the fault) {
  auto config = two_scope_config();
  config["ArrayOfSyncScope"][1]["ScopeTables"][0]["Pk_Columns"] = json::array({"nope"});
  bool refused = false;
  try {
    sync_client client{options_for(":memory:", config)};
  } catch (const sync_exception& e) {
    refused = e.code() == 7004;
    auto reason = e.error().info["reason"].get<std::string>();
    CAF_CHECK(reason.find("scope 'B'") != std::string::npos);
    CAF_CHECK(reason.find("table 'Tb'") != std::string::npos);
    CAF_CHECK(reason.find("Pk_Columns") != std::string::npos);
  }
  CAF_CHECK(refused);
}

CAF_TEST(operations before init fail with 7777) {
  sync_client client{options_for(":memory:")};
  auto early = client.resetScope("A");
  CAF_REQUIRE(!early.ok());
  CAF_CHECK_EQUAL(early.error().code, 7777);
  CAF_CHECK(early.error().message.find("sync.init") != std::string::npos);
}

CAF_TEST(an unopenable database gives 7011 to the error callback) {
  sync_client client{options_for("/nonexistent-dir/deeper/device.db")};
  std::mutex m;
  std::condition_variable cv;
  std::optional<sync_error> seen;
  client.init([](const json&) {},
              [&](const sync_error& e) {
                std::lock_guard<std::mutex> guard{m};
                seen = e;
                cv.notify_all();
              });
  std::unique_lock<std::mutex> lock{m};
  CAF_REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return seen.has_value(); }));
  CAF_CHECK_EQUAL(seen->code, 7011);
  auto as_json = seen->to_json();
  CAF_CHECK_EQUAL(as_json["errorCode"], 7011);
}

CAF_TEST(callbacks run in call order on an executor and flush waits for them) {
  std::vector<std::string> events;
  std::mutex m;
  auto options = options_for(":memory:");
  // The app's executor: here it runs inline, recording the thread it ran on.
  std::thread::id executor_thread;
  options.executor = [&](std::function<void()> f) {
    executor_thread = std::this_thread::get_id();
    f();
  };
  sync_client client{std::move(options)};
  auto record = [&](std::string what) {
    return [&, what](const json&) {
      std::lock_guard<std::mutex> guard{m};
      events.push_back(what);
    };
  };
  auto record_error = [&](std::string what) {
    return [&, what](const sync_error& e) {
      std::lock_guard<std::mutex> guard{m};
      events.push_back(what + ":" + std::to_string(e.code));
    };
  };
  client.init(record("init"), record_error("init"));
  for (int i = 0; i < 20; ++i)
    client.resetScope(i % 2 ? "A" : "Missing", record("reset" + std::to_string(i)),
                      record_error("reset" + std::to_string(i)));
  client.reset(record("reset-all"), record_error("reset-all"));
  client.flush();
  std::lock_guard<std::mutex> guard{m};
  CAF_REQUIRE_EQUAL(events.size(), 22u);
  CAF_CHECK_EQUAL(events[0], "init");
  CAF_CHECK_EQUAL(events[1], "reset0:7030");
  CAF_CHECK_EQUAL(events[2], "reset1");
  CAF_CHECK_EQUAL(events[21], "reset-all");
  CAF_CHECK(executor_thread != std::this_thread::get_id());
}

CAF_TEST(status shows the actor tree with counters) {
  sync_client client{options_for(":memory:")};
  CAF_REQUIRE(client.init().ok());
  client.resetScope("Missing");
  auto tree = client.status();
  CAF_CHECK_EQUAL(tree["name"], "runtime");
  CAF_CHECK_EQUAL(tree["counters"]["calls"], 2);
  CAF_REQUIRE_EQUAL(tree["children"].size(), 2u);
  std::set<std::string> names;
  for (auto& child : tree["children"]) {
    names.insert(child["name"].get<std::string>());
    CAF_CHECK(child.contains("mailbox"));
    CAF_CHECK(child.contains("counters"));
  }
  CAF_CHECK(names.count("database") == 1);
  CAF_CHECK(names.count("listener") == 1);
  for (auto& child : tree["children"])
    if (child["name"] == "database") {
      CAF_CHECK_EQUAL(child["counters"]["writes"], 2);
      CAF_CHECK_EQUAL(child["counters"]["failures"], 1);
    }
}

CAF_TEST(many clients share one environment) {
  auto env = std::make_shared<environment>(2);
  std::vector<std::unique_ptr<sync_client>> clients;
  for (int i = 0; i < 20; ++i) {
    auto options = options_for(":memory:");
    options.shared_environment = env;
    clients.push_back(std::make_unique<sync_client>(std::move(options)));
  }
  for (auto& c : clients)
    CAF_CHECK(c->init().ok());
  clients.clear();
}
