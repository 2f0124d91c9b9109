#define CAF_SUITE sync_client
#include <caf/test/unit_test.hpp>

#include "mxsync/reconciliation_config.hpp"
#include "mxsync/sync_client.hpp"

#include <condition_variable>
#include <functional>
#include <limits>
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

namespace {

/// The error of a from_json call, or code 0 when it (wrongly) succeeded.
template <class F>
sync_error from_json_error(F&& parse) {
  try {
    parse();
  } catch (const sync_exception& e) {
    return e.error();
  }
  return {};
}

/// A session key fault in JSON and the same fault set in C++.
struct bad_key {
  json keys;
  std::function<void(session_config&)> set;
  std::string key;
};

std::vector<bad_key> bad_session_keys() {
  return {
    {{{"batchsize", 0}}, [](session_config& c) { c.batchsize = 0; }, "batchsize"},
    {{{"uploadbatchsize", "-1"}}, [](session_config& c) { c.uploadbatchsize = -1; },
     "uploadbatchsize"},
    {{{"chunksize", 0}}, [](session_config& c) { c.chunksize = 0; }, "chunksize"},
    {{{"chunksize", 5000000000}}, [](session_config& c) { c.chunksize = 5000000000; },
     "chunksize"},
    {{{"maxparallelchunks", 0}}, [](session_config& c) { c.maxparallelchunks = 0; },
     "maxparallelchunks"},
    {{{"networktimeout", -1}}, [](session_config& c) { c.networktimeout = -1; },
     "networktimeout"},
    {{{"networktimeout", "inf"}},
     [](session_config& c) { c.networktimeout = std::numeric_limits<double>::infinity(); },
     "networktimeout"},
    {{{"numberofretryattempts", -1}}, [](session_config& c) { c.numberofretryattempts = -1; },
     "numberofretryattempts"},
    {{{"numberofretryattempts", 10000000000}},
     [](session_config& c) { c.numberofretryattempts = 10000000000; }, "numberofretryattempts"},
    {{{"retrywaittime", -2}}, [](session_config& c) { c.retrywaittime = -2; }, "retrywaittime"},
    {{{"retryerrorcodes", {1000, 0}}}, [](session_config& c) { c.retryerrorcodes = {1000, 0}; },
     "retryerrorcodes"},
    {{{"serverurl", "http://127.0.0.1:1/syncservice"}},
     [](session_config& c) { c.serverurl = "http://127.0.0.1:1/syncservice"; }, "serverurl"},
    {{{"sessiontasks", {{"A", {{"uploaderrorpolicy", "sometimes"}}}}}},
     [](session_config& c) {
       c.sessiontasks = std::map<std::string, session_task>{{"A", {true, true, "sometimes"}}};
     },
     "sessiontasks.A.uploaderrorpolicy"},
    {{{"filterparams", {{"A", json::object()}}}},
     [](session_config& c) { c.filterparams["A"] = json::object(); }, "filterparams.A"},
  };
}

} // namespace

