#define CAF_SUITE session_protocol
#include <caf/test/unit_test.hpp>

#include "session/forwarding_proxy.hpp"
#include "session/session_support.hpp"
#include "persistence/sqlite.hpp"
#include "transport/password_hash.hpp"

#include <atomic>
#include <future>
#include <thread>

using namespace mxsync;
using namespace mxsync::test;
using json = nlohmann::json;

namespace {

const std::string config_version = "3409dfe4e9eaa3e22c0002b4f5efaff2b274e18b497280af030e7aa141baa313";

json client_context_of(const json& params) {
  if (!params.contains("clientcontext"))
    return nullptr;
  return json::parse(params["clientcontext"].get<std::string>(), nullptr, false);
}

bool initial_sync(const json& params) {
  auto context = client_context_of(params);
  return context.is_object() && context.value("InitialSync", "") == "true";
}

} // namespace

CAF_TEST(requests carry what the real client sends across sessions and a failed download resumes) {
  sync_server server{"protocol"};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("SRV", 1203)}}), 0);
  auto device = make_device("protocol");
  CAF_REQUIRE(device->object("WorkOrder").create(work_orders("CLI", 3)[0]).ok());
  forwarding_proxy proxy;
  std::atomic<int> downloads{0};
  // The second download batch of the first session meets a server failure.
  proxy.on_request = [&downloads](const std::string& url, json&) -> std::optional<json> {
    if (forwarding_proxy::endpoint_of(url) == "download" && ++downloads == 2)
      return json{{"opstatus", 0},
                  {"d", {{"error", "true"}, {"errcode", "SY2005E"}, {"msg", "replica busy"}}}};
    return std::nullopt;
  };
  recorder events;
  auto keys = server.session();
  keys.invokeservicefunction = proxy.function();
  events.attach(keys);
  auto first = device->synchronize(keys);
  CAF_REQUIRE(!first.ok());
  device->flush();

  // The session error: 7022 with the scope's 7021 and the server's errcode.
  auto session_error = first.error();
  CAF_CHECK_EQUAL(session_error.code, 7022);
  auto scope_error = session_error.info["FSPersistentScope"];
  CAF_CHECK_EQUAL(scope_error["errorCode"], "7021");
  auto text = scope_error.dump();
  CAF_CHECK(text.find("SY2005E") != std::string::npos);
  CAF_CHECK(text.find("replica busy") != std::string::npos);
  CAF_CHECK_EQUAL(events.count("onscopeerror"), 1u);
  CAF_CHECK_EQUAL(events.count("ondownloadsuccess"), 0u);
  CAF_CHECK_EQUAL(events.count("onbatchprocessingsuccess"), 1u);
  // Batch 1 is kept, with its cursor (a batch never splits a same-timestamp group, so
  // it may hold a few more rows than batchsize).
  auto batch_one = events.context_of("onbatchprocessingsuccess")["batchcontext"];
  auto first_rows = batch_one["batchrowsdownloaded"].get<std::int64_t>();
  auto first_acks = batch_one.value("acktotalrows", std::int64_t{0});
  CAF_CHECK_GREATER(first_rows, 0);
  CAF_CHECK_LESS(first_rows, 1203);
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), first_rows + 1);

  auto calls = proxy.calls();
  CAF_REQUIRE_GREATER(calls.size(), 3u);
  // A new device registers first; its instance id goes with every later request.
  CAF_CHECK_EQUAL(calls[0].first, "registerdevice");
  auto registration = calls[0].second;
  CAF_CHECK(registration.contains("deviceID"));
  // The device values default to the ones the real library's Android build sends.
  CAF_CHECK_EQUAL(registration["os"], "android");
  CAF_CHECK_EQUAL(registration["channel"], "mobile");
  CAF_CHECK_EQUAL(registration["platform"], "android");
  CAF_CHECK_EQUAL(registration["model"], "mxsync");
  CAF_CHECK_EQUAL(registration["version"], "1");
  auto hashed = transport::hash_password("sha256", "testpassword");
  auto first_download = calls_to(calls, "download").at(0);
  auto instance = first_download["instanceid"].get<std::string>();
  CAF_CHECK(!instance.empty());
  auto stored = device->executeSelectQuery("select InstanceID from SyncConfigTable");
  CAF_REQUIRE(stored.ok() && !stored.value().empty());
  auto kept_instance = stored.value()[0]["InstanceID"];
  CAF_CHECK_EQUAL(kept_instance, instance);
  std::optional<std::string> last_session_id;
  for (const auto& [endpoint, params] : calls) {
    CAF_CHECK_EQUAL(params["userid"], "testuser");
    CAF_CHECK_EQUAL(params["password"], hashed);
    CAF_CHECK_EQUAL(params["AppID"], registration["AppID"]);
    if (endpoint == "registerdevice")
      continue;
    CAF_CHECK_EQUAL(params["instanceid"], instance);
    CAF_CHECK_EQUAL(params["clientid"], registration["deviceID"]);
    CAF_CHECK_EQUAL(params["appVersion"], config_version);
    CAF_CHECK_EQUAL(params["scopename"], "FSPersistentScope");
    CAF_CHECK_EQUAL(params["strategy"], "PERSISTENT_SYNC");
    if (endpoint == "download")
      CAF_CHECK(initial_sync(params));
    // Once the server named a session, every request echoes it.
    if (params.contains("konysyncsessionid"))
      last_session_id = params["konysyncsessionid"].get<std::string>();
  }
  CAF_CHECK(last_session_id.has_value());
  auto app_id = registration["AppID"].get<std::string>();
  CAF_CHECK(!app_id.empty());
  auto upload = calls_to(calls, "upload").at(0);
  auto upload_request = json::parse(upload["UploadRequest"].get<std::string>());
  CAF_CHECK(upload_request.contains("d"));
  auto first_batch_blob = events.context_of("onbatchprocessingsuccess")["lastsynctimestamp"];

  // The next session: no registration, the download resumes from batch 1's blob and
  // still says InitialSync until the scope's first download completes.
  proxy.on_request = nullptr;
  proxy.forget_calls();
  recorder resumed;
  auto again = server.session();
  again.invokeservicefunction = proxy.function();
  resumed.attach(again);
  auto second = device->synchronize(again);
  if (!second.ok())
    CAF_FAIL("resumed session failed: " << second.error().to_json().dump());
  device->flush();
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 1203 + 1);
  auto second_calls = proxy.calls();
  CAF_CHECK_EQUAL(calls_to(second_calls, "registerdevice").size(), 0u);
  CAF_CHECK_EQUAL(calls_to(second_calls, "upload").size(), 0u); // nothing pending
  auto resumed_downloads = calls_to(second_calls, "download");
  CAF_REQUIRE_EQUAL(resumed_downloads.size(), 2u);
  CAF_CHECK_EQUAL(resumed_downloads[0]["tickcount"], first_batch_blob);
  for (const auto& params : resumed_downloads)
    CAF_CHECK(initial_sync(params));
  // Nothing twice: the resumed batches hold the rest of the server's rows.
  std::int64_t downloaded = 0, acknowledged = 0;
  for (std::size_t i = 0; i < resumed.count("onbatchprocessingsuccess"); ++i) {
    auto batch = resumed.context_of("onbatchprocessingsuccess", i)["batchcontext"];
    downloaded += batch["batchrowsdownloaded"].get<std::int64_t>();
    acknowledged += batch.value("acktotalrows", 0);
  }
  CAF_MESSAGE("resumed: " << downloaded << " rows downloaded, " << acknowledged << " acknowledged");
  // Over both sessions: every server row once (the device's own row never comes back
  // as a server change), and the ack of the device's own row once.
  CAF_CHECK_EQUAL(first_rows + downloaded, 1203);
  CAF_CHECK_EQUAL(first_acks + acknowledged, 1);

  // After a complete download the scope is initialized: no more InitialSync.
  proxy.forget_calls();
  auto third = server.session();
  third.invokeservicefunction = proxy.function();
  CAF_REQUIRE(device->synchronize(third).ok());
  for (const auto& params : calls_to(proxy.calls(), "download")) {
    CAF_CHECK(!initial_sync(params));
    CAF_CHECK_EQUAL(params["clientcontext"], "{}");
  }
}

