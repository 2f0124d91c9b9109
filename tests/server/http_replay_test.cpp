// Replays every request the real client library sent (tests/fixtures/real-client-
// requests/*.jsonl) against the real server on a fresh store, as JSON and as a
// form, and checks each answer against docs/protocol.md (sections 1 and 8). The
// recorder's data differs from ours, so shapes and semantics are compared, not
// bytes: values the recorder issued (instance id, serverblobs) are replaced in
// later requests by the ones this server issued, as the real client would do.
#define CAF_SUITE http_replay
#include <caf/test/unit_test.hpp>

#include "http_test_support.hpp"
#include "server/admin.hpp"

#include <filesystem>
#include <set>

using namespace mxsync;
using namespace mxsync::server;
using namespace mxsync::test;
using json = nlohmann::json;

namespace {

struct recorded_request {
  std::string path;
  std::string raw_body;
  json params;
  json decoded;
  json response; ///< what the recorder answered (and the real client accepted)
};

std::vector<recorded_request> load_scenario(const std::string& name) {
  std::vector<recorded_request> requests;
  std::istringstream lines(read_text(fixture_path("real-client-requests/" + name + ".jsonl")));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    auto record = json::parse(line);
    requests.push_back({record["path"], record["rawBody"], record["params"], record["decoded"], record["response"]});
  }
  return requests;
}

/// The server rows the recorder handed out (orderId SRV-...): our store is
/// seeded with them so that downloads have server data to deliver.
json recorder_server_rows(const std::vector<recorded_request>& requests) {
  json rows = json::array();
  std::set<std::string> seen;
  for (const auto& request : requests) {
    for (const auto& row : request.response["d"].value("results", json::array())) {
      if (row.contains("konysyncMergedWithEIS") || !row.contains("orderId") || !row.contains("status")) continue;
      auto id = row["orderId"].get<std::string>();
      if (id.rfind("SRV-", 0) != 0 || !seen.insert(id).second) continue;
      json values = row;
      values.erase("__metadata");
      values.erase("konysynchashsum");
      rows.push_back(values);
    }
  }
  return rows;
}

/// The fixture config, with the scope's strategy switched when a scenario was
/// recorded with another one (sc13-ota-ack runs the scope as OTA_SYNC).
std::unique_ptr<sync_config> config_for(const std::vector<recorded_request>& requests) {
  auto source = json::parse(read_text(fixture_path("workorder-sync-config.json")));
  for (const auto& request : requests) {
    if (request.params.contains("strategy")) {
      for (auto& scope : source["ArrayOfSyncScope"]) scope["Strategy"] = request.params["strategy"];
      break;
    }
  }
  return std::make_unique<sync_config>(sync_config::parse(source));
}

