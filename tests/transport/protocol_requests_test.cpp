// Request builders against what the real client sent (tests/fixtures/real-client-requests):
// same URL path, same params in the same order, the same body bytes.
#define CAF_SUITE protocol_requests
#include <caf/test/unit_test.hpp>

#include "fixture_records.hpp"
#include "transport/password_hash.hpp"
#include "transport/protocol_codec.hpp"

#include <stdexcept>

using namespace mxsync::transport;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

const char* const app_version = "3409dfe4e9eaa3e22c0002b4f5efaff2b274e18b497280af030e7aa141baa313";

request_context recorded_context() {
  request_context context;
  context.endpoint.server_host = "127.0.0.1";
  context.endpoint.server_port = "35213";
  context.endpoint.app_id = "konyfsjs";
  context.user = credentials{"testuser", "testpassword", "sha256", "konyfsjs", std::nullopt};
  return context;
}

scope_settings recorded_scope(const ordered_json& params) {
  scope_settings scope;
  scope.scope_name = params.at("scopename");
  scope.strategy = params.at("strategy");
  scope.instance_id = "rec-instance-0001";
  scope.client_id = "node-harness-device-0001";
  scope.app_version = app_version;
  if (params.contains("uploaderrorpolicy"))
    scope.upload_error_policy = params.at("uploaderrorpolicy").get<std::string>();
  return scope;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Param by param, then the order, then the exact body bytes.
void check_against_record(const wire_request& built, const ordered_json& rec) {
  CAF_CHECK(ends_with(built.url, rec.at("path").get<std::string>()));
  const auto& params = rec.at("params");
  CAF_CHECK_EQUAL(built.params.size(), params.size());
  for (const auto& [key, value] : params.items()) {
    const std::string* mine = built.param(key);
    CAF_CHECK(mine != nullptr);
    if (mine != nullptr) {
      CAF_CHECK_EQUAL(*mine, value.get<std::string>());
    }
  }
  std::vector<std::string> recorded_order, built_order;
  for (const auto& [key, value] : params.items())
    recorded_order.push_back(key);
  for (const auto& [key, value] : built.params)
    built_order.push_back(key);
  CAF_CHECK_EQUAL(built_order, recorded_order);
  CAF_CHECK_EQUAL(built.body(), rec.at("rawBody").get<std::string>());
  bool has_json_type = false;
  for (const auto& [name, value] : built.headers)
    has_json_type |= name == "Content-Type" && value == "application/json";
  CAF_CHECK(has_json_type);
}

column_value to_column(const ordered_json& value) {
  return column_value_from_json(json::parse(value.dump()));
}

/// The typed rows behind a recorded UploadRequest (NULL columns spelled `null_spelling`).
std::vector<upload_row> rows_of(const ordered_json& upload_request, const std::string& null_spelling) {
  std::vector<upload_row> rows;
  for (const auto& item : upload_request.at("d").at("results")) {
    upload_row row;
    const auto& metadata = item.at("metadata");
    row.object_type = metadata.at("type");
    auto change = metadata.at("changetype").get<std::string>();
    row.change = change == "insert" ? change_kind::insert
                 : change == "update" ? change_kind::update
                                      : change_kind::remove;
    for (const auto& [key, value] : item.items()) {
      if (key == "metadata")
        continue;
      if (key == "konysyncversionnumber")
        row.version_number = value.get<std::int64_t>();
      else if (key == "konysyncchangetype")
        row.change_type = value.get<int>();
      else if (key == "konysyncreplaysequence")
        row.replay_sequence = value.get<std::int64_t>();
      else if (key == "konysynchashsum")
        row.hashsum = value.get<std::string>();
      else if (key == "konysyncchangetime")
        row.send_change_time = true;
      else if (value.is_string() && value.get<std::string>() == null_spelling)
        row.columns.emplace_back(key, std::monostate{});
      else
        row.columns.emplace_back(key, to_column(value));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

upload_request recorded_upload(const ordered_json& rec, const std::string& null_spelling) {
  const auto& params = rec.at("params");
  auto decoded = rec.at("decoded").at("UploadRequest");
  upload_request request;
  request.scope = recorded_scope(params);
  request.scope_database_name = "konyfsjs";
  const auto& d = decoded.at("d");
  request.server_blob = d.at("serverBlob");
  request.sequence_number = d.at("SequenceNumber");
  request.more_changes_available = d.at("moreChangesAvailable");
  request.rows = rows_of(decoded, null_spelling);
  request.null_spelling = null_spelling;
  return request;
}

download_request recorded_download(const ordered_json& rec) {
  const auto& params = rec.at("params");
  download_request request;
  request.scope = recorded_scope(params);
  request.tick_count = params.at("tickcount");
  auto context = json::parse(params.at("clientcontext").get<std::string>());
  request.initial_sync = context.value("InitialSync", "") == "true";
  return request;
}

template <class F>
bool throws_invalid_argument(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument&) {
    return true;
  }
  return false;
}

} // namespace

CAF_TEST(the fixture password is sha256 of testpassword) {
  CAF_CHECK_EQUAL(hash_password("sha256", "testpassword"),
                  "9f735e0df9a1ddc702bf0a1a7b83033f9f7153a00c29de82cedadc9957289b05");
}

CAF_TEST(registerdevice matches the real client) {
  auto records = mxsync::test::load_recording("sc13-first-session.jsonl");
  const auto& rec = mxsync::test::record(records, 1);
  device_info device{"android", "NodeHarness", "8.1.0", "node-harness-device-0001",
                     "Mozilla/5.0 (Linux; Android 8.1.0; NodeHarness) KonySyncNodeHarness/0.1 Node/20.20.2",
                     "mobile", "android"};
  auto built = build_register_device(recorded_context(), device);
  CAF_CHECK_EQUAL(built.url, "http://127.0.0.1:35213/syncservice/resources/registerdevice");
  check_against_record(built, rec);
}

CAF_TEST(upload with three inserts matches the real client) {
  auto records = mxsync::test::load_recording("sc13-first-session.jsonl");
  const auto& rec = mxsync::test::record(records, 2);
  auto request = recorded_upload(rec, "null");
  CAF_REQUIRE_EQUAL(request.rows.size(), 3u);
  // The typed rows look like what persistence hands over.
  const auto& first = request.rows.front();
  CAF_CHECK_EQUAL(first.object_type, "WorkOrder");
  CAF_CHECK(first.change == change_kind::insert);
  CAF_CHECK_EQUAL(first.replay_sequence, 1);
  CAF_CHECK(!first.hashsum);
  CAF_CHECK(std::holds_alternative<std::monostate>(*find_column(first.columns, "endDate")));
  CAF_CHECK(std::get<std::string>(*find_column(first.columns, "orderId")) == "CLI-1");

  auto built = build_upload(recorded_context(), request);
  CAF_CHECK_EQUAL(*built.param("UploadRequest"), rec.at("params").at("UploadRequest").get<std::string>());
  check_against_record(built, rec);
}

CAF_TEST(upload of an update and a delete with hashsums and NULL spelled NULL) {
  auto records = mxsync::test::load_recording("sc13-ack.jsonl");
  const auto& rec = mxsync::test::record(records, 4);
  auto request = recorded_upload(rec, "NULL");
  CAF_REQUIRE_EQUAL(request.rows.size(), 2u);
  CAF_CHECK(request.rows[0].change == change_kind::update);
  CAF_CHECK(request.rows[1].change == change_kind::remove);
  CAF_CHECK_EQUAL(request.rows[0].hashsum.value_or(""), "acked-CLI-2");
  CAF_CHECK(!request.scope.upload_error_policy); // no sessiontasks in this run (8.2)
  check_against_record(build_upload(recorded_context(), request), rec);
}

CAF_TEST(OTA upload matches the real client) {
  auto records = mxsync::test::load_recording("sc13-ota-ack.jsonl");
  const auto& rec = mxsync::test::record(records, 2);
  check_against_record(build_upload(recorded_context(), recorded_upload(rec, "null")), rec);
}

CAF_TEST(upload row encoding rules) {
  upload_request request;
  request.scope.scope_name = "S";
  request.scope.client_id = "dev";
  request.scope_database_name = "db";
  request.server_blob = "blob-1";
  request.sequence_number = 7;
  request.more_changes_available = true;
  upload_row row;
  row.object_type = "T";
  row.change = change_kind::remove;
  row.columns = {{"id", std::int64_t{-3}}, {"ServerId", std::string{"x"}}, {"UpdateId", std::string{"y"}},
                 {"price", 1.5}, {"note", std::monostate{}}};
  row.change_type = 2;
  row.version_number = 4;
  row.replay_sequence = 9;
  row.send_change_time = true;
  row.hashsum = "h";
  request.rows.push_back(row);
  CAF_CHECK_EQUAL(upload_request_json(request),
                  R"({"d":{"results":[{"metadata":{"type":"T","uri":"db","changetype":"delete","syncConflict":""},)"
                  R"("id":-3,"price":1.5,"note":"null","konysyncversionnumber":4,"konysyncchangetype":2,)"
                  R"("konysyncreplaysequence":9,"konysyncchangetime":null,"konysynchashsum":"h"}],)"
                  R"("sync":"not implemented","scopeName":"S","serverBlob":"blob-1","clientid":"dev",)"
                  R"("SequenceNumber":7,"moreChangesAvailable":true}})");
  request.client_context = {{"BATCH_TIMEOUT", "30"}};
  request.use_history_config = true;
  auto built = build_upload(recorded_context(), request);
  CAF_CHECK_EQUAL(*built.param("clientcontext"), R"({"BATCH_TIMEOUT":"30"})");
  CAF_CHECK_EQUAL(*built.param("usehistoryconfig"), "true");
  CAF_CHECK(built.param("uploaderrorpolicy") == nullptr);
}

CAF_TEST(first download sends InitialSync and the upload error policy) {
  auto records = mxsync::test::load_recording("sc13-first-session.jsonl");
  const auto& rec = mxsync::test::record(records, 3);
  auto request = recorded_download(rec);
  CAF_CHECK(request.initial_sync);
  CAF_CHECK_EQUAL(request.tick_count, "");
  check_against_record(build_download(recorded_context(), request), rec);
}

CAF_TEST(download batches keep InitialSync until the first complete download) {
  auto records = mxsync::test::load_recording("sc13-download-batches.jsonl");
  for (int seq : {3, 4, 5}) {
    CAF_MESSAGE("download seq " << seq);
    const auto& rec = mxsync::test::record(records, seq);
    auto request = recorded_download(rec);
    CAF_CHECK_EQUAL(request.initial_sync, seq != 5);
    check_against_record(build_download(recorded_context(), request), rec);
  }
  // The later session's clientcontext is "{}".
  CAF_CHECK_EQUAL(client_context_json({}, false), "{}");
  CAF_CHECK_EQUAL(client_context_json({{"BATCH_SERVICE_COUNT_LIMIT", "2"}}, true),
                  R"({"InitialSync":"true","BATCH_SERVICE_COUNT_LIMIT":"2"})");
}

CAF_TEST(download optional params are sent only when configured) {
  download_request request;
  request.scope.scope_name = "S";
  auto plain = build_download(recorded_context(), request);
  for (const char* absent : {"chunksize", "context", "uploaderrorpolicy", "deletechunkpayloadid",
                             "uppertickcount", "upgradecontext", "konysyncsessionid"})
    CAF_CHECK(plain.param(absent) == nullptr);
  CAF_CHECK_EQUAL(*plain.param("batchsize"), "500");
  CAF_CHECK_EQUAL(*plain.param("enablebatching"), "true");

  request.batch_size = 50;
  request.chunk_size = 128;
  request.filters = json::parse(R"([{"WorkOrder":[{"Name":"status","Value1":"Open","Value2":""}]}])");
  request.delete_chunk_payload_id = "p-9";
  auto context = recorded_context();
  context.session = session_info{"sess-1", "4"};
  auto full = build_download(context, request);
  CAF_CHECK_EQUAL(*full.param("batchsize"), "50");
  CAF_CHECK_EQUAL(*full.param("chunksize"), "128");
  CAF_CHECK_EQUAL(*full.param("context"),
                  R"({"d":{"Filters":[{"WorkOrder":[{"Name":"status","Value1":"Open","Value2":""}]}]}})");
  CAF_CHECK_EQUAL(*full.param("deletechunkpayloadid"), "p-9");
  CAF_CHECK_EQUAL(*full.param("konysyncsessionid"), "sess-1");
  CAF_CHECK_EQUAL(*full.param("konysyncrequestnumber"), "4");

  auto chunk = build_download_chunk(context, request, "p-10", 3, 2);
  CAF_CHECK(ends_with(chunk.url, "/syncservice/resources/downloadchunk"));
  CAF_CHECK_EQUAL(*chunk.param("payloadid"), "p-10");
  CAF_CHECK_EQUAL(*chunk.param("chunkcount"), "3");
  CAF_CHECK_EQUAL(*chunk.param("chunknumber"), "2");
}

CAF_TEST(reconciliation getAllPKs and bulkGet match the real client) {
  auto records = mxsync::test::load_recording("sc13-reconcile.jsonl");
  {
    const auto& rec = mxsync::test::record(records, 4);
    std::vector<reconcile_pk_query> objects;
    for (const auto& [name, spec] : rec.at("decoded").at("filterContext").at("d").items())
      objects.push_back({name, spec.at("fields").get<std::vector<std::string>>()});
    CAF_REQUIRE_EQUAL(objects.size(), 12u);
    CAF_CHECK_EQUAL(objects.back().pk_fields, (std::vector<std::string>{"partid", "orderid"}));
    auto request = recorded_download(rec);
    check_against_record(build_get_all_pks(recorded_context(), request, objects), rec);
  }
  {
    const auto& rec = mxsync::test::record(records, 5);
    const auto& spec = rec.at("decoded").at("filterContext").at("d").at("WorkOrder");
    reconcile_bulk_get_query query;
    query.object_type = "WorkOrder";
    query.keys = {{{"orderId", std::string{"SRV-1-2"}}}};
    query.fields = spec.at("fields").get<std::vector<std::string>>();
    auto request = recorded_download(rec);
    check_against_record(build_bulk_get(recorded_context(), request, {query}), rec);
  }
}

CAF_TEST(endpoints follow the base URL rules) {
  endpoint_config config;
  config.server_host = "sync.example";
  CAF_CHECK_EQUAL(server_base_url(config), "http://sync.example:80/syncservice/resources/");
  config.server_port = "";
  CAF_CHECK_EQUAL(server_base_url(config), "http://sync.example/syncservice/resources/");
  config.server_port = "8443";
  config.is_secure = true;
  CAF_CHECK_EQUAL(server_base_url(config), "https://sync.example:8443/syncservice/resources/");
  config.has_auth_token = true;
  config.app_id = "app1";
  CAF_CHECK_EQUAL(server_base_url(config), "https://sync.example:8443/syncservice/api/v1/app1/");
  config.upload_web_context = "myupload";
  config.download_web_context = "mydownload";
  CAF_CHECK_EQUAL(endpoint_url(config, endpoint::upload), "https://sync.example:8443/syncservice/api/v1/app1/myupload");
  CAF_CHECK_EQUAL(endpoint_url(config, endpoint::download), "https://sync.example:8443/syncservice/api/v1/app1/mydownload");
  CAF_CHECK_EQUAL(endpoint_url(config, endpoint::download_chunk), "https://sync.example:8443/syncservice/api/v1/app1/downloadchunk");
  CAF_CHECK_EQUAL(endpoint_url(config, endpoint::upgrade), "https://sync.example:8443/syncservice/api/v1/app1/upgrade");
  config.server_url = "https://other.example/sync/";
  CAF_CHECK_EQUAL(endpoint_url(config, endpoint::register_device), "https://other.example/sync/registerdevice");
  config.server_url = "https://other.example/sync";
  CAF_CHECK(throws_invalid_argument([&] { server_base_url(config); }));
  CAF_CHECK(throws_invalid_argument([] { server_base_url(endpoint_config{}); }));
}

CAF_TEST(an auth token replaces AppID and adds the authorization header) {
  auto context = recorded_context();
  context.endpoint.has_auth_token = true;
  context.user.auth_token = "claims-token";
  auto built = build_register_device(context, device_info{});
  CAF_CHECK(ends_with(built.url, "/syncservice/api/v1/konyfsjs/registerdevice"));
  CAF_CHECK(built.param("AppID") == nullptr);
  CAF_CHECK(built.param("userid") != nullptr); // userid and password both set
  bool has_token = false;
  for (const auto& [name, value] : built.headers)
    has_token |= name == "X-Kony-Authorization" && value == "claims-token";
  CAF_CHECK(has_token);
  context.user.password.clear();
  auto without_user = build_register_device(context, device_info{});
  CAF_CHECK(without_user.param("userid") == nullptr);
  CAF_CHECK(without_user.param("password") == nullptr);
  // Without a token the password is hashed with passwordhashalgo.
  auto plain = recorded_context();
  plain.user.password_hash_algorithm = "none";
  auto plain_text = build_register_device(plain, device_info{});
  CAF_CHECK_EQUAL(*plain_text.param("password"), "testpassword");
  plain.user.password_hash_algorithm = "md5";
  auto md5 = build_register_device(plain, device_info{});
  CAF_CHECK_EQUAL(*md5.param("password"), hash_password("md5", "testpassword"));
}

CAF_TEST(to_http_request carries url body headers and timeout) {
  auto built = build_register_device(recorded_context(), device_info{});
  auto http = to_http_request(built, std::chrono::milliseconds{1500});
  CAF_CHECK_EQUAL(http.url, built.url);
  CAF_CHECK_EQUAL(http.body, built.body());
  CAF_CHECK_EQUAL(http.timeout.count(), 1500);
  CAF_CHECK_EQUAL(http.headers.size(), built.headers.size());
}

CAF_TEST(upgrade request and a token in the credentials select the api base) {
  auto context = recorded_context();
  auto built = build_upgrade(context, upgrade_request{"dev-1", "v2", "v1", false});
  CAF_CHECK(ends_with(built.url, "/syncservice/resources/upgrade"));
  CAF_CHECK_EQUAL(*built.param("clientid"), "dev-1");
  CAF_CHECK_EQUAL(*built.param("appversion"), "v2");
  CAF_CHECK_EQUAL(*built.param("dbversion"), "v1");
  CAF_CHECK_EQUAL(*built.param("scriptsrequired"), "false");
  CAF_CHECK_EQUAL(*built.param("AppID"), "konyfsjs");
  // The endpoint config does not know about the token; the credentials do.
  context.user.auth_token = "t";
  auto with_token = build_download(context, download_request{});
  CAF_CHECK_EQUAL(with_token.url, "http://127.0.0.1:35213/syncservice/api/v1/konyfsjs/download");
  CAF_CHECK(with_token.param("AppID") == nullptr);
}