CAF_TEST(download callbacks keep the real client order while batches are asked for ahead) {
  sync_server server{"protocol-prefetch"};
  // Loads of their own: rows of one load may share a change time, and a batch never
  // splits such a group.
  for (int i = 0; i < 5; ++i)
    CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("G" + std::to_string(i), 8)}}), 0);
  auto device = make_device("protocol-prefetch");
  forwarding_proxy proxy;
  // One log for the network calls and the callbacks: the app's service function runs
  // on the same listener as the callbacks, so their order is the order mxsync chose.
  recorder log;
  proxy.on_request = [&log](const std::string& url, json& params) -> std::optional<json> {
    if (forwarding_proxy::endpoint_of(url) == "download")
      log.add("POST download", params);
    return std::nullopt;
  };
  auto keys = server.session();
  keys.batchsize = 8;
  keys.invokeservicefunction = proxy.function();
  log.attach(keys);
  auto outcome = device->synchronize(keys);
  if (!outcome.ok())
    CAF_FAIL("session failed: " << outcome.error().to_json().dump());
  device->flush();
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 40);
  std::vector<std::string> events;
  std::vector<json> contexts;
  {
    std::lock_guard<std::mutex> guard{log.mutex};
    events = log.events;
    contexts = log.contexts;
  }
  std::vector<std::size_t> posts, starts, successes;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i] == "POST download")
      posts.push_back(i);
    else if (events[i] == "onbatchprocessingstart")
      starts.push_back(i);
    else if (events[i] == "onbatchprocessingsuccess")
      successes.push_back(i);
  }
  CAF_REQUIRE_GREATER_OR_EQUAL(successes.size(), 4u);
  CAF_REQUIRE_EQUAL(posts.size(), successes.size());
  CAF_REQUIRE_EQUAL(starts.size(), successes.size());
  for (std::size_t n = 0; n < successes.size(); ++n) {
    // The app sees start(n) < success(n) < start(n+1), as with the real client ...
    CAF_CHECK_LESS(starts[n], successes[n]);
    if (n + 1 < successes.size()) {
      CAF_CHECK_LESS(successes[n], starts[n + 1]);
      // Each batch starts where the one before it ended.
      auto blob = contexts[successes[n]]["lastsynctimestamp"];
      auto tick = contexts[posts[n + 1]]["tickcount"];
      CAF_CHECK_EQUAL(tick, blob);
      auto start_blob = contexts[starts[n + 1]]["lastsynctimestamp"];
      CAF_CHECK_EQUAL(start_blob, blob);
    }
  }
  // Every download request echoes the session of the answer before it.
  std::vector<int> numbers;
  for (auto at : posts)
    if (contexts[at].contains("konysyncrequestnumber"))
      numbers.push_back(std::stoi(contexts[at]["konysyncrequestnumber"].get<std::string>()));
  CAF_REQUIRE_EQUAL(numbers.size(), posts.size());
  for (std::size_t i = 1; i < numbers.size(); ++i)
    CAF_CHECK_EQUAL(numbers[i], numbers[i - 1] + 1);
}

