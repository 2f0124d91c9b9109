// Codec and HTTP client together: the first recorded session replayed against a
// loopback server that checks every param and answers what the real server answered.
#define CAF_SUITE transport_roundtrip
#include <caf/test/unit_test.hpp>

#include "fixture_records.hpp"
#include "loopback_server.hpp"
#include "transport/http_client.hpp"
#include "transport/protocol_codec.hpp"

#include <deque>
#include <future>

using namespace mxsync::transport;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

http_response exchange(http_client& client, const wire_request& request) {
  std::promise<http_response> promise;
  auto future = promise.get_future();
  client.submit(to_http_request(request, 5s),
                [&promise](http_response response) { promise.set_value(std::move(response)); });
  if (future.wait_for(10s) != std::future_status::ready)
    throw std::runtime_error("no completion in time");
  return future.get();
}

} // namespace

CAF_TEST(the first session replays against the recorded server answers) {
  auto records = mxsync::test::load_recording("sc13-first-session.jsonl");
  std::mutex mutex;
  std::deque<nlohmann::ordered_json> expected{records.begin(), records.end()};
  std::vector<std::string> mismatches;
  auto routes = [&](httplib::Server& server) {
    server.Post(R"(/syncservice/resources/(registerdevice|upload|download))",
                [&](const httplib::Request& request, httplib::Response& response) {
                  std::lock_guard lock{mutex};
                  auto rec = expected.front();
                  expected.pop_front();
                  if (request.path != rec.at("path").get<std::string>())
                    mismatches.push_back("path " + request.path);
                  if (request.get_header_value("Content-Type") != "application/json")
                    mismatches.push_back("content type");
                  auto params = json::parse(request.body);
                  if (params != json::parse(rec.at("rawBody").get<std::string>()))
                    mismatches.push_back("params of " + request.path);
                  response.set_content(rec.at("response").dump(), "application/json");
                });
  };
  mxsync::test::loopback_server server{std::make_unique<httplib::Server>(), false, routes};

  request_context context;
  context.endpoint.server_host = "127.0.0.1";
  context.endpoint.server_port = std::to_string(server.port());
  context.user = credentials{"testuser", "testpassword", "sha256", "konyfsjs", std::nullopt};
  http_client client;

  device_info device{"android", "NodeHarness", "8.1.0", "node-harness-device-0001",
                     "Mozilla/5.0 (Linux; Android 8.1.0; NodeHarness) KonySyncNodeHarness/0.1 Node/20.20.2",
                     "mobile", "android"};
  auto registered_response = exchange(client, build_register_device(context, device));
  CAF_REQUIRE(!transport_error(registered_response));
  auto registered = parse_register_answer(registered_response.body);
  CAF_REQUIRE(registered.has_value());
  CAF_CHECK_EQUAL(registered->instance_id, "rec-instance-0001");

  scope_settings scope{"FSPersistentScope", "PERSISTENT_SYNC", registered->instance_id,
                       "node-harness-device-0001",
                       "3409dfe4e9eaa3e22c0002b4f5efaff2b274e18b497280af030e7aa141baa313", "abortonerror"};
  upload_request upload;
  upload.scope = scope;
  upload.scope_database_name = "konyfsjs";
  // The three inserts of the recording, rebuilt from its decoded UploadRequest.
  for (const auto& item : records[1].at("decoded").at("UploadRequest").at("d").at("results")) {
    upload_row row;
    row.object_type = item.at("metadata").at("type");
    for (const auto& [key, value] : item.items()) {
      if (key == "metadata" || key.starts_with("konysync"))
        continue;
      if (value == "null")
        row.columns.emplace_back(key, std::monostate{});
      else
        row.columns.emplace_back(key, value.get<std::string>());
    }
    row.replay_sequence = item.at("konysyncreplaysequence");
    upload.rows.push_back(std::move(row));
  }
  auto uploaded = parse_upload_answer(exchange(client, build_upload(context, upload)).body);
  CAF_REQUIRE(uploaded.has_value());
  CAF_CHECK_EQUAL(uploaded->server_blob, "up-0-3");

  download_request download;
  download.scope = scope;
  download.initial_sync = true;
  auto downloaded = parse_download_answer(exchange(client, build_download(context, download)).body);
  CAF_REQUIRE(downloaded.has_value());
  CAF_CHECK_EQUAL(downloaded->server_blob, "dl-0");
  CAF_CHECK(!downloaded->more_changes_available);

  std::lock_guard lock{mutex};
  CAF_CHECK(expected.empty());
  CAF_CHECK_EQUAL(mismatches, std::vector<std::string>{});
}

CAF_TEST(transport failures and non JSON answers map to network codes) {
  auto routes = [](httplib::Server& server) {
    server.Post("/html", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("<html>gateway</html>", "text/html");
    });
  };
  mxsync::test::loopback_server server{std::make_unique<httplib::Server>(), false, routes};
  http_client client;
  wire_request request;
  request.url = server.url("/status/500");
  auto failed = exchange(client, request);
  auto error = transport_error(failed);
  CAF_REQUIRE(error.has_value());
  CAF_CHECK_EQUAL(error->code, 1012);
  CAF_CHECK_EQUAL(error->info.at("httpStatus").get<long>(), 500);

  request.url = server.url("/html");
  auto html = exchange(client, request);
  CAF_CHECK(!transport_error(html));
  auto parsed = parse_download_answer(html.body);
  CAF_REQUIRE(!parsed.has_value());
  int code = parsed.has_value() ? 0 : parsed.error().code;
  CAF_CHECK_EQUAL(code, 1013);
}
