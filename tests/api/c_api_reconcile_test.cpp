#define CAF_SUITE c_api_reconcile
#include <caf/test/unit_test.hpp>

#include "mxsync.h"

#include <nlohmann/json.hpp>

#include <future>
#include <string>

using json = nlohmann::json;

namespace {

constexpr const char* fixture_config = MXSYNC_FIXTURES_DIR "/workorder-sync-config.json";

/// An initialized client on an in-memory database.
struct c_client {
  mxsync_client* client = nullptr;

  c_client() {
    char* error = nullptr;
    if (mxsync_client_create(fixture_config, ":memory:", nullptr, &client, &error) != 0)
      throw std::runtime_error(error ? error : "mxsync_client_create failed");
    char* out = nullptr;
    mxsync_init(client, &out);
    mxsync_free_string(out);
  }
  ~c_client() { mxsync_client_destroy(client); }

  /// The blocking call's error code (0 on success).
  int reconcile_code(const char* config_json) {
    char* out = nullptr;
    int status = mxsync_reconcile(client, config_json, nullptr, &out);
    auto value = json::parse(out ? out : "null");
    mxsync_free_string(out);
    return status == 0 ? 0 : std::stoi(value.value("errorCode", std::string{"-1"}));
  }
};

void on_error(const char* error_json, void* user_data) {
  static_cast<std::promise<json>*>(user_data)->set_value(json::parse(error_json));
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(c_api_reconcile_tests, c_client)

CAF_TEST(mxsync_reconcile refuses invalid configurations with their codes) {
  CAF_CHECK_EQUAL(reconcile_code(R"({"serverhost": "127.0.0.1"})"), 7033);
  CAF_CHECK_EQUAL(reconcile_code(R"({"serverhost": "127.0.0.1", "reconciliation": {"Nope": []}})"),
                  7030);
  CAF_CHECK_EQUAL(
    reconcile_code(R"({"serverhost": "127.0.0.1", "reconciliation": {"FSPersistentScope": ["Nope"]}})"),
    7031);
  CAF_CHECK_EQUAL(reconcile_code(R"({"reconciledownloadbatchsize": 0})"), 7032);
  CAF_CHECK_EQUAL(reconcile_code(R"({"reconciliation": {"FSPersistentScope": "WorkOrder"}})"), 7032);
}

CAF_TEST(mxsync_start_reconciliation reports refusals on onreconciliationerror) {
  std::promise<json> refused;
  mxsync_reconciliation_callbacks callbacks{};
  callbacks.user_data = &refused;
  callbacks.onreconciliationerror = on_error;
  char* error = nullptr;
  auto status = mxsync_start_reconciliation(
    client, R"({"serverhost": "127.0.0.1", "reconciliation": {"FSPersistentScope": ["Nope"]}})",
    &callbacks, &error);
  CAF_CHECK_EQUAL(status, 0);
  CAF_CHECK(error == nullptr);
  auto answer = refused.get_future().get();
  CAF_CHECK_EQUAL(answer["errorCode"], "7031");
  // Keys that do not parse are refused at once, without a callback.
  status = mxsync_start_reconciliation(client, R"({"nosuchkey": 1})", &callbacks, &error);
  CAF_CHECK_NOT_EQUAL(status, 0);
  CAF_REQUIRE(error != nullptr);
  auto parsed = json::parse(error);
  mxsync_free_string(error);
  CAF_CHECK_EQUAL(parsed["errorCode"], "7032");
}

CAF_TEST_FIXTURE_SCOPE_END()
