// Where a session goes: issecure (https against a TLS mxsync-server with a
// self-signed certificate for 127.0.0.1: trusted through tls_ca_file, refused
// without it, accepted with tls_insecure; plain http against it), and the web
// contexts (uploadwebcontext / downloadwebcontext against a server that serves
// custom names, and against one that does not; with serverurl).
#define CAF_SUITE session_endpoint
#include <caf/test/unit_test.hpp>

#include "session/session_support.hpp"
#include "support/self_signed_certificate.hpp"

#include <chrono>
#include <future>

using namespace mxsync;
using namespace mxsync::test;
using json = nlohmann::json;

namespace {

/// A server that serves https with `certificate` (plus any `extra` arguments).
sync_server tls_server(const std::string& name, const self_signed_certificate& certificate,
                       std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--tls-cert", certificate.certificate_file(), "--tls-key",
                                certificate.key_file()};
  args.insert(args.end(), extra.begin(), extra.end());
  return sync_server{name, fixture_config, std::move(args)};
}

/// Session keys for https against `server`, trusting `certificate`.
session_config secure_session(const sync_server& server, const self_signed_certificate& certificate) {
  auto keys = server.session();
  keys.issecure = true;
  keys.tls_ca_file = certificate.certificate_file();
  return keys;
}

/// sync_server::admin over https (its own helper speaks plain http): POST
/// /mxsync/admin/<command> verified against `certificate`. 0 on success.
int admin_over_tls(const sync_server& server, const self_signed_certificate& certificate,
                   const std::string& command, const json& rows) {
  transport::http_client_options options;
  options.ca_file = certificate.certificate_file();
  transport::http_client client{std::move(options)};
  std::promise<transport::http_response> answer;
  client.submit({"https://127.0.0.1:" + server.process->port() + "/mxsync/admin/" + command,
                 rows.dump(),
                 {{"Content-Type", "application/json"}},
                 std::chrono::milliseconds{60000}},
                [&answer](transport::http_response r) { answer.set_value(std::move(r)); });
  auto response = answer.get_future().get();
  if (!response.ok()) {
    CAF_MESSAGE("admin over https failed: " << response.network_code << " " << response.error_message);
    return 1;
  }
  auto body = json::parse(response.body, nullptr, false);
  return body.is_object() && body["d"]["error"] == "false" ? 0 : 1;
}

/// A device with `n` new WorkOrder rows <prefix>-<i> waiting for upload.
std::unique_ptr<sync_client> device_with_rows(const std::string& name, const std::string& prefix, int n) {
  auto device = make_device(name);
  for (auto& row : work_orders(prefix, n))
    if (!device->object("WorkOrder").create(row).ok())
      throw std::runtime_error("cannot create a row on " + name);
  return device;
}

std::int64_t pending_uploads(sync_client& device) {
  auto pending = device.getPendingUpload();
  return pending.ok() ? pending.value()["totalCount"].get<std::int64_t>() : -1;
}

std::string text_of(const json& context, const char* key) {
  return context.is_object() && context.contains(key) && context[key].is_string() ? context[key].get<std::string>()
                                                                                    : std::string{};
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Fails the test with the error when a session that should succeed did not.
void require_ok(const result& outcome) {
  if (!outcome.ok())
    CAF_FAIL("session failed: " << outcome.error().to_json().dump());
}

/// The code a failed session reports: its own, or for a scope failure (7022) the
/// scope's (the device was registered already, so the failure is inside the scope).
int scope_code(const sync_error& error) {
  if (error.code == 7022 && error.info.is_object() && error.info.contains("FSPersistentScope"))
    return std::stoi(error.info["FSPersistentScope"].value("errorCode", std::string{"0"}));
  return error.code;
}

} // namespace

// ---------------------------------------------------------------- issecure

