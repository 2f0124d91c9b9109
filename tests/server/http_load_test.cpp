// The HTTP front under load (200+ concurrent connections, each uploading its own
// rows and downloading), batched downloads, and TLS.
#define CAF_SUITE http_load
#include <caf/test/unit_test.hpp>

#include "http_test_support.hpp"

#include "support/self_signed_certificate.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <set>
#include <thread>

using namespace mxsync;
using namespace mxsync::server;
using namespace mxsync::test;
using json = nlohmann::json;

namespace {

constexpr const char* scope_name = "FSPersistentScope";

/// A WorkOrder row as the real client uploads it (taken from the recording).
json recorded_work_order() {
  std::istringstream lines(read_text(fixture_path("real-client-requests/sc13-first-session.jsonl")));
  std::string line;
  while (std::getline(lines, line)) {
    auto record = json::parse(line);
    if (record["decoded"].contains("UploadRequest")) return record["decoded"]["UploadRequest"]["d"]["results"][0];
  }
  return json::object();
}

/// One simulated device: its own connection, registration, upload and download.
class device {
public:
  device(int port, std::string id) : client_("127.0.0.1", port), id_(std::move(id)) {
    client_.set_keep_alive(true);
    client_.set_read_timeout(120, 0);
    client_.set_write_timeout(120, 0);
    client_.set_connection_timeout(60, 0);
  }

  json call(const std::string& endpoint, json params) {
    auto common = common_params();
    for (auto& [key, value] : common.items()) params[key] = value;
    auto answer = post_params(client_, "/syncservice/resources/" + endpoint, params);
    if (answer.status != 200 || !answer.body.is_object() || answer.body["d"]["error"] != "false")
      throw std::runtime_error(id_ + " " + endpoint + " failed: " + std::to_string(answer.status) + " " +
                               answer.raw.substr(0, 300));
    return answer.body["d"];
  }

  void register_device() {
    auto d = call("registerdevice", {{"deviceID", id_}, {"os", "linux"}, {"model", "test"}, {"version", "1"}});
    instance_ = d["__registerdevice"]["instanceID"].get<std::string>();
  }

  void upload(const std::vector<json>& rows, int sequence_number, const std::string& server_blob = "") {
    json upload_request = {{"d",
                            {{"results", rows},
                             {"sync", "not implemented"},
                             {"scopeName", scope_name},
                             {"serverBlob", server_blob},
                             {"clientid", id_},
                             {"SequenceNumber", sequence_number},
                             {"moreChangesAvailable", false}}}};
    call("upload", {{"UploadRequest", upload_request.dump()}, {"scopename", scope_name},
                    {"strategy", "PERSISTENT_SYNC"}, {"instanceid", instance_}, {"clientid", id_},
                    {"clientcontext", "{}"}});
  }

  /// Downloads until moreChangesAvailable is false; returns every row and the
  /// number of batches.
  std::pair<json, int> download_all(int batch_size, std::string tickcount = "") {
    json rows = json::array();
    int batches = 0;
    for (;;) {
      auto d = call("download", {{"enablebatching", "true"}, {"batchsize", std::to_string(batch_size)},
                                 {"tickcount", tickcount}, {"scopename", scope_name},
                                 {"strategy", "PERSISTENT_SYNC"}, {"instanceid", instance_}, {"clientid", id_},
                                 {"clientcontext", batches == 0 ? "{\"InitialSync\":\"true\"}" : "{}"}});
      ++batches;
      for (auto& row : d["results"]) rows.push_back(std::move(row));
      tickcount = d["__sync"]["serverblob"].get<std::string>();
      if (!d["__sync"]["moreChangesAvailable"].is_boolean())
        throw std::runtime_error("moreChangesAvailable is not a JSON boolean");
      if (!d["__sync"]["moreChangesAvailable"].get<bool>()) break;
      if (!d["__sync"]["pendingBatches"].is_number_integer() || d["__sync"]["pendingBatches"].get<int>() < 1)
        throw std::runtime_error("pendingBatches must count the remaining batches");
      if (batches > 10000) throw std::runtime_error("download does not end");
    }
    last_blob_ = tickcount;
    return {rows, batches};
  }

  const std::string& last_blob() const { return last_blob_; }

private:
  httplib::Client client_;
  std::string id_;
  std::string instance_;
  std::string last_blob_;
};

json work_order(const json& base, const std::string& order_id, int replay_sequence) {
  auto row = base;
  row["orderId"] = order_id;
  row["orderDesc"] = "order " + order_id;
  row["konysyncreplaysequence"] = replay_sequence;
  return row;
}

} // namespace