std::string text_of(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

/// Swaps values the recorder issued for the ones this server issued.
class issued_values {
public:
  void learn(const json& recorded, const json& ours) {
    if (recorded.is_string() && ours.is_string()) map_[recorded.get<std::string>()] = ours.get<std::string>();
  }
  std::string swap(const std::string& value) const {
    auto found = map_.find(value);
    return found == map_.end() ? value : found->second;
  }
  /// The request's parameters with issued values swapped (also inside UploadRequest).
  json rewrite(const recorded_request& request) const {
    json params = request.params;
    for (const auto* name : {"tickcount", "instanceid"})
      if (params.contains(name)) params[name] = swap(params[name].get<std::string>());
    if (request.decoded.contains("UploadRequest")) {
      auto upload = request.decoded["UploadRequest"];
      if (upload["d"].contains("serverBlob")) upload["d"]["serverBlob"] = swap(upload["d"]["serverBlob"]);
      params["UploadRequest"] = upload.dump();
    }
    return params;
  }

private:
  std::map<std::string, std::string> map_;
};

void check_common(const http_answer& answer, const std::string& where) {
  CAF_MESSAGE(where);
  CAF_CHECK_EQUAL(answer.status, 200);
  CAF_CHECK_EQUAL(answer.content_type, "application/json; charset=utf-8");
  CAF_REQUIRE(answer.body.is_object());
  CAF_CHECK_EQUAL(answer.body["opstatus"], 0);
  const auto& d = answer.body["d"];
  CAF_REQUIRE(d.is_object());
  if (d["error"] != "false") CAF_MESSAGE("answer: " << answer.raw.substr(0, 1000));
  CAF_REQUIRE_EQUAL(d["error"], "false");
  CAF_CHECK(d["server"]["hostName"].is_string());
  CAF_CHECK(d["server"]["ipAddress"].is_string());
}

std::string key_of(const json& row) {
  auto type = row["__metadata"]["type"].get<std::string>();
  return type + "/" + text_of(type == "Part" ? row.value("partId", json{}) : row.value("orderId", json{}));
}

bool is_ack(const json& row) {
  return row.contains("konysyncMergedWithEIS");
}

/// Ack rows (echoes of client changes) by object and key ("WorkOrder/CLI-1").
std::map<std::string, json> acks_by_key(const json& results) {
  std::map<std::string, json> rows;
  for (const auto& row : results)
    if (is_ack(row)) rows[key_of(row)] = row;
  return rows;
}

/// Server rows (not acks) by object and key.
std::map<std::string, json> rows_by_key(const json& results) {
  std::map<std::string, json> rows;
  for (const auto& row : results)
    if (!is_ack(row)) rows[key_of(row)] = row;
  return rows;
}

enum class body_encoding { json_body, form_body };

/// Runs one scenario; returns every answer's "d" in order.
std::vector<json> replay(const std::string& scenario, body_encoding encoding) {
  auto requests = load_scenario(scenario);
  CAF_REQUIRE(!requests.empty());
  auto config = config_for(requests);
  sync_server server(*config);
  auto seed = recorder_server_rows(requests);
  if (!seed.empty()) apply_data_set(server.data(), *config, json{{"WorkOrder", seed}}, admin_write::load);

  httplib::Client client("127.0.0.1", server.port());
  issued_values issued;
  std::vector<json> answers;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& request = requests[i];
    auto params = issued.rewrite(request);
    bool unchanged = params == request.params;
    http_answer answer;
    if (encoding == body_encoding::form_body)
      answer = post_raw(client, request.path, form_encode(params), "application/x-www-form-urlencoded");
    else if (unchanged)
      answer = post_raw(client, request.path, request.raw_body); // byte for byte as recorded
    else
      answer = post_params(client, request.path, params);
    check_common(answer, scenario + " #" + std::to_string(i + 1) + " " + request.path);
    const auto& d = answer.body["d"];
    const auto& recorded = request.response["d"];
    auto endpoint = request.path.substr(request.path.rfind('/') + 1);
    if (endpoint == "registerdevice") {
      CAF_REQUIRE(d["__registerdevice"]["instanceID"].is_string());
      CAF_CHECK(!d["__registerdevice"]["instanceID"].get<std::string>().empty());
      issued.learn(recorded["__registerdevice"]["instanceID"], d["__registerdevice"]["instanceID"]);
    } else if (endpoint == "upload") {
      CAF_REQUIRE(d["__sync"]["serverblob"].is_string());
      issued.learn(recorded["__sync"]["serverblob"], d["__sync"]["serverblob"]);
    } else if (endpoint == "download") {
      CAF_CHECK(d["results"].is_array());
      CAF_REQUIRE(d["__sync"]["serverblob"].is_string());
      CAF_CHECK(d["__sync"]["moreChangesAvailable"].is_boolean()); // 8.5: a JSON boolean
      if (!request.decoded.contains("filterContext")) CAF_CHECK(d["__sync"]["pendingBatches"].is_number_integer());
      issued.learn(recorded["__sync"]["serverblob"], d["__sync"]["serverblob"]);
      for (const auto& row : d["results"]) {
        CAF_CHECK(row["__metadata"]["type"].is_string());
        if (!request.decoded.contains("filterContext")) {
          auto change = row["__metadata"]["changeType"];
          CAF_CHECK(change == "update" || change == "delete");
        }
      }
    }
    answers.push_back(d);
  }
  return answers;
}