CAF_TEST(issecure with the certificate as tls_ca_file uploads and downloads over https) {
  self_signed_certificate certificate;
  auto server = tls_server("endpoint-tls", certificate);
  CAF_REQUIRE_EQUAL(admin_over_tls(server, certificate, "load", json{{"WorkOrder", work_orders("SRV", 7)}}), 0);
  auto device = device_with_rows("endpoint-tls", "CLI", 5);
  auto keys = secure_session(server, certificate);
  recorder events;
  events.attach(keys);
  require_ok(device->synchronize(keys));
  device->flush();
  auto start = events.context_of("onsyncstart");
  auto upload_url = text_of(start, "uploadurl");
  auto download_url = text_of(start, "downloadurl");
  CAF_MESSAGE("onsyncstart: " << start.dump());
  CAF_CHECK(starts_with(upload_url, "https://127.0.0.1:" + server.process->port() + "/"));
  CAF_CHECK(ends_with(upload_url, "/syncservice/resources/upload"));
  CAF_CHECK(starts_with(download_url, "https://"));
  CAF_CHECK(ends_with(download_url, "/syncservice/resources/download"));
  CAF_CHECK_EQUAL(events.count("onuploadsuccess"), 1u);
  CAF_CHECK_EQUAL(events.count("onsyncsuccess"), 1u);
  CAF_CHECK_EQUAL(events.count("onsyncerror"), 0u);
  CAF_CHECK_EQUAL(pending_uploads(*device), 0);
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 12);
  // The server has the uploaded rows: a second device gets all of them over https.
  auto other = make_device("endpoint-tls-b");
  require_ok(other->synchronize(secure_session(server, certificate)));
  other->flush();
  CAF_CHECK_EQUAL(count_rows(*other, "WorkOrder"), 12);
  auto uploaded = other->object("WorkOrder").getCount("orderId like 'CLI-%'");
  CAF_REQUIRE(uploaded.ok());
  auto uploaded_count = uploaded.value()["count"];
  CAF_CHECK_EQUAL(uploaded_count, 5);
}

CAF_TEST(issecure without tls_ca_file refuses the self-signed server with 1200) {
  self_signed_certificate certificate;
  auto server = tls_server("endpoint-untrusted", certificate);
  auto device = device_with_rows("endpoint-untrusted", "CLI", 4);
  auto keys = server.session();
  keys.issecure = true; // verified against the system store, which does not know this certificate
  recorder events;
  events.attach(keys);
  auto outcome = device->synchronize(keys);
  device->flush();
  CAF_REQUIRE(!outcome.ok());
  auto error = outcome.error();
  CAF_MESSAGE("untrusted: " << error.to_json().dump());
  CAF_CHECK_EQUAL(error.code, 1200);
  CAF_CHECK_EQUAL(events.count("onsyncerror"), 1u);
  auto reported = events.context_of("onsyncerror");
  CAF_CHECK_EQUAL(reported["errorCode"], "1200");
  CAF_CHECK_EQUAL(events.count("onuploadstart"), 0u);
  CAF_CHECK_EQUAL(events.count("onsyncsuccess"), 0u);
  CAF_CHECK_EQUAL(pending_uploads(*device), 4);

  // Nothing reached the server: a trusting device downloads no rows. The first
  // device, trusting the certificate now, uploads its rows after all.
  auto other = make_device("endpoint-untrusted-b");
  require_ok(other->synchronize(secure_session(server, certificate)));
  other->flush();
  CAF_CHECK_EQUAL(count_rows(*other, "WorkOrder"), 0);
  require_ok(device->synchronize(secure_session(server, certificate)));
  device->flush();
  CAF_CHECK_EQUAL(pending_uploads(*device), 0);
}

CAF_TEST(issecure with tls_insecure accepts the self-signed server) {
  self_signed_certificate certificate;
  auto server = tls_server("endpoint-insecure", certificate);
  CAF_REQUIRE_EQUAL(admin_over_tls(server, certificate, "load", json{{"WorkOrder", work_orders("SRV", 3)}}), 0);
  auto device = device_with_rows("endpoint-insecure", "CLI", 2);
  auto keys = server.session();
  keys.issecure = true;
  keys.tls_insecure = true;
  recorder events;
  events.attach(keys);
  require_ok(device->synchronize(keys));
  device->flush();
  auto start = events.context_of("onsyncstart");
  CAF_CHECK(starts_with(text_of(start, "uploadurl"), "https://"));
  CAF_CHECK_EQUAL(pending_uploads(*device), 0);
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 5);
}

