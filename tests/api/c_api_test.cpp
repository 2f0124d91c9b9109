#define CAF_SUITE c_api
#include <caf/test/unit_test.hpp>

#include "mxsync.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using json = nlohmann::json;

namespace {

constexpr const char* fixture_config = MXSYNC_FIXTURES_DIR "/workorder-sync-config.json";

/// What a blocking call answered: its status and the JSON it handed out.
struct answer {
  int code = -1;
  json value;
};

/// Everything a callback form delivered, in arrival order. The C callbacks are plain
/// functions that find this object through user_data.
struct recorder {
  struct event {
    bool ok;
    json value;
  };
  std::mutex mutex;
  std::vector<event> events;

  static void on_success(const char* result_json, void* user_data) {
    auto& self = *static_cast<recorder*>(user_data);
    std::lock_guard<std::mutex> lock{self.mutex};
    self.events.push_back({true, json::parse(result_json)});
  }
  static void on_error(const char* error_json, void* user_data) {
    auto& self = *static_cast<recorder*>(user_data);
    std::lock_guard<std::mutex> lock{self.mutex};
    self.events.push_back({false, json::parse(error_json)});
  }
  std::vector<event> taken() {
    std::lock_guard<std::mutex> lock{mutex};
    return events;
  }
};

std::string read_file(const char* path) {
  std::ifstream in{path};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct fixture {
  /// Answers stay alive for the whole test: CAF_CHECK_EQUAL binds references.
  std::deque<answer> kept;
  mxsync_client* client = nullptr;

  fixture() {
    char* error = nullptr;
    if (mxsync_client_create(fixture_config, ":memory:", nullptr, &client, &error) != 0)
      CAF_FAIL("client_create failed: " << (error ? error : "?"));
  }
  ~fixture() { mxsync_client_destroy(client); }

  /// Runs a blocking call `call(char** out)` and parses (then frees) what it handed out.
  template <class Call>
  const answer& run(Call&& call) {
    char* out = nullptr;
    int code = call(&out);
    answer a{code, out ? json::parse(out) : json{}};
    mxsync_free_string(out);
    return kept.emplace_back(std::move(a));
  }

  /// The value of a call that must succeed.
  template <class Call>
  const json& value(Call&& call) {
    const auto& a = run(std::forward<Call>(call));
    if (a.code != 0)
      CAF_FAIL("call failed: " << a.code << " " << a.value.dump());
    return a.value;
  }

  /// The error object of a call that must fail with `code`.
  template <class Call>
  const json& error(int code, Call&& call) {
    const auto& a = run(std::forward<Call>(call));
    CAF_CHECK_EQUAL(a.code, code);
    CAF_CHECK(a.value.contains("errorCode") && a.value.contains("errorMessage")
              && a.value.contains("errorInfo"));
    CAF_CHECK_EQUAL(a.value.value("errorCode", std::string{}), std::to_string(code));
    return a.value;
  }

  void init() {
    value([&](char** out) { return mxsync_init(client, out); });
  }
};

std::string order(const std::string& id, const std::string& status = "New") {
  return json{{"orderId", id}, {"customerId", "C-" + id}, {"status", status}}.dump();
}

/// A loopback port nothing listens on: bound, then closed again.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(c_api_tests, fixture)

CAF_TEST(clients come from a config file or JSON text and share an environment) {
  mxsync_environment* environment = nullptr;
  char* error = nullptr;
  CAF_REQUIRE_EQUAL(mxsync_environment_create(2, &environment, &error), 0);
  CAF_CHECK(error == nullptr);
  mxsync_client* from_file = nullptr;
  CAF_REQUIRE_EQUAL(mxsync_client_create(fixture_config, nullptr, environment, &from_file, &error),
                    0);
  auto text = read_file(fixture_config);
  mxsync_client* from_text = nullptr;
  CAF_REQUIRE_EQUAL(
    mxsync_client_create_from_json(text.c_str(), ":memory:", environment, &from_text, &error), 0);
  // The clients keep the environment alive after the caller's handle is gone.
  mxsync_environment_destroy(environment);
  auto created = value([&](char** out) { return mxsync_init(from_text, out); });
  CAF_CHECK_EQUAL(created["created"], true);
  value([&](char** out) { return mxsync_init(from_file, out); });
  value([&](char** out) { return mxsync_object_create(from_file, "WorkOrder", order("1").c_str(), 1, out); });
  auto in_text = value([&](char** out) { return mxsync_object_get_all_count(from_text, "WorkOrder", out); });
  CAF_CHECK_EQUAL(in_text["count"], 0); // separate in-memory databases
  mxsync_client_destroy(from_file);
  mxsync_client_destroy(from_text);
  mxsync_environment_destroy(nullptr);
  mxsync_client_destroy(nullptr);
}

CAF_TEST(client creation reports every failure as an error object) {
  mxsync_client* none = nullptr;
  error(7027, [&](char** out) { return mxsync_client_create(nullptr, nullptr, nullptr, &none, out); });
  CAF_CHECK(none == nullptr);
  error(7027, [&](char** out) {
    return mxsync_client_create(fixture_config, nullptr, nullptr, nullptr, out);
  });
  auto& bad = error(7023, [&](char** out) {
    return mxsync_client_create_from_json("{not json", nullptr, nullptr, &none, out);
  });
  CAF_CHECK_EQUAL(bad["errorInfo"]["argument"], "config_json");
  error(7004, [&](char** out) {
    return mxsync_client_create_from_json("{}", nullptr, nullptr, &none, out);
  });
  error(7004, [&](char** out) {
    return mxsync_client_create("/nonexistent/config.json", nullptr, nullptr, &none, out);
  });
  CAF_CHECK(none == nullptr);
  // No out_error: the code alone.
  CAF_CHECK_EQUAL(mxsync_client_create(nullptr, nullptr, nullptr, &none, nullptr), 7027);
  mxsync_environment* environment = nullptr;
  CAF_CHECK_EQUAL(mxsync_environment_create(0, nullptr, nullptr), 7027);
  CAF_CHECK(environment == nullptr);
}

CAF_TEST(application level calls in blocking form) {
  error(7777, [&](char** out) { return mxsync_get_pending_upload(client, out); }); // before init
  init();
  auto again = value([&](char** out) { return mxsync_init(client, out); });
  CAF_CHECK_EQUAL(again["created"], false);
  value([&](char** out) { return mxsync_object_create(client, "WorkOrder", order("1").c_str(), 1, out); });
  value([&](char** out) { return mxsync_object_create(client, "WorkOrder", order("2").c_str(), 0, out); });
  auto pending = value([&](char** out) { return mxsync_get_pending_upload(client, out); });
  CAF_CHECK_EQUAL(pending["totalCount"], 1);
  auto deferred = value([&](char** out) { return mxsync_get_deferred_upload(client, out); });
  CAF_CHECK_EQUAL(deferred["totalCount"], 1);
  auto acks = value([&](char** out) { return mxsync_get_pending_acknowledgement(client, out); });
  CAF_CHECK_EQUAL(acks["totalCount"], 0);
  auto rows = value([&](char** out) {
    return mxsync_execute_select_query(client, "select orderId from WorkOrder order by orderId", out);
  });
  CAF_REQUIRE_EQUAL(rows.size(), 2u);
  CAF_CHECK_EQUAL(rows[1]["orderId"], "2");
  auto rolled = value([&](char** out) { return mxsync_rollback_pending_local_changes(client, out); });
  CAF_CHECK_EQUAL(rolled["rowsrolledback"], 2);
  value([&](char** out) { return mxsync_object_create(client, "WorkOrder", order("3").c_str(), 1, out); });
  value([&](char** out) { return mxsync_reset_scope(client, "FSPersistentScope", out); });
  error(7030, [&](char** out) { return mxsync_reset_scope(client, "NoSuchScope", out); });
  value([&](char** out) { return mxsync_object_create(client, "WorkOrder", order("4").c_str(), 1, out); });
  value([&](char** out) { return mxsync_reset(client, out); });
  auto count = value([&](char** out) { return mxsync_object_get_all_count(client, "WorkOrder", out); });
  CAF_CHECK_EQUAL(count["count"], 0);
  auto tree = value([&](char** out) { return mxsync_status(client, out); });
  CAF_CHECK(tree.is_object() && tree.contains("name"));
  CAF_CHECK_EQUAL(mxsync_flush(client), 0);
  // A blocking call may skip the out parameter.
  CAF_CHECK_EQUAL(mxsync_init(client, nullptr), 0);
  CAF_CHECK_EQUAL(mxsync_reset_scope(client, "NoSuchScope", nullptr), 7030);
}

CAF_TEST(every ORM call round trips through JSON text) {
  init();
  const char* orders = "WorkOrder";
  auto key = value([&](char** out) { return mxsync_object_create(client, orders, order("1").c_str(), 1, out); });
  CAF_CHECK_EQUAL(key["orderId"], "1");
  auto rows = json::array({json::parse(order("2")), json::parse(order("3"))}).dump();
  auto keys = value([&](char** out) { return mxsync_object_create_all(client, orders, rows.c_str(), 1, out); });
  CAF_CHECK_EQUAL(keys.size(), 2u);
  value([&](char** out) { return mxsync_object_create(client, orders, order("4").c_str(), 0, out); });
  auto detail = R"({"orderId": "1", "serviceStatus": "open"})";
  value([&](char** out) { return mxsync_object_create(client, "workorderdetails", detail, 1, out); });

  auto all = value([&](char** out) { return mxsync_object_get_all_count(client, orders, out); });
  CAF_CHECK_EQUAL(all["count"], 4);
  auto news = value([&](char** out) { return mxsync_object_get_count(client, orders, "status = ?", R"(["New"])", out); });
  CAF_CHECK_EQUAL(news["count"], 4);
  auto updated = value([&](char** out) {
    return mxsync_object_update_by_pk(client, orders, R"("2")", R"({"status": "Done"})", 1, out);
  });
  CAF_CHECK_EQUAL(updated["rowsupdated"], 1);
  auto where_updated = value([&](char** out) {
    return mxsync_object_update(client, orders, "orderId = ?", R"(["3"])", R"({"status": "Done"})", 1, out);
  });
  CAF_CHECK_EQUAL(where_updated["rowsupdated"], 1);
  auto changes = R"([{"changeSet": {"priority": "1"}, "whereClause": "status = 'Done'"}])";
  auto all_updated = value([&](char** out) { return mxsync_object_update_all(client, orders, changes, 1, out); });
  CAF_CHECK_EQUAL(all_updated["rowsupdated"], 2);
  auto done = value([&](char** out) { return mxsync_object_find(client, orders, "status = 'Done'", nullptr, out); });
  CAF_CHECK_EQUAL(done.size(), 2u);
  auto sorted = value([&](char** out) {
    return mxsync_object_get_all(client, orders, R"([{"key": "orderId", "sortType": "desc"}])", 2, -1, out);
  });
  CAF_REQUIRE_EQUAL(sorted.size(), 2u);
  CAF_CHECK_EQUAL(sorted[0]["orderId"], "4");
  auto skipped = value([&](char** out) { return mxsync_object_get_all(client, orders, nullptr, -1, 3, out); });
  CAF_CHECK_EQUAL(skipped.size(), 1u);
  auto one = value([&](char** out) { return mxsync_object_get_all_details_by_pk(client, orders, R"({"orderId": "1"})", out); });
  CAF_REQUIRE_EQUAL(one.size(), 1u);
  CAF_CHECK_EQUAL(one[0]["customerId"], "C-1");

  auto related = value([&](char** out) {
    return mxsync_object_get_related(client, orders, "WorkOrderDetails", R"("1")", nullptr, out);
  });
  CAF_CHECK_EQUAL(related.size(), 1u);
  auto related_count = value([&](char** out) {
    return mxsync_object_get_related_count(client, orders, "WorkOrderDetails", R"("1")", nullptr, out);
  });
  CAF_CHECK_EQUAL(related_count["count"], 1);

  auto is_deferred = value([&](char** out) { return mxsync_object_is_record_deferred_for_upload(client, orders, R"("4")", out); });
  CAF_CHECK_EQUAL(is_deferred, true);
  auto is_pending = value([&](char** out) { return mxsync_object_is_record_pending_for_upload(client, orders, R"("1")", out); });
  CAF_CHECK_EQUAL(is_pending, true);
  auto deferred = value([&](char** out) { return mxsync_object_get_deferred_upload(client, orders, nullptr, nullptr, out); });
  CAF_CHECK_EQUAL(deferred.size(), 1u);
  auto pending = value([&](char** out) { return mxsync_object_get_pending_upload(client, orders, nullptr, nullptr, out); });
  CAF_CHECK_EQUAL(pending.size(), 3u);
  auto acks = value([&](char** out) { return mxsync_object_get_pending_acknowledgement(client, orders, out); });
  CAF_CHECK_EQUAL(acks.size(), 0u);
  auto marked = value([&](char** out) { return mxsync_object_mark_for_upload_by_pk(client, orders, R"("4")", out); });
  CAF_CHECK_EQUAL(marked["rowsmarked"], 1);
  auto none_marked = value([&](char** out) { return mxsync_object_mark_for_upload(client, orders, "orderId = ?", R"(["4"])", out); });
  CAF_CHECK_EQUAL(none_marked["rowsmarked"], 0);
  auto pending4 = value([&](char** out) { return mxsync_object_get_pending_upload(client, orders, "orderId = '4'", nullptr, out); });
  CAF_CHECK_EQUAL(pending4.size(), 1u);

  auto local = value([&](char** out) { return mxsync_object_remove_device_instance_by_pk(client, "WorkOrderDetails", R"("1")", out); });
  CAF_CHECK_EQUAL(local["rowsdeleted"], 1);
  auto deleted = value([&](char** out) { return mxsync_object_delete_by_pk(client, orders, R"("3")", 1, out); });
  CAF_CHECK_EQUAL(deleted["rowsdeleted"], 1);
  auto removed = value([&](char** out) { return mxsync_object_remove(client, orders, "orderId = ?", R"(["2"])", 1, out); });
  CAF_CHECK_EQUAL(removed["rowsdeleted"], 1);
  auto rolled_one = value([&](char** out) { return mxsync_object_rollback_pending_local_changes_by_pk(client, orders, R"("1")", out); });
  CAF_CHECK_EQUAL(rolled_one["rowsrolledback"], 1);
  auto local_where = value([&](char** out) { return mxsync_object_remove_device_instance(client, orders, "orderId = '4'", nullptr, out); });
  CAF_CHECK_EQUAL(local_where["rowsdeleted"], 1);
  auto rolled = value([&](char** out) { return mxsync_object_rollback_pending_local_changes(client, orders, out); });
  CAF_CHECK_EQUAL(rolled["rowsrolledback"], 2);
  auto left = value([&](char** out) { return mxsync_object_get_all_count(client, orders, out); });
  CAF_CHECK_EQUAL(left["count"], 0);
}

CAF_TEST(callback forms pass user_data and run in call order) {
  recorder events;
  mxsync_init_async(client, recorder::on_success, recorder::on_error, &events);
  mxsync_object_create_async(client, "WorkOrder", order("1").c_str(), 1, recorder::on_success,
                             recorder::on_error, &events);
  mxsync_object_create_async(client, "WorkOrder", order("1").c_str(), 1, recorder::on_success,
                             recorder::on_error, &events); // duplicate key
  mxsync_object_create_async(client, "NoSuchTable", order("1").c_str(), 1, recorder::on_success,
                             recorder::on_error, &events); // argument error: still in order
  mxsync_object_find_async(client, "WorkOrder", "orderId = ?", R"(["1"])", recorder::on_success,
                           recorder::on_error, &events);
  mxsync_object_get_all_async(client, "WorkOrder", "[not json", -1, -1, recorder::on_success,
                              recorder::on_error, &events);
  mxsync_get_pending_upload_async(client, recorder::on_success, recorder::on_error, &events);
  mxsync_execute_select_query_async(client, "select 1 as one", recorder::on_success,
                                    recorder::on_error, &events);
  mxsync_object_get_all_count_async(client, "WorkOrder", nullptr, nullptr, nullptr); // no callbacks
  CAF_REQUIRE_EQUAL(mxsync_flush(client), 0);
  auto seen = events.taken();
  CAF_REQUIRE_EQUAL(seen.size(), 8u);
  CAF_CHECK(seen[0].ok);
  CAF_CHECK_EQUAL(seen[0].value["created"], true);
  CAF_CHECK(seen[1].ok);
  CAF_CHECK_EQUAL(seen[1].value["orderId"], "1");
  CAF_CHECK(!seen[2].ok);
  CAF_CHECK_EQUAL(seen[2].value["errorCode"], "7016");
  CAF_CHECK(!seen[3].ok);
  CAF_CHECK_EQUAL(seen[3].value["errorCode"], "7031");
  CAF_CHECK(seen[4].ok);
  CAF_CHECK_EQUAL(seen[4].value.size(), 1u);
  CAF_CHECK(!seen[5].ok);
  CAF_CHECK_EQUAL(seen[5].value["errorCode"], "7023");
  CAF_CHECK(seen[6].ok);
  CAF_CHECK_EQUAL(seen[6].value["totalCount"], 1);
  CAF_CHECK(seen[7].ok);
  CAF_CHECK_EQUAL(seen[7].value[0]["one"], 1);
}

CAF_TEST(each async call of every group answers exactly once) {
  recorder events;
  auto s = recorder::on_success;
  auto e = recorder::on_error;
  void* u = &events;
  mxsync_init_async(client, s, e, u);
  mxsync_object_create_async(client, "WorkOrder", order("1").c_str(), 0, s, e, u);
  mxsync_object_create_all_async(client, "WorkOrder", json::array({json::parse(order("2")), json::parse(order("3"))}).dump().c_str(), 1, s, e, u);
  mxsync_object_update_by_pk_async(client, "WorkOrder", R"("1")", R"({"status": "x"})", 0, s, e, u);
  mxsync_object_update_async(client, "WorkOrder", "orderId = '2'", nullptr, R"({"status": "y"})", 1, s, e, u);
  mxsync_object_update_all_async(client, "WorkOrder", "[]", 1, s, e, u);
  mxsync_object_get_all_async(client, "WorkOrder", nullptr, -1, -1, s, e, u);
  mxsync_object_get_count_async(client, "WorkOrder", "1 = 1", nullptr, s, e, u);
  mxsync_object_get_all_details_by_pk_async(client, "WorkOrder", R"("1")", s, e, u);
  mxsync_object_is_record_deferred_for_upload_async(client, "WorkOrder", R"("1")", s, e, u);
  mxsync_object_is_record_pending_for_upload_async(client, "WorkOrder", R"("2")", s, e, u);
  mxsync_object_mark_for_upload_by_pk_async(client, "WorkOrder", R"("1")", s, e, u);
  mxsync_object_mark_for_upload_async(client, "WorkOrder", "orderId = '1'", nullptr, s, e, u);
  mxsync_object_get_pending_upload_async(client, "WorkOrder", nullptr, nullptr, s, e, u);
  mxsync_object_get_deferred_upload_async(client, "WorkOrder", nullptr, nullptr, s, e, u);
  mxsync_object_get_pending_acknowledgement_async(client, "WorkOrder", s, e, u);
  mxsync_object_get_related_async(client, "WorkOrder", "WorkOrderDetails", R"("1")", nullptr, s, e, u);
  mxsync_object_get_related_count_async(client, "WorkOrder", "WorkOrderDetails", R"("1")", nullptr, s, e, u);
  mxsync_object_rollback_pending_local_changes_by_pk_async(client, "WorkOrder", R"("1")", s, e, u);
  mxsync_object_delete_by_pk_async(client, "WorkOrder", R"("2")", 1, s, e, u);
  mxsync_object_remove_async(client, "WorkOrder", "orderId = '9'", nullptr, 1, s, e, u);
  mxsync_object_remove_device_instance_by_pk_async(client, "WorkOrder", R"("3")", s, e, u);
  mxsync_object_remove_device_instance_async(client, "WorkOrder", "orderId = '9'", nullptr, s, e, u);
  mxsync_object_rollback_pending_local_changes_async(client, "WorkOrder", s, e, u);
  mxsync_get_pending_acknowledgement_async(client, s, e, u);
  mxsync_get_deferred_upload_async(client, s, e, u);
  mxsync_rollback_pending_local_changes_async(client, s, e, u);
  mxsync_reset_scope_async(client, "FSPersistentScope", s, e, u);
  mxsync_reset_async(client, s, e, u);
  CAF_REQUIRE_EQUAL(mxsync_flush(client), 0);
  mxsync_stop_session_async(client, s, e, u);
  CAF_REQUIRE_EQUAL(mxsync_flush(client), 0);
  auto seen = events.taken();
  CAF_REQUIRE_EQUAL(seen.size(), 30u);
  for (size_t i = 0; i < seen.size(); ++i)
    if (!seen[i].ok)
      CAF_FAIL("call " << i << " failed: " << seen[i].value.dump());
  CAF_CHECK_EQUAL(seen[9].value, true);   // record 1 deferred
  CAF_CHECK_EQUAL(seen[10].value, true);  // record 2 pending
  CAF_CHECK_EQUAL(seen[29].value.value("stopped", true), false); // no session was running
}

CAF_TEST(bad JSON and null arguments are refused with 7023 and 7027) {
  init();
  error(7027, [&](char** out) { return mxsync_init(nullptr, out); });
  error(7027, [&](char** out) { return mxsync_status(nullptr, out); });
  CAF_CHECK_EQUAL(mxsync_flush(nullptr), 7027);
  error(7027, [&](char** out) { return mxsync_object_create(nullptr, "WorkOrder", "{}", 1, out); });
  error(7027, [&](char** out) { return mxsync_object_create(client, nullptr, "{}", 1, out); });
  auto& no_values = error(7027, [&](char** out) { return mxsync_object_create(client, "WorkOrder", nullptr, 1, out); });
  CAF_CHECK_EQUAL(no_values["errorInfo"]["argument"], "values_json");
  auto& bad_values = error(7023, [&](char** out) { return mxsync_object_create(client, "WorkOrder", "{\"orderId\":", 1, out); });
  CAF_CHECK_EQUAL(bad_values["errorInfo"]["argument"], "values_json");
  error(7023, [&](char** out) { return mxsync_object_create_all(client, "WorkOrder", "{}", 1, out); });
  error(7023, [&](char** out) { return mxsync_object_update_by_pk(client, "WorkOrder", "'1'", "{}", 1, out); });
  error(7027, [&](char** out) { return mxsync_object_update(client, "WorkOrder", nullptr, nullptr, "{}", 1, out); });
  auto& bad_params = error(7023, [&](char** out) { return mxsync_object_find(client, "WorkOrder", "orderId = ?", R"({"a": 1})", out); });
  CAF_CHECK_EQUAL(bad_params["errorInfo"]["argument"], "params_json");
  // One value for two placeholders: 7019 with the counts, not an empty result.
  auto& too_few = error(7019, [&](char** out) {
    return mxsync_object_find(client, "WorkOrder", "orderId = ? or status = ?", R"(["1"])", out);
  });
  CAF_CHECK_EQUAL(too_few["errorInfo"]["placeholders"], 2);
  CAF_CHECK_EQUAL(too_few["errorInfo"]["values"], 1);
  error(7019, [&](char** out) {
    return mxsync_object_remove(client, "WorkOrder", "orderId = ?", nullptr, 1, out);
  });
  error(7027, [&](char** out) { return mxsync_object_find(client, "WorkOrder", nullptr, nullptr, out); });
  error(7027, [&](char** out) { return mxsync_object_remove(client, "WorkOrder", nullptr, nullptr, 1, out); });
  error(7027, [&](char** out) { return mxsync_object_get_count(client, "WorkOrder", nullptr, nullptr, out); });
  error(7027, [&](char** out) { return mxsync_object_get_pending_upload(client, "WorkOrder", nullptr, "[]", out); });
  error(7023, [&](char** out) { return mxsync_object_get_all(client, "WorkOrder", "[", -1, -1, out); });
  error(7027, [&](char** out) { return mxsync_object_get_related(client, "WorkOrder", nullptr, R"("1")", nullptr, out); });
  error(7027, [&](char** out) { return mxsync_object_get_related_count(client, "WorkOrder", "WorkOrderDetails", nullptr, nullptr, out); });
  error(7027, [&](char** out) { return mxsync_object_is_record_pending_for_upload(client, "WorkOrder", nullptr, out); });
  error(7027, [&](char** out) { return mxsync_execute_select_query(client, nullptr, out); });
  error(7027, [&](char** out) { return mxsync_reset_scope(client, nullptr, out); });
  error(7031, [&](char** out) { return mxsync_object_get_all_count(client, "NoSuchTable", out); });
  error(7027, [&](char** out) { return mxsync_stop_session(nullptr, out); });
  // A callback form with no client answers at once, on the calling thread.
  recorder events;
  mxsync_object_find_async(nullptr, "WorkOrder", "1 = 1", nullptr, recorder::on_success,
                           recorder::on_error, &events);
  mxsync_init_async(nullptr, recorder::on_success, recorder::on_error, &events);
  mxsync_init_async(nullptr, nullptr, nullptr, nullptr);
  auto seen = events.taken();
  CAF_REQUIRE_EQUAL(seen.size(), 2u);
  CAF_CHECK_EQUAL(seen[0].value["errorCode"], "7027");
  CAF_CHECK_EQUAL(seen[1].value["errorInfo"]["argument"], "client");
  mxsync_free_string(nullptr);
  // Nothing above disturbed the client.
  auto count = value([&](char** out) { return mxsync_object_get_all_count(client, "WorkOrder", out); });
  CAF_CHECK_EQUAL(count["count"], 0);
}

CAF_TEST(errors of the runtime arrive as error objects) {
  init();
  value([&](char** out) { return mxsync_object_create(client, "WorkOrder", order("1").c_str(), 1, out); });
  auto& duplicate = error(7016, [&](char** out) {
    return mxsync_object_create(client, "WorkOrder", order("1").c_str(), 1, out);
  });
  CAF_CHECK(duplicate["errorMessage"].is_string());
  error(7003, [&](char** out) { return mxsync_object_create(client, "WorkOrder", R"({"status": "x"})", 1, out); });
  error(7009, [&](char** out) {
    return mxsync_object_update_by_pk(client, "WorkOrder", R"("nope")", R"({"status": "x"})", 1, out);
  });
  auto refused = run([&](char** out) { return mxsync_execute_select_query(client, "delete from WorkOrder", out); });
  CAF_CHECK_NOT_EQUAL(refused.code, 0);
  CAF_CHECK_EQUAL(refused.value["errorCode"], std::to_string(refused.code));
}

CAF_TEST(sessions without a server) {
  init();
  auto stopped = value([&](char** out) { return mxsync_stop_session(client, out); });
  CAF_CHECK_EQUAL(stopped.value("stopped", true), false);
  error(7023, [&](char** out) { return mxsync_start_session(client, "{userid", nullptr, out); });
  auto& unknown_key = error(7777, [&](char** out) { // the C++ API's code for a bad key
    return mxsync_start_session(client, R"({"no_such_key": 1})", nullptr, out);
  });
  CAF_CHECK_EQUAL(unknown_key["errorInfo"]["key"], "no_such_key");
  error(7027, [&](char** out) { return mxsync_start_session(client, nullptr, nullptr, out); });
  error(7027, [&](char** out) { return mxsync_synchronize(nullptr, "{}", nullptr, out); });

  // A session against a port nothing listens on fails on onsyncerror, in order.
  struct observed {
    std::promise<json> failure;
    std::mutex mutex;
    std::vector<std::string> callbacks;
    void note(const char* name) {
      std::lock_guard<std::mutex> lock{mutex};
      callbacks.emplace_back(name);
    }
  } seen;
  mxsync_session_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof callbacks);
  callbacks.user_data = &seen;
  callbacks.onsyncstart = [](const char*, void* u) { static_cast<observed*>(u)->note("onsyncstart"); };
  callbacks.onsyncsuccess = [](const char*, void* u) { static_cast<observed*>(u)->note("onsyncsuccess"); };
  callbacks.onsyncerror = [](const char* error_json, void* u) {
    auto& self = *static_cast<observed*>(u);
    self.note("onsyncerror");
    self.failure.set_value(json::parse(error_json));
  };
  auto keys = json{{"userid", "u"},      {"password", "p"},
                   {"serverhost", "127.0.0.1"}, {"serverport", std::to_string(closed_port())},
                   {"networktimeout", 5}}
                .dump();
  char* start_error = nullptr;
  CAF_REQUIRE_EQUAL(mxsync_start_session(client, keys.c_str(), &callbacks, &start_error), 0);
  CAF_CHECK(start_error == nullptr);
  auto outcome = seen.failure.get_future();
  CAF_REQUIRE(outcome.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  auto failure = outcome.get();
  CAF_MESSAGE("onsyncerror: " << failure.dump());
  CAF_CHECK_EQUAL(failure.value("errorCode", std::string{}), "1016"); // cannot connect
  CAF_CHECK_EQUAL(mxsync_flush(client), 0);
  // Every lifecycle callback reached its C function, in order, and no success came.
  CAF_CHECK_EQUAL(seen.callbacks, std::vector<std::string>({"onsyncstart", "onsyncerror"}));

  // invokeservicefunction: the app's function makes the network call; a status other
  // than 400 is a failed call, which ends the session on onsyncerror.
  struct service_log {
    std::mutex mutex;
    std::vector<std::string> urls;
    bool params_are_json = true;
    std::promise<json> failure;
  } service;
  mxsync_session_callbacks by_app;
  std::memset(&by_app, 0, sizeof by_app);
  by_app.user_data = &service;
  by_app.invokeservicefunction = [](const char* url, const char* params_json, const char*,
                                    mxsync_service_call* call, void* u) {
    auto& self = *static_cast<service_log*>(u);
    {
      std::lock_guard<std::mutex> lock{self.mutex};
      self.urls.emplace_back(url);
      self.params_are_json = self.params_are_json && json::accept(params_json);
    }
    // Answered from another thread, as a real HTTP stack would.
    std::thread{[call] { mxsync_service_call_complete(call, 0, nullptr); }}.detach();
  };
  by_app.onsyncerror = [](const char* error_json, void* u) {
    static_cast<service_log*>(u)->failure.set_value(json::parse(error_json));
  };
  CAF_REQUIRE_EQUAL(mxsync_start_session(client, keys.c_str(), &by_app, nullptr), 0);
  auto app_outcome = service.failure.get_future();
  CAF_REQUIRE(app_outcome.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  CAF_CHECK_NOT_EQUAL(app_outcome.get().value("errorCode", std::string{"0"}), "0");
  CAF_CHECK_EQUAL(mxsync_flush(client), 0);
  CAF_CHECK(!service.urls.empty());
  CAF_CHECK(service.params_are_json);
  mxsync_service_call_complete(nullptr, 400, "{}"); // NULL is ignored

  // The blocking form answers with the same error.
  auto blocking = run([&](char** out) { return mxsync_synchronize(client, keys.c_str(), nullptr, out); });
  CAF_CHECK_EQUAL(blocking.code, 1016);
  CAF_CHECK_EQUAL(blocking.value["errorCode"], std::to_string(blocking.code));
}

CAF_TEST(a session held by the service function of the app: second start and stop) {
  init();
  // The app's invokeservicefunction keeps the first network call pending: the session
  // stays running without any server.
  struct held_session {
    std::mutex mutex;
    std::condition_variable changed;
    mxsync_service_call* pending = nullptr;
    std::vector<std::string> ends; // onsyncsuccess / onsyncerror of the held session
    std::promise<json> second_start;
  } held;
  mxsync_session_callbacks first;
  std::memset(&first, 0, sizeof first);
  first.user_data = &held;
  first.invokeservicefunction = [](const char*, const char*, const char*,
                                   mxsync_service_call* call, void* u) {
    auto& self = *static_cast<held_session*>(u);
    std::lock_guard<std::mutex> lock{self.mutex};
    self.pending = call;
    self.changed.notify_all();
  };
  first.onsyncsuccess = [](const char*, void* u) {
    auto& self = *static_cast<held_session*>(u);
    std::lock_guard<std::mutex> lock{self.mutex};
    self.ends.emplace_back("onsyncsuccess");
  };
  first.onsyncerror = [](const char*, void* u) {
    auto& self = *static_cast<held_session*>(u);
    std::lock_guard<std::mutex> lock{self.mutex};
    self.ends.emplace_back("onsyncerror");
  };
  auto keys = json{{"userid", "u"}, {"password", "p"}, {"serverhost", "127.0.0.1"}}.dump();
  CAF_REQUIRE_EQUAL(mxsync_start_session(client, keys.c_str(), &first, nullptr), 0);
  mxsync_service_call* call = nullptr;
  {
    std::unique_lock<std::mutex> lock{held.mutex};
    held.changed.wait_for(lock, std::chrono::seconds(60), [&] { return held.pending != nullptr; });
    call = held.pending;
  }
  CAF_REQUIRE(call != nullptr);

  mxsync_session_callbacks second;
  std::memset(&second, 0, sizeof second);
  second.user_data = &held;
  second.onsyncerror = [](const char* error_json, void* u) {
    static_cast<held_session*>(u)->second_start.set_value(json::parse(error_json));
  };
  CAF_REQUIRE_EQUAL(mxsync_start_session(client, keys.c_str(), &second, nullptr), 0);
  auto refused = held.second_start.get_future();
  CAF_REQUIRE(refused.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  CAF_CHECK_EQUAL(refused.get().value("errorCode", std::string{}), "7008"); // session in progress

  recorder stop;
  mxsync_stop_session_async(client, recorder::on_success, recorder::on_error, &stop);
  // The call in flight completes (here: fails), then the session stops.
  mxsync_service_call_complete(call, 0, nullptr);
  CAF_REQUIRE_EQUAL(mxsync_flush(client), 0);
  for (int i = 0; i < 600 && stop.taken().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto answers = stop.taken();
  CAF_REQUIRE_EQUAL(answers.size(), 1u);
  CAF_MESSAGE("stopSession: " << answers[0].value.dump());
  CAF_CHECK(answers[0].ok);
  // The stop was recorded before the call failed: the session ends as stopped, with the
  // stop callback as its one terminal event.
  CAF_CHECK_EQUAL(answers[0].value, json({{"stopped", true}}));
  std::lock_guard<std::mutex> lock{held.mutex};
  CAF_CHECK(held.ends.empty());
}

CAF_TEST(a session releases its user_data exactly once for success and error and stop) {
  init();
  // What an app keeps in user_data: released exactly once, on the session's terminal
  // event (docs/c-api.md). The service function answers every call in-process; with
  // `hold` it keeps the first call until the test completes it.
  struct box {
    std::atomic<int> releases{0};
    std::atomic<int> terminal{0}; // onsyncsuccess / onsyncerror
    bool fail = false;
    bool hold = false;
    std::mutex mutex;
    std::condition_variable changed;
    mxsync_service_call* held = nullptr;
  };
  auto release = [](void* u) { ++static_cast<box*>(u)->releases; };
  auto callbacks_for = [&](box& b) {
    mxsync_session_callbacks c;
    std::memset(&c, 0, sizeof c);
    c.user_data = &b;
    c.invokeservicefunction = [](const char* url, const char*, const char*,
                                 mxsync_service_call* call, void* u) {
      auto& self = *static_cast<box*>(u);
      std::string at{url};
      if (self.hold && at.find("download") != std::string::npos) {
        std::lock_guard<std::mutex> lock{self.mutex};
        if (!self.held) {
          self.held = call;
          self.changed.notify_all();
          return;
        }
      }
      if (at.find("registerdevice") != std::string::npos)
        mxsync_service_call_complete(
          call, 400, R"({"opstatus":0,"d":{"error":"false","__registerdevice":{"instanceID":"i1"}}})");
      else if (self.fail)
        mxsync_service_call_complete(call, 0, nullptr);
      else if (at.find("upload") != std::string::npos)
        mxsync_service_call_complete(
          call, 400, R"({"opstatus":0,"d":{"error":"false","results":[],"__sync":{"serverblob":"u1"}}})");
      else
        mxsync_service_call_complete(call, 400,
                                     R"({"opstatus":0,"d":{"error":"false","results":[],)"
                                     R"("__sync":{"serverblob":"d1","moreChangesAvailable":false,"pendingBatches":0}}})");
    };
    c.onsyncsuccess = [](const char*, void* u) { ++static_cast<box*>(u)->terminal; };
    c.onsyncerror = [](const char*, void* u) { ++static_cast<box*>(u)->terminal; };
    c.release = release;
    return c;
  };
  auto keys = json{{"userid", "u"}, {"password", "p"}, {"serverhost", "sync.invalid"}}.dump();

  box succeeded;
  auto c1 = callbacks_for(succeeded);
  CAF_REQUIRE_EQUAL(mxsync_start_session(client, keys.c_str(), &c1, nullptr), 0);
  CAF_REQUIRE_EQUAL(mxsync_flush(client), 0);
  for (int i = 0; i < 600 && succeeded.terminal == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CAF_REQUIRE_EQUAL(mxsync_flush(client), 0);
  CAF_CHECK_EQUAL(succeeded.releases.load(), 1);

  box failed;
  failed.fail = true;
  auto c2 = callbacks_for(failed);
  char* out = nullptr;
  CAF_CHECK_NOT_EQUAL(mxsync_synchronize(client, keys.c_str(), &c2, &out), 0);
  mxsync_free_string(out);
  CAF_REQUIRE_EQUAL(mxsync_flush(client), 0);
  CAF_CHECK_EQUAL(failed.releases.load(), 1);

  box stopped;
  stopped.hold = true;
  auto c3 = callbacks_for(stopped);
  CAF_REQUIRE_EQUAL(mxsync_start_session(client, keys.c_str(), &c3, nullptr), 0);
  mxsync_service_call* call = nullptr;
  {
    std::unique_lock<std::mutex> lock{stopped.mutex};
    stopped.changed.wait_for(lock, std::chrono::seconds(60), [&] { return stopped.held != nullptr; });
    call = stopped.held;
  }
  CAF_REQUIRE(call != nullptr);
  recorder stop;
  mxsync_stop_session_async(client, recorder::on_success, recorder::on_error, &stop);
  // The download in flight completes with more to come; the stop ends the session there.
  mxsync_service_call_complete(call, 400,
                               R"({"opstatus":0,"d":{"error":"false","results":[],)"
                               R"("__sync":{"serverblob":"d1","moreChangesAvailable":true,"pendingBatches":1}}})");
  for (int i = 0; i < 600 && stop.taken().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CAF_REQUIRE_EQUAL(mxsync_flush(client), 0);
  auto answers = stop.taken();
  CAF_REQUIRE_EQUAL(answers.size(), 1u);
  CAF_CHECK_EQUAL(answers[0].value, json({{"stopped", true}}));
  CAF_CHECK_EQUAL(stopped.terminal.load(), 0); // a stopped session: neither success nor error
  CAF_CHECK_EQUAL(stopped.releases.load(), 1);
  CAF_CHECK_EQUAL(succeeded.releases.load(), 1);
  CAF_CHECK_EQUAL(failed.releases.load(), 1);

  // Refused at once (keys that do not parse): released before the call returns.
  box unparsed;
  auto c4 = callbacks_for(unparsed);
  CAF_CHECK_EQUAL(mxsync_start_session(client, "{userid", &c4, nullptr), 7023);
  CAF_CHECK_EQUAL(unparsed.releases.load(), 1);
  box unparsed_blocking;
  auto c5 = callbacks_for(unparsed_blocking);
  CAF_CHECK_EQUAL(mxsync_synchronize(client, "{userid", &c5, nullptr), 7023);
  CAF_CHECK_EQUAL(unparsed_blocking.releases.load(), 1);
  // Refused by the runtime (7008: a session runs): onsyncerror, then the release.
  box running;
  running.hold = true;
  auto c6 = callbacks_for(running);
  CAF_REQUIRE_EQUAL(mxsync_start_session(client, keys.c_str(), &c6, nullptr), 0);
  {
    std::unique_lock<std::mutex> lock{running.mutex};
    running.changed.wait_for(lock, std::chrono::seconds(60), [&] { return running.held != nullptr; });
    call = running.held;
  }
  CAF_REQUIRE(call != nullptr);
  box second;
  auto c7 = callbacks_for(second);
  CAF_CHECK_EQUAL(mxsync_synchronize(client, keys.c_str(), &c7, nullptr), 7008);
  CAF_CHECK_EQUAL(second.terminal.load(), 1);
  CAF_CHECK_EQUAL(second.releases.load(), 1); // before mxsync_synchronize returned
  mxsync_service_call_complete(call, 400,
                               R"({"opstatus":0,"d":{"error":"false","results":[],)"
                               R"("__sync":{"serverblob":"d2","moreChangesAvailable":false,"pendingBatches":0}}})");
  for (int i = 0; i < 600 && running.releases == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CAF_REQUIRE_EQUAL(mxsync_flush(client), 0);
  CAF_CHECK_EQUAL(running.terminal.load(), 1);
  CAF_CHECK_EQUAL(running.releases.load(), 1);
}

CAF_TEST_FIXTURE_SCOPE_END()