std::set<std::string> uploaded_keys(const std::string& scenario) {
  std::set<std::string> keys;
  for (const auto& request : load_scenario(scenario)) {
    if (!request.decoded.contains("UploadRequest")) continue;
    for (const auto& row : request.decoded["UploadRequest"]["d"]["results"]) {
      auto type = row["metadata"]["type"].get<std::string>();
      keys.insert(type + "/" + text_of(type == "Part" ? row["partId"] : row["orderId"]));
    }
  }
  return keys;
}

void check_first_session(const std::vector<json>& d) {
  CAF_REQUIRE_EQUAL(d.size(), 3u);
  // Persistent strategy: the upload answer carries no acks; they come with the download.
  CAF_CHECK(d[1].value("results", json::array()).empty());
  auto acks = acks_by_key(d[2]["results"]);
  auto changes = rows_by_key(d[2]["results"]);
  for (const auto& key : uploaded_keys("sc13-first-session")) {
    CAF_MESSAGE("ack of " << key);
    CAF_REQUIRE(acks.count(key) == 1);
    CAF_CHECK_EQUAL(changes.count(key), 0u); // no echo of the device's own row
    const auto& ack = acks[key];
    CAF_CHECK_EQUAL(ack["__metadata"]["changeType"], "update"); // 8.6
    CAF_CHECK(ack["konysyncreplaysequence"].is_number());
    CAF_CHECK(ack["konysynchashsum"].is_string());
  }
  CAF_CHECK_EQUAL(d[2]["__sync"]["moreChangesAvailable"], false);
}

} // namespace

CAF_TEST(first session as json and as a form) {
  check_first_session(replay("sc13-first-session", body_encoding::json_body));
  check_first_session(replay("sc13-first-session", body_encoding::form_body));
}

CAF_TEST(download batches deliver every server row once) {
  for (auto encoding : {body_encoding::json_body, body_encoding::form_body}) {
    auto d = replay("sc13-download-batches", encoding);
    CAF_REQUIRE_EQUAL(d.size(), 5u);
    std::map<std::string, int> delivered;
    std::map<std::string, int> acked;
    for (std::size_t i = 2; i < 4; ++i) {
      for (const auto& row : d[i]["results"]) ++(is_ack(row) ? acked : delivered)[key_of(row)];
    }
    for (const auto& row : recorder_server_rows(load_scenario("sc13-download-batches")))
      CAF_CHECK_EQUAL(delivered["WorkOrder/" + row["orderId"].get<std::string>()], 1);
    for (const auto& key : uploaded_keys("sc13-download-batches")) {
      CAF_CHECK_EQUAL(acked[key], 1);
      CAF_CHECK_EQUAL(delivered[key], 0); // its own rows are not echoed to the device
    }
    // The second session, from the last blob: nothing new.
    CAF_CHECK(d[4]["results"].empty());
    CAF_CHECK_EQUAL(d[4]["__sync"]["moreChangesAvailable"], false);
  }
}

CAF_TEST(persistent acks arrive in the later download) {
  auto d = replay("sc13-ack", body_encoding::json_body);
  CAF_REQUIRE_EQUAL(d.size(), 5u);
  auto first = acks_by_key(d[2]["results"]);
  for (const auto* key : {"WorkOrder/CLI-1", "WorkOrder/CLI-2", "WorkOrder/CLI-3", "Part/P-1"}) {
    CAF_MESSAGE("first ack " << key);
    CAF_REQUIRE(first.count(key) == 1);
    CAF_CHECK_EQUAL(first[key]["__metadata"]["changeType"], "update");
  }
  auto second = acks_by_key(d[4]["results"]);
  CAF_REQUIRE(second.count("WorkOrder/CLI-2") == 1);
  CAF_CHECK_EQUAL(second["WorkOrder/CLI-2"]["__metadata"]["changeType"], "update");
  CAF_CHECK_EQUAL(second["WorkOrder/CLI-2"]["status"], "Closed");
  CAF_CHECK_EQUAL(second["WorkOrder/CLI-2"]["konysyncreplaysequence"], 5);
  CAF_REQUIRE(second.count("Part/P-1") == 1);
  CAF_CHECK_EQUAL(second["Part/P-1"]["konysyncreplaysequence"], 6);
  CAF_CHECK(second.count("WorkOrder/CLI-1") == 0); // acked before, not again
}