CAF_TEST(two hundred concurrent devices lose and double no row) {
  // MXSYNC_LOAD_DEVICES overrides the count for experiments.
  const int device_count = std::getenv("MXSYNC_LOAD_DEVICES") ? std::atoi(std::getenv("MXSYNC_LOAD_DEVICES")) : 210;
  constexpr int rows_per_device = 5;
  sync_server server(workorder_config());
  auto base = recorded_work_order();
  CAF_REQUIRE(base.contains("orderId"));

  std::vector<std::string> failures(device_count);
  std::vector<int> own_acks(device_count, 0);
  std::latch all_connected(device_count);
  std::vector<std::thread> threads;
  threads.reserve(device_count);
  for (int i = 0; i < device_count; ++i) {
    threads.emplace_back([&, i] {
      bool arrived = false;
      try {
        device client(server.port(), "load-device-" + std::to_string(i));
        client.register_device();
        all_connected.arrive_and_wait(); // every connection is open before anyone uploads
        arrived = true;
        std::vector<json> rows;
        for (int j = 0; j < rows_per_device; ++j)
          rows.push_back(work_order(base, "L" + std::to_string(i) + "-" + std::to_string(j), j + 1));
        client.upload(rows, 0);
        auto [results, batches] = client.download_all(500);
        for (const auto& row : results) {
          auto id = row.value("orderId", std::string{});
          if (row.contains("konysyncMergedWithEIS") && id.rfind("L" + std::to_string(i) + "-", 0) == 0)
            ++own_acks[i];
        }
      } catch (const std::exception& e) {
        failures[i] = e.what();
        if (!arrived) all_connected.count_down();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  int failed = 0;
  for (int i = 0; i < device_count; ++i) {
    if (!failures[i].empty()) {
      if (++failed <= 5) CAF_MESSAGE("device " << i << ": " << failures[i]);
    }
    CAF_CHECK_EQUAL(own_acks[i], rows_per_device);
  }
  CAF_CHECK_EQUAL(failed, 0);

  // Afterwards: a new device downloads everything in small batches.
  device observer(server.port(), "observer");
  observer.register_device();
  auto [rows, batches] = observer.download_all(97);
  std::map<std::string, int> seen;
  for (const auto& row : rows)
    if (row["__metadata"]["type"] == "WorkOrder") ++seen[row["orderId"].get<std::string>()];
  CAF_CHECK_EQUAL(seen.size(), static_cast<std::size_t>(device_count * rows_per_device));
  int doubled = 0;
  for (const auto& [id, count] : seen) doubled += count != 1;
  CAF_CHECK_EQUAL(doubled, 0);
  CAF_CHECK(batches >= device_count * rows_per_device / 97);
  const auto* table = workorder_config().find_scope(scope_name)->find_table("WorkOrder");
  CAF_CHECK_EQUAL(server.data().read()->count_rows(*table, false), device_count * rows_per_device);
  // And nothing more from the last blob.
  auto [more, more_batches] = observer.download_all(97, observer.last_blob());
  CAF_CHECK_EQUAL(more.size(), 0u);
  CAF_CHECK_EQUAL(more_batches, 1);
}

CAF_TEST(downloads in batches follow moreChangesAvailable) {
  sync_server server(workorder_config());
  auto base = recorded_work_order();
  device writer(server.port(), "writer");
  writer.register_device();
  // Five uploads: rows of one upload share a change time and are never split
  // across batches (docs/protocol.md 5, batch cut time), so batches follow uploads.
  for (int upload = 0; upload < 5; ++upload) {
    std::vector<json> rows;
    for (int j = 0; j < 5; ++j) {
      auto number = upload * 5 + j;
      rows.push_back(work_order(base, "B-" + std::to_string(number), number + 1));
    }
    writer.upload(rows, upload);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  device reader(server.port(), "reader");
  reader.register_device();
  auto [results, batches] = reader.download_all(4);
  std::set<std::string> ids;
  for (const auto& row : results) ids.insert(row["orderId"].get<std::string>());
  CAF_CHECK_EQUAL(ids.size(), 25u);
  CAF_CHECK_EQUAL(results.size(), 25u);
  CAF_CHECK(batches >= 2);
}

CAF_TEST(tls with a self-signed certificate) {
  self_signed_certificate certificate;
  http_server_options options;
  options.tls_cert = certificate.certificate_file();
  options.tls_key = certificate.key_file();
  sync_server server(workorder_config(), {}, options);
  CAF_CHECK(server.front().http().tls());
  CAF_CHECK(server.front().http().url().rfind("https://127.0.0.1:", 0) == 0);

  httplib::SSLClient client("127.0.0.1", server.port());
  client.enable_server_certificate_verification(false);
  auto params = common_params();
  params["deviceID"] = "tls-device";
  auto answer = to_answer(client.Post("/syncservice/resources/registerdevice", params.dump(), "application/json"));
  CAF_CHECK_EQUAL(answer.status, 200);
  CAF_CHECK_EQUAL(answer.content_type, "application/json; charset=utf-8");
  CAF_CHECK_EQUAL(answer.body["d"]["error"], "false");
  CAF_CHECK(answer.body["d"]["__registerdevice"]["instanceID"].is_string());

  // Plain http to the https port gets no sync answer.
  httplib::Client plain("127.0.0.1", server.port());
  plain.set_read_timeout(5, 0);
  auto refused = plain.Post("/syncservice/resources/registerdevice", params.dump(), "application/json");
  CAF_CHECK(!refused || refused->status != 200);

  // Unusable key material is refused at start-up with a clear error.
  http_server_options broken;
  temp_dir dir;
  broken.tls_cert = dir.file("missing.pem");
  broken.tls_key = certificate.key_file();
  CAF_CHECK_EQUAL(
      [&] {
        try {
          front_server refused_server(workorder_config(), [](const sync_request&) { return json::object(); }, broken);
        } catch (const std::runtime_error& e) {
          return std::string{e.what()}.find("TLS") != std::string::npos;
        }
        return false;
      }(),
      true);
}