CAF_TEST(the next batch is asked for while the current one waits to be stored) {
  sync_server server{"protocol-ahead"};
  for (int i = 0; i < 3; ++i)
    CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("G" + std::to_string(i), 8)}}), 0);
  auto device = make_device("protocol-ahead");
  auto device_db = fresh_file_path("protocol-ahead");
  // Another writer holds the device database while batch 1 comes in, so batch 1 cannot
  // be stored until it lets go. The request for batch 2 must leave anyway; then the
  // lock is released. (A watchdog releases it after 5 s, and the test fails.)
  std::mutex lock_mutex;
  std::optional<db::connection> blocker;
  std::promise<void> released;
  auto release = [&] {
    std::lock_guard<std::mutex> guard{lock_mutex};
    if (blocker) {
      blocker->exec("rollback");
      blocker.reset();
      released.set_value();
    }
  };
  std::atomic<int> downloads{0};
  std::atomic<bool> second_while_locked{false};
  std::promise<void> locked;
  forwarding_proxy proxy;
  proxy.on_request = [&](const std::string& url, json&) -> std::optional<json> {
    if (forwarding_proxy::endpoint_of(url) != "download")
      return std::nullopt;
    auto n = ++downloads;
    if (n == 1) {
      std::lock_guard<std::mutex> guard{lock_mutex};
      blocker.emplace(device_db);
      blocker->exec("begin immediate");
      locked.set_value();
    } else if (n == 2) {
      {
        std::lock_guard<std::mutex> guard{lock_mutex};
        second_while_locked = blocker.has_value();
      }
      release();
    }
    return std::nullopt;
  };
  auto keys = server.session();
  keys.batchsize = 8;
  keys.invokeservicefunction = proxy.function();
  auto session = std::async(std::launch::async, [&] { return device->synchronize(keys); });
  auto lock_taken = locked.get_future();
  CAF_REQUIRE(lock_taken.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  std::thread watchdog([&, lock_released = released.get_future()] {
    if (lock_released.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
      release();
  });
  auto outcome = session.get();
  watchdog.join();
  CAF_CHECK(second_while_locked.load());
  if (!outcome.ok())
    CAF_FAIL("session failed: " << outcome.error().to_json().dump());
  device->flush();
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 24);
}

CAF_TEST(registerdevice carries the device values of the session keys) {
  sync_server server{"protocol-device"};
  auto device = make_device("protocol-device");
  auto defaults = server.session();
  auto keys = session_config::from_json(json{{"serverhost", defaults.serverhost},
                                              {"serverport", defaults.serverport.value_or("")},
                                              {"userid", "testuser"},
                                              {"password", "testpassword"},
                                              {"os", "iPad"},
                                              {"model", "iPad7,5"},
                                              {"version", "12.4"},
                                              {"channel", "tablet"},
                                              {"platform", "ios"}});
  forwarding_proxy proxy;
  keys.invokeservicefunction = proxy.function();
  auto outcome = device->synchronize(keys);
  if (!outcome.ok())
    CAF_FAIL("session failed: " << outcome.error().to_json().dump());
  auto registrations = calls_to(proxy.calls(), "registerdevice");
  CAF_REQUIRE_EQUAL(registrations.size(), 1u);
  const auto& sent = registrations[0];
  CAF_CHECK_EQUAL(sent["os"], "iPad");
  CAF_CHECK_EQUAL(sent["model"], "iPad7,5");
  CAF_CHECK_EQUAL(sent["version"], "12.4");
  CAF_CHECK_EQUAL(sent["channel"], "tablet");
  CAF_CHECK_EQUAL(sent["platform"], "ios");
  // Wrong types are refused with the key's name.
  try {
    session_config::from_json(json{{"platform", json::array()}});
    CAF_FAIL("a platform array was accepted");
  } catch (const sync_exception& e) {
    CAF_CHECK_EQUAL(e.code(), 7777);
    CAF_CHECK(std::string{e.what()}.find("platform") != std::string::npos);
  }
}