CAF_TEST(ota acks come in the upload answer) {
  auto d = replay("sc13-ota-ack", body_encoding::json_body);
  CAF_REQUIRE_EQUAL(d.size(), 3u);
  auto acks = acks_by_key(d[1]["results"]);
  for (const auto& key : uploaded_keys("sc13-ota-ack")) {
    CAF_MESSAGE("ota ack " << key);
    CAF_REQUIRE(acks.count(key) == 1);
    CAF_CHECK_EQUAL(acks[key]["__metadata"]["changeType"], "update");
    CAF_CHECK(acks[key]["konysynchashsum"].is_string());
  }
  auto downloaded = rows_by_key(d[2]["results"]);
  for (const auto& row : recorder_server_rows(load_scenario("sc13-ota-ack")))
    CAF_CHECK_EQUAL(downloaded.count("WorkOrder/" + row["orderId"].get<std::string>()), 1u);
}

CAF_TEST(reconciliation returns keys then full rows) {
  auto d = replay("sc13-reconcile", body_encoding::json_body);
  CAF_REQUIRE_EQUAL(d.size(), 5u);
  auto server_rows = recorder_server_rows(load_scenario("sc13-reconcile"));
  // getAllPKs: key-only rows, a JSON boolean moreChangesAvailable (8.5).
  std::set<std::string> keys;
  for (const auto& row : d[3]["results"]) {
    if (row["__metadata"]["type"] != "WorkOrder") continue;
    keys.insert(row["orderId"].get<std::string>());
    CAF_CHECK(!row.contains("status"));
  }
  for (const auto& row : server_rows) CAF_CHECK_EQUAL(keys.count(row["orderId"].get<std::string>()), 1u);
  CAF_CHECK_EQUAL(d[3]["__sync"]["moreChangesAvailable"], false);
  // bulkGet of SRV-1-2: that row with its columns.
  CAF_REQUIRE_EQUAL(d[4]["results"].size(), 1u);
  const auto& row = d[4]["results"][0];
  CAF_CHECK_EQUAL(row["__metadata"]["type"], "WorkOrder");
  CAF_CHECK_EQUAL(row["orderId"], "SRV-1-2");
  CAF_CHECK_EQUAL(row["orderDesc"], "server order batch 1 row 2");
  CAF_CHECK_EQUAL(d[4]["__sync"]["moreChangesAvailable"], false);
}

CAF_TEST(errors leave the store unchanged) {
  auto config = std::make_unique<sync_config>(workorder_config());
  sync_server server(*config);
  httplib::Client client("127.0.0.1", server.port());
  auto session = load_scenario("sc13-first-session");
  auto registered = post_raw(client, session[0].path, session[0].raw_body);
  CAF_CHECK_EQUAL(registered.body["d"]["error"], "false");
  const auto& upload = session[1];
  auto rows_in_store = [&] {
    auto reader = server.data().read();
    return reader->last_sequence();
  };
  auto bad = [&](const std::string& key, const json& value) {
    auto params = upload.params;
    params[key] = value;
    return post_params(client, upload.path, params);
  };
  for (const auto& [key, value, errcode] : std::vector<std::tuple<std::string, json, std::string>>{
         {"password", "wrong", "1001"},
         {"userid", "intruder", "1001"},
         {"AppID", "another", "1004"},
         {"appVersion", "0000", "SY3005E"},
         {"appVersion", "", "SY3003E"},
         {"UploadRequest", "{\"d\":", "SY0000E"},
         {"scopename", "NoSuchScope", "SY0000E"}}) {
    auto answer = bad(key, value);
    CAF_MESSAGE(key << " = " << value.dump());
    CAF_CHECK_EQUAL(answer.body["d"]["error"], "true");
    CAF_CHECK_EQUAL(answer.body["d"]["errcode"], errcode);
  }
  CAF_CHECK_EQUAL(rows_in_store(), 0);
  auto good = post_raw(client, upload.path, upload.raw_body);
  CAF_CHECK_EQUAL(good.body["d"]["error"], "false");
  CAF_CHECK_EQUAL(rows_in_store(), 3);
}