CAF_TEST(plain http against the tls server fails with 1012 and does not hang) {
  self_signed_certificate certificate;
  auto server = tls_server("endpoint-plain", certificate);
  auto device = device_with_rows("endpoint-plain", "CLI", 3);
  auto keys = server.session(); // issecure false: http://127.0.0.1:<tls port>
  keys.networktimeout = 30;      // a hang would end in 1014 after 30 s
  recorder events;
  events.attach(keys);
  auto started = std::chrono::steady_clock::now();
  auto outcome = device->synchronize(keys);
  auto took = std::chrono::steady_clock::now() - started;
  device->flush();
  CAF_REQUIRE(!outcome.ok());
  auto error = outcome.error();
  CAF_MESSAGE("plain http to https: " << error.to_json().dump());
  CAF_CHECK_EQUAL(error.code, 1012);
  CAF_CHECK_LESS(took, std::chrono::seconds(10));
  CAF_CHECK(starts_with(text_of(events.context_of("onsyncstart"), "uploadurl"), "http://"));
  CAF_CHECK_EQUAL(events.count("onsyncerror"), 1u);
  CAF_CHECK_EQUAL(pending_uploads(*device), 3);
}

// ---------------------------------------------------------------- web contexts

CAF_TEST(custom web contexts reach a server that serves them) {
  sync_server server{"endpoint-context", fixture_config,
                     {"--upload-context", "mxUpload", "--download-context", "mx.download-v2"}};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("SRV", 6)}}), 0);
  auto device = device_with_rows("endpoint-context", "CLI", 4);
  auto keys = server.session();
  keys.uploadwebcontext = "mxUpload";
  keys.downloadwebcontext = "mx.download-v2";
  recorder events;
  events.attach(keys);
  require_ok(device->synchronize(keys));
  device->flush();
  auto start = events.context_of("onsyncstart");
  CAF_MESSAGE("onsyncstart: " << start.dump());
  auto base = "http://127.0.0.1:" + server.process->port() + "/syncservice/resources/";
  CAF_CHECK_EQUAL(text_of(start, "uploadurl"), base + "mxUpload");
  CAF_CHECK_EQUAL(text_of(start, "downloadurl"), base + "mx.download-v2");
  CAF_CHECK_EQUAL(events.count("onuploadsuccess"), 1u);
  CAF_CHECK_EQUAL(events.count("ondownloadsuccess"), 1u);
  CAF_CHECK_EQUAL(pending_uploads(*device), 0);
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 10);
  // The standard names still work on that server.
  auto other = make_device("endpoint-context-b");
  require_ok(other->synchronize(server.session()));
  other->flush();
  CAF_CHECK_EQUAL(count_rows(*other, "WorkOrder"), 10);
}