CAF_TEST(a session key is refused alike from JSON and from C++) {
  sync_client client{options_for(":memory:")};
  for (const auto& fault : bad_session_keys()) {
    auto keys = fault.keys;
    keys["serverhost"] = "127.0.0.1";
    auto parsed = from_json_error([&] { session_config::from_json(keys); });
    if (parsed.code != 7777)
      CAF_FAIL("from_json " << keys.dump() << ": code " << parsed.code << " " << parsed.message);
    CAF_CHECK_EQUAL(parsed.info, (json{{"key", fault.key}}));
    CAF_CHECK(parsed.message.find("\"" + fault.key + "\"") != std::string::npos);
    // The same value set in code: synchronize (and startSession) refuse it the same way,
    // before anything else (this client is not even initialized).
    session_config built;
    built.serverhost = "127.0.0.1";
    fault.set(built);
    auto refused = client.synchronize(built);
    CAF_REQUIRE(!refused.ok());
    CAF_CHECK_EQUAL(refused.error().code, 7777);
    CAF_CHECK_EQUAL(refused.error().message, parsed.message);
    CAF_CHECK_EQUAL(refused.error().info, parsed.info);
    // In a reconciliation config the startSession keys are 7032, same message and key.
    auto reconcile_keys = keys;
    reconcile_keys["reconciliation"] = json{{"A", json::array()}};
    auto reconcile_parsed = from_json_error([&] { reconciliation_config::from_json(reconcile_keys); });
    CAF_CHECK_EQUAL(reconcile_parsed.code, 7032);
    CAF_CHECK_EQUAL(reconcile_parsed.message, parsed.message);
    CAF_CHECK_EQUAL(reconcile_parsed.info, parsed.info);
    reconciliation_config reconcile_built;
    reconcile_built.session = built;
    reconcile_built.reconciliation =
      std::vector<std::pair<std::string, std::vector<std::string>>>{{"A", {}}};
    auto reconcile_refused = client.reconcile(reconcile_built);
    CAF_REQUIRE(!reconcile_refused.ok());
    CAF_CHECK_EQUAL(reconcile_refused.error().code, 7032);
    CAF_CHECK_EQUAL(reconcile_refused.error().message, parsed.message);
    CAF_CHECK_EQUAL(reconcile_refused.error().info, parsed.info);
  }
  // Type faults and unknown keys exist only in JSON; they are 7777 naming the key too.
  for (const auto& [keys, key] : std::vector<std::pair<json, std::string>>{
         {{{"batchsize", "ten"}}, "batchsize"},
         {{{"networktimeout", "5s"}}, "networktimeout"},
         {{{"issecure", "yes"}}, "issecure"},
         {{{"nosuchkey", 1}}, "nosuchkey"},
         {{{"onsyncsuccess", "f"}}, "onsyncsuccess"}}) {
    auto parsed = from_json_error([&] { session_config::from_json(keys); });
    CAF_CHECK_EQUAL(parsed.code, 7777);
    CAF_CHECK_EQUAL(parsed.info, (json{{"key", key}}));
  }
  CAF_CHECK_EQUAL(from_json_error([] { session_config::from_json(json::array()); }).code, 7777);
  // Good values still pass, numeric strings included.
  auto good = session_config::from_json(
    {{"batchsize", "20"}, {"networktimeout", "2.5"}, {"numberofretryattempts", 0},
     {"sessiontasks", {{"A", {{"uploaderrorpolicy", "continueonerror"}}}}}});
  CAF_CHECK_EQUAL(good.batchsize, 20);
  CAF_CHECK_EQUAL(*good.networktimeout, 2.5);
  CAF_CHECK_EQUAL(*good.sessiontasks->at("A").uploaderrorpolicy, "continueonerror");
  good.validate();
}

CAF_TEST(a reconciliation key is refused alike from JSON and from C++) {
  sync_client client{options_for(":memory:")};
  using scopes = std::vector<std::pair<std::string, std::vector<std::string>>>;
  struct fault {
    json keys;
    std::function<void(reconciliation_config&)> set;
    std::string key;
  };
  for (const auto& [keys, set, key] : std::vector<fault>{
         {{{"reconciledownloadbatchsize", 0}},
          [](reconciliation_config& c) { c.reconciledownloadbatchsize = 0; },
          "reconciledownloadbatchsize"},
         {{{"reconcilebulkgetbatchsize", "-3"}},
          [](reconciliation_config& c) { c.reconcilebulkgetbatchsize = -3; },
          "reconcilebulkgetbatchsize"},
         {{{"reconciliation", {{"A", {""}}}}},
          [](reconciliation_config& c) { c.reconciliation = scopes{{"A", {""}}}; },
          "reconciliation.A"}}) {
    auto all_keys = keys;
    all_keys["serverhost"] = "127.0.0.1";
    if (!all_keys.contains("reconciliation"))
      all_keys["reconciliation"] = json{{"A", json::array()}};
    auto parsed = from_json_error([&] { reconciliation_config::from_json(all_keys); });
    if (parsed.code != 7032)
      CAF_FAIL("from_json " << all_keys.dump() << ": code " << parsed.code << " " << parsed.message);
    CAF_CHECK_EQUAL(parsed.info, (json{{"key", key}}));
    reconciliation_config built;
    built.session.serverhost = "127.0.0.1";
    built.reconciliation = scopes{{"A", {}}};
    set(built);
    auto refused = client.reconcile(built);
    CAF_REQUIRE(!refused.ok());
    CAF_CHECK_EQUAL(refused.error().code, 7032);
    CAF_CHECK_EQUAL(refused.error().message, parsed.message);
    CAF_CHECK_EQUAL(refused.error().info, parsed.info);
  }
  // {} is every scope (the real client's rule); null or no key is no reconciliation (7033).
  auto every = reconciliation_config::from_json({{"reconciliation", json::object()}});
  CAF_REQUIRE(every.reconciliation.has_value());
  CAF_CHECK(every.reconciliation->empty());
  CAF_CHECK(!reconciliation_config::from_json({{"reconciliation", nullptr}}).reconciliation);
  CAF_CHECK(!reconciliation_config::from_json(json::object()).reconciliation);
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
  CAF_CHECK_EQUAL(as_json["errorCode"], "7011");
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