CAF_TEST(a custom uploadwebcontext against a default server fails and keeps the rows) {
  sync_server server{"endpoint-nocontext"};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("SRV", 2)}}), 0);
  auto device = device_with_rows("endpoint-nocontext", "CLI", 3);
  auto keys = server.session();
  keys.uploadwebcontext = "mxUpload";
  recorder events;
  events.attach(keys);
  auto outcome = device->synchronize(keys);
  device->flush();
  CAF_REQUIRE(!outcome.ok());
  auto error = outcome.error();
  CAF_MESSAGE("unknown upload context: " << error.to_json().dump());
  // registerdevice (its standard name) works; the upload gets the server's SY0000E
  // envelope (HTTP 200: the server answers every error so), which the client maps to 7020.
  CAF_CHECK_EQUAL(scope_code(error), 7020);
  CAF_CHECK_EQUAL(error.code, 7022);
  auto scope_error = events.context_of("onscopeerror");
  CAF_MESSAGE("onscopeerror: " << scope_error.dump());
  CAF_CHECK_EQUAL(scope_error["errorCode"], "7020");
  CAF_CHECK_EQUAL(scope_error["errorInfo"]["errcode"], "SY0000E");
  CAF_CHECK_EQUAL(events.count("onuploadsuccess"), 0u);
  CAF_CHECK_EQUAL(events.count("onsyncsuccess"), 0u);
  CAF_CHECK_EQUAL(pending_uploads(*device), 3);
  auto local = device->object("WorkOrder").getCount("orderId like 'CLI-%'");
  CAF_REQUIRE(local.ok());
  auto local_count = local.value()["count"];
  CAF_CHECK_EQUAL(local_count, 3);

  // The same rows go up with the standard name; nothing was stored twice.
  require_ok(device->synchronize(server.session()));
  device->flush();
  CAF_CHECK_EQUAL(pending_uploads(*device), 0);
  auto other = make_device("endpoint-nocontext-b");
  require_ok(other->synchronize(server.session()));
  other->flush();
  CAF_CHECK_EQUAL(count_rows(*other, "WorkOrder"), 5);

  // A custom downloadwebcontext alone: the download fails (7021) after the upload.
  auto download_only = server.session();
  download_only.downloadwebcontext = "mxDownload";
  recorder download_events;
  download_events.attach(download_only);
  auto refused = other->synchronize(download_only);
  other->flush();
  CAF_REQUIRE(!refused.ok());
  auto download_error = refused.error();
  CAF_MESSAGE("unknown download context: " << download_error.to_json().dump());
  CAF_CHECK_EQUAL(scope_code(download_error), 7021);
  CAF_CHECK_EQUAL(download_events.count("ondownloadsuccess"), 0u);
}

CAF_TEST(serverurl and custom web contexts compose) {
  sync_server server{"endpoint-serverurl", fixture_config,
                     {"--upload-context", "push", "--download-context", "pull"}};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("SRV", 4)}}), 0);
  auto device = device_with_rows("endpoint-serverurl", "CLI", 2);
  session_config keys;
  // serverurl is the base verbatim: serverhost, serverport and issecure are not used.
  keys.serverurl = "http://127.0.0.1:" + server.process->port() + "/syncservice/resources/";
  server_process::free_port_guard closed; // refuses connections, if it were used
  keys.serverhost = "127.0.0.1";
  keys.serverport = closed.port();
  keys.issecure = true;
  keys.userid = "testuser";
  keys.password = "testpassword";
  keys.uploadwebcontext = "push";
  keys.downloadwebcontext = "pull";
  recorder events;
  events.attach(keys);
  require_ok(device->synchronize(keys));
  device->flush();
  auto start = events.context_of("onsyncstart");
  CAF_MESSAGE("onsyncstart: " << start.dump());
  CAF_CHECK_EQUAL(text_of(start, "uploadurl"), *keys.serverurl + "push");
  CAF_CHECK_EQUAL(text_of(start, "downloadurl"), *keys.serverurl + "pull");
  CAF_CHECK_EQUAL(pending_uploads(*device), 0);
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 6);
}

CAF_TEST(https serverurl and custom web contexts against a tls server) {
  self_signed_certificate certificate;
  auto server = tls_server("endpoint-tls-context", certificate,
                           {"--upload-context", "secure-push", "--download-context", "secure-pull"});
  auto device = device_with_rows("endpoint-tls-context", "CLI", 3);
  session_config keys;
  keys.serverurl = "https://127.0.0.1:" + server.process->port() + "/syncservice/resources/";
  keys.tls_ca_file = certificate.certificate_file();
  keys.userid = "testuser";
  keys.password = "testpassword";
  keys.uploadwebcontext = "secure-push";
  keys.downloadwebcontext = "secure-pull";
  recorder events;
  events.attach(keys);
  require_ok(device->synchronize(keys));
  device->flush();
  auto start = events.context_of("onsyncstart");
  CAF_CHECK_EQUAL(text_of(start, "uploadurl"), *keys.serverurl + "secure-push");
  CAF_CHECK_EQUAL(text_of(start, "downloadurl"), *keys.serverurl + "secure-pull");
  CAF_CHECK_EQUAL(pending_uploads(*device), 0);
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 3);
}
