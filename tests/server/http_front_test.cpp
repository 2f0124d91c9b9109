// The HTTP front on its own: parameter parsing, users and digests, settings, and
// every error envelope, with a stand-in for the sync core.
#define CAF_SUITE http_front
#include <caf/test/unit_test.hpp>

#include "http_test_support.hpp"
#include "server/request_params.hpp"
#include "server/settings.hpp"

#include <atomic>
#include <chrono>
#include <thread>

using namespace mxsync;
using namespace mxsync::server;
using namespace mxsync::test;
using json = nlohmann::json;

namespace {

std::string errcode_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const protocol_error& e) {
    return e.errcode();
  }
  return "none";
}

/// A stand-in core that answers with what it was given.
struct echo_core {
  std::atomic<int> calls{0};
  sync_handler handler() {
    return [this](const sync_request& request) {
      ++calls;
      json decoded = json::object();
      for (const auto& [name, value] : request.decoded) decoded[name] = value;
      if (request.params.count("fail_with")) throw protocol_error(request.params.at("fail_with"), "core says no");
      if (request.params.count("crash")) throw std::runtime_error("core crashed");
      return json{{"echo",
                   {{"endpoint", request.endpoint}, {"user", request.user}, {"params", request.params},
                    {"decoded", decoded}}}};
    };
  }
};

void check_envelope(const http_answer& answer) {
  CAF_CHECK_EQUAL(answer.status, 200);
  CAF_CHECK_EQUAL(answer.content_type, "application/json; charset=utf-8");
  CAF_REQUIRE(answer.body.is_object());
  CAF_CHECK_EQUAL(answer.body["opstatus"], 0);
  CAF_REQUIRE(answer.body["d"].is_object());
  CAF_CHECK_EQUAL(answer.body["d"]["server"]["hostName"], "testhost");
  CAF_CHECK_EQUAL(answer.body["d"]["server"]["ipAddress"], "127.0.0.1");
}

void check_error(const http_answer& answer, const std::string& errcode) {
  check_envelope(answer);
  CAF_CHECK_EQUAL(answer.body["d"]["error"], "true");
  CAF_CHECK_EQUAL(answer.body["d"]["errcode"], errcode);
  CAF_CHECK(answer.body["d"]["msg"].is_string() && !answer.body["d"]["msg"].get<std::string>().empty());
  if (answer.body["d"]["errcode"] != errcode) CAF_MESSAGE("answer: " << answer.raw);
}

json upload_params() {
  auto params = common_params();
  params["UploadRequest"] = json{{"d", {{"results", json::array()}, {"scopeName", "FSPersistentScope"}}}}.dump();
  params["clientcontext"] = "{}";
  params["scopename"] = "FSPersistentScope";
  return params;
}

} // namespace

// ---------------------------------------------------------------- parameters

CAF_TEST(json body parameters are strings) {
  auto params = parse_json_body(R"({"userid":"u","batchsize":500,"flag":true,"ratio":1.5,"context":null,
                                   "clientcontext":{"InitialSync":"true"}})");
  CAF_CHECK_EQUAL(params.at("userid"), "u");
  CAF_CHECK_EQUAL(params.at("batchsize"), "500");
  CAF_CHECK_EQUAL(params.at("flag"), "true");
  CAF_CHECK_EQUAL(params.at("ratio"), "1.5");
  CAF_CHECK_EQUAL(params.count("context"), 0u);
  auto clientcontext = json::parse(params.at("clientcontext"));
  CAF_CHECK_EQUAL(clientcontext["InitialSync"].get<std::string>(), "true");
}

CAF_TEST(malformed bodies are SY0000E) {
  CAF_CHECK_EQUAL(errcode_of([] { parse_json_body("{not json"); }), "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([] { parse_json_body("[1,2]"); }), "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([] { parse_json_body(R"({"userid":{"a":1}})"); }), "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([] { parse_json_body(R"({"userid":["a"]})"); }), "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([] { parse_body("application/json", ""); }), "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([] { parse_form_body("a=%zz"); }), "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([] { parse_form_body("a=%2"); }), "SY0000E");
}

CAF_TEST(form bodies) {
  auto params = parse_form_body("userid=test+user&password=a%2Bb%3D&empty=&flag&UploadRequest=%7B%22d%22%3A%7B%7D%7D");
  CAF_CHECK_EQUAL(params.at("userid"), "test user");
  CAF_CHECK_EQUAL(params.at("password"), "a+b=");
  CAF_CHECK_EQUAL(params.at("empty"), "");
  CAF_CHECK_EQUAL(params.at("flag"), "");
  CAF_CHECK_EQUAL(params.at("UploadRequest"), R"({"d":{}})");
  // A form body labelled application/json (what the device runtime's FormData may send).
  // (Named results: CAF's checks must not look into members of temporaries.)
  auto labelled_json = parse_body("application/json", "userid=x&AppID=y");
  CAF_CHECK_EQUAL(labelled_json.at("AppID"), "y");
  auto form_with_charset = parse_body("application/x-www-form-urlencoded; charset=UTF-8", "a=1");
  CAF_CHECK_EQUAL(form_with_charset.at("a"), "1");
  auto json_with_charset = parse_body("application/json; charset=utf-8", R"({"a":"1"})");
  CAF_CHECK_EQUAL(json_with_charset.at("a"), "1");
}

CAF_TEST(json string parameters are decoded) {
  param_map params{{"UploadRequest", R"({"d":{"results":[]}})"},
                   {"context", "null"},
                   {"clientcontext", "{}"},
                   {"filterContext", ""},
                   {"userid", "{}"}};
  auto decoded = decode_json_params(params);
  CAF_CHECK_EQUAL(decoded.count("UploadRequest"), 1u);
  CAF_CHECK_EQUAL(decoded.count("context"), 0u);
  CAF_CHECK_EQUAL(decoded.count("clientcontext"), 1u);
  CAF_CHECK_EQUAL(decoded.count("filterContext"), 0u);
  CAF_CHECK_EQUAL(decoded.count("userid"), 0u);
  auto bad = [](param_map p) { return errcode_of([&] { decode_json_params(p); }); };
  CAF_CHECK_EQUAL(bad({{"UploadRequest", "{\"d\":"}}), "SY0000E");
  CAF_CHECK_EQUAL(bad({{"UploadRequest", "[]"}}), "SY0000E");
  CAF_CHECK_EQUAL(bad({{"UploadRequest", R"({"x":1})"}}), "SY0000E");
  CAF_CHECK_EQUAL(bad({{"UploadRequest", R"({"d":{"results":{}}})"}}), "SY0000E");
  CAF_CHECK_EQUAL(bad({{"context", "5"}}), "SY0000E");
  CAF_CHECK_EQUAL(bad({{"clientcontext", "{oops"}}), "SY0000E");
}

CAF_TEST(parameter names match case-insensitively) {
  param_map params{{"appid", "a"}, {"AppVersion", "v"}};
  CAF_REQUIRE(find_param(params, "AppID") != nullptr);
  CAF_CHECK_EQUAL(*find_param(params, "AppID"), "a");
  CAF_CHECK_EQUAL(*find_param(params, "appVersion"), "v");
  CAF_CHECK(find_param(params, "userid") == nullptr);
}

CAF_TEST(routes) {
  auto plain = parse_route("/syncservice/resources/upload");
  CAF_REQUIRE(plain.has_value());
  CAF_CHECK_EQUAL(plain->endpoint, "upload");
  CAF_CHECK_EQUAL(plain->url_app_id, "");
  auto api = parse_route("/syncservice/api/v1/konyfsjs/download/");
  CAF_REQUIRE(api.has_value());
  CAF_CHECK_EQUAL(api->endpoint, "download");
  CAF_CHECK_EQUAL(api->url_app_id, "konyfsjs");
  CAF_CHECK(!parse_route("/syncservice/resources/").has_value());
  CAF_CHECK(!parse_route("/syncservice/resources/a/b").has_value());
  CAF_CHECK(!parse_route("/other").has_value());
  CAF_CHECK(!parse_route("/syncservice/api/v1/upload").has_value());
}

CAF_TEST(custom web contexts route to upload and download) {
  web_context_names names{"mxUpload", "sync.download-v2"};
  auto upload = parse_route("/syncservice/resources/mxUpload", names);
  CAF_REQUIRE(upload.has_value());
  CAF_CHECK_EQUAL(upload->endpoint, "upload");
  auto download = parse_route("/syncservice/api/v1/konyfsjs/sync.download-v2/", names);
  CAF_REQUIRE(download.has_value());
  CAF_CHECK_EQUAL(download->endpoint, "download");
  CAF_CHECK_EQUAL(download->url_app_id, "konyfsjs");
  // The standard names keep working, the other endpoints are untouched.
  for (const char* standard : {"upload", "download", "registerdevice", "downloadchunk", "authenticateUser"}) {
    auto route = parse_route(std::string{"/syncservice/resources/"} + standard, names);
    CAF_REQUIRE(route.has_value());
    CAF_CHECK_EQUAL(route->endpoint, standard);
  }
  // Without the names a custom segment is just an unknown endpoint.
  auto plain = parse_route("/syncservice/resources/mxUpload");
  CAF_REQUIRE(plain.has_value());
  CAF_CHECK_EQUAL(plain->endpoint, "mxUpload");
  CAF_CHECK(!is_sync_endpoint(plain->endpoint));
  CAF_CHECK(!parse_route("/syncservice/resources/mxUpload/x", names).has_value());
  CAF_CHECK_EQUAL(canonical_endpoint("mxupload", names), "mxupload"); // names are case-sensitive

  // Through the front: the core sees "upload"; a front without the names refuses.
  echo_core core;
  user_directory users;
  users.add_user("testuser", "testpassword");
  sync_front custom(workorder_config(), users, core.handler(), sync_front::options{{}, "testhost", names});
  sync_front standard(workorder_config(), users, core.handler(), sync_front::options{{}, "testhost"});
  param_map params;
  auto upload_json = upload_params();
  for (const auto& [name, value] : upload_json.items()) params[name] = value.get<std::string>();
  auto accepted = custom.handle("/syncservice/resources/mxUpload", params, "127.0.0.1");
  CAF_CHECK_EQUAL(accepted.outcome, "ok");
  auto seen = accepted.body["d"]["echo"]["endpoint"];
  CAF_CHECK_EQUAL(seen, "upload");
  auto via_standard = custom.handle("/syncservice/resources/upload", params, "127.0.0.1");
  CAF_CHECK_EQUAL(via_standard.outcome, "ok");
  auto refused = standard.handle("/syncservice/resources/mxUpload", params, "127.0.0.1");
  CAF_CHECK_EQUAL(refused.outcome, "SY0000E");
  auto message = refused.body["d"]["msg"].get<std::string>();
  CAF_CHECK(message.find("mxUpload") != std::string::npos);
  auto unknown = custom.handle("/syncservice/resources/other", params, "127.0.0.1");
  CAF_CHECK_EQUAL(unknown.outcome, "SY0000E");
  auto hint = unknown.body["d"]["msg"].get<std::string>();
  CAF_CHECK(hint.find("mxUpload (upload)") != std::string::npos);
  CAF_CHECK_EQUAL(core.calls.load(), 2);
}

CAF_TEST(web context settings are validated) {
  server_settings settings;
  apply_settings_json(settings, json::parse(R"({"web_contexts": {"upload": "up_1", "download": "Down.2-x"}})"));
  CAF_CHECK_EQUAL(settings.web_contexts.upload, "up_1");
  CAF_CHECK_EQUAL(settings.web_contexts.download, "Down.2-x");
  server_settings only_download;
  apply_settings_json(only_download, json::parse(R"({"web_contexts": {"download": "pull"}})"));
  CAF_CHECK_EQUAL(only_download.web_contexts.upload, "upload");
  CAF_CHECK_EQUAL(only_download.web_contexts.download, "pull");

  auto file_error = [](const std::string& text) -> std::string {
    server_settings refused;
    try {
      apply_settings_json(refused, json::parse(text));
    } catch (const settings_error& e) {
      return e.what();
    }
    return "accepted";
  };
  auto mentions = [](const std::string& message, const std::string& part) {
    bool found = message.find(part) != std::string::npos;
    if (!found) CAF_MESSAGE("message: " << message);
    return found;
  };
  CAF_CHECK(mentions(file_error(R"({"web_contexts": {"upload": ""}})"), "web_contexts.upload"));
  CAF_CHECK(mentions(file_error(R"({"web_contexts": {"upload": "a/b"}})"), "A-Z a-z 0-9 . _ -"));
  CAF_CHECK(mentions(file_error(R"({"web_contexts": {"download": "a b"}})"), "web_contexts.download"));
  CAF_CHECK(mentions(file_error(R"({"web_contexts": {"download": ".."}})"), "'..'"));
  CAF_CHECK(mentions(file_error(R"({"web_contexts": {"download": "d%41"}})"), "d%41"));
  CAF_CHECK(mentions(file_error(R"({"web_contexts": {"upload": 5}})"), "web_contexts.upload"));
  CAF_CHECK(mentions(file_error(R"({"web_contexts": {"uplaod": "x"}})"), "uplaod"));
  CAF_CHECK(mentions(file_error(R"({"web_contexts": "x"})"), "web_contexts"));

  // The complete settings (also what --upload-context / --download-context set).
  auto complete_error = [](web_context_names names) -> std::string {
    server_settings complete;
    complete.config_path = "c.json";
    complete.db_path = "d.db";
    complete.users.push_back(parse_user_option("u:p"));
    complete.web_contexts = std::move(names);
    try {
      validate_settings(complete);
    } catch (const settings_error& e) {
      return e.what();
    }
    return "accepted";
  };
  CAF_CHECK_EQUAL(complete_error({}), "accepted");
  CAF_CHECK_EQUAL(complete_error({"myupload", "mydownload"}), "accepted");
  CAF_CHECK_EQUAL(complete_error({"upload", "pull"}), "accepted");
  CAF_CHECK(mentions(complete_error({"a/b", "download"}), "--upload-context"));
  CAF_CHECK(mentions(complete_error({"upload", ""}), "--download-context"));
  CAF_CHECK(mentions(complete_error({"same", "same"}), "must differ"));
  CAF_CHECK(mentions(complete_error({"download", "pull"}), "another endpoint"));
  CAF_CHECK(mentions(complete_error({"push", "upload"}), "another endpoint"));
  CAF_CHECK(mentions(complete_error({"registerdevice", "download"}), "another endpoint"));
  CAF_CHECK(mentions(complete_error({"upload", "downloadchunk"}), "another endpoint"));
}

// ---------------------------------------------------------------- users

CAF_TEST(every client digest of the password is accepted) {
  user_directory users;
  users.add_user("alice", "s3cret");
  for (const auto& algorithm : transport::password_hash_algorithms()) {
    if (!transport::password_hash_available(algorithm)) continue;
    auto digest = transport::hash_password(algorithm, "s3cret");
    CAF_MESSAGE("algorithm " << algorithm);
    CAF_CHECK(users.check("alice", digest));
    CAF_CHECK(!users.check("alice", transport::hash_password(algorithm, "s3cret!")));
    CAF_CHECK(!users.check("bob", digest));
  }
  for (const auto* required : {"sha1", "sha224", "sha256", "sha384", "sha512", "md5", "none"})
    CAF_CHECK(transport::password_hash_available(required));
  // Upper-case hex is the same digest; the plain password is case-sensitive.
  auto upper = transport::hash_password("sha256", "s3cret");
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CAF_CHECK(users.check("alice", upper));
  CAF_CHECK(!users.check("alice", "S3CRET"));
  CAF_CHECK(!users.check("alice", ""));
  CAF_CHECK(!users.check("", ""));
}

CAF_TEST(pre-computed digests) {
  user_directory users;
  users.add_user_digests("carol", {transport::hash_password("sha256", "pw")});
  CAF_CHECK(users.check("carol", transport::hash_password("sha256", "pw")));
  CAF_CHECK(!users.check("carol", transport::hash_password("sha1", "pw")));
  CAF_CHECK(!users.check("carol", "pw"));
  CAF_CHECK_EQUAL(users.size(), 1u);
}

// ---------------------------------------------------------------- settings

CAF_TEST(settings file keys) {
  server_settings settings;
  apply_settings_json(settings, json::parse(R"({
      "host": "0.0.0.0", "port": 9000, "config": "cfg.json", "db": "data/server.db",
      "users": [{"userid": "u1", "password": "p1"},
                {"userid": "u2", "digests": {"sha256": "ab", "none": "plain"}}],
      "previous_versions": ["v0"], "max_body_bytes": 2048, "threads": 300,
      "keep_alive_timeout_seconds": 7, "keep_alive_max_requests": 50, "read_timeout_seconds": 9,
      "tls": {"cert": "/abs/c.pem", "key": "k.pem"}, "log_level": "debug",
      "max_batch_size": 77, "chunk_payload_ttl_seconds": 60,
      "scopes": {"FSPersistentScope": {"conflict_policy": "serverwins",
                                       "owner_columns": {"WorkOrder": "customerId"}}}})"),
                      "/base");
  CAF_CHECK_EQUAL(settings.host, "0.0.0.0");
  CAF_CHECK_EQUAL(settings.port, 9000);
  CAF_CHECK_EQUAL(settings.config_path, "/base/cfg.json");
  CAF_CHECK_EQUAL(settings.db_path, "/base/data/server.db");
  CAF_REQUIRE_EQUAL(settings.users.size(), 2u);
  CAF_CHECK_EQUAL(*settings.users[0].password, "p1");
  CAF_CHECK_EQUAL(settings.users[1].digests.at("none"), "plain");
  CAF_CHECK_EQUAL(settings.previous_versions.at(0), "v0");
  CAF_CHECK_EQUAL(settings.max_body_bytes, 2048u);
  CAF_CHECK_EQUAL(settings.threads, 300u);
  CAF_CHECK_EQUAL(settings.keep_alive_timeout_seconds, 7);
  CAF_CHECK_EQUAL(settings.keep_alive_max_requests, 50u);
  CAF_CHECK_EQUAL(settings.read_timeout_seconds, 9);
  CAF_CHECK_EQUAL(*settings.tls_cert, "/abs/c.pem");
  CAF_CHECK_EQUAL(*settings.tls_key, "/base/k.pem");
  CAF_CHECK(settings.level == log_level::debug);
  CAF_CHECK_EQUAL(settings.service.max_batch_size, 77);
  CAF_CHECK_EQUAL(settings.service.chunk_payload_ttl_seconds, 60);
  const auto& scope = settings.service.scopes.at("FSPersistentScope");
  CAF_CHECK(scope.conflicts == conflict_policy::server_wins);
  CAF_CHECK_EQUAL(scope.owner_column.at("WorkOrder"), "customerId");
  validate_against_config(settings, workorder_config());
}

CAF_TEST(settings errors name the key) {
  auto message_of = [](const std::string& text) -> std::string {
    server_settings settings;
    try {
      apply_settings_json(settings, json::parse(text));
    } catch (const settings_error& e) {
      return e.what();
    }
    return "accepted";
  };
  auto mentions = [](const std::string& message, const std::string& part) {
    bool found = message.find(part) != std::string::npos;
    if (!found) CAF_MESSAGE("message: " << message);
    return found;
  };
  CAF_CHECK(mentions(message_of(R"({"prot": 1})"), "prot"));
  CAF_CHECK(mentions(message_of(R"({"port": "80"})"), "port"));
  CAF_CHECK(mentions(message_of(R"({"port": 70000})"), "port"));
  CAF_CHECK(mentions(message_of(R"({"threads": 0})"), "threads"));
  CAF_CHECK(mentions(message_of(R"({"users": [{"userid": "x"}]})"), "users[0]"));
  CAF_CHECK(mentions(message_of(R"({"users": [{"userid": "x", "digests": {"sha3": "a"}}]})"), "sha3"));
  CAF_CHECK(mentions(message_of(R"({"scopes": {"S": {"conflict_policy": "custom"}}})"), "conflict_policy"));
  CAF_CHECK(mentions(message_of(R"({"log_level": "loud"})"), "loud"));
  CAF_CHECK(mentions(message_of(R"({"tls": {"certificate": "x"}})"), "certificate"));
  CAF_CHECK(mentions(message_of("[]"), "object"));
  CAF_CHECK(mentions(message_of(R"({"tokens": [{"userid": "u"}]})"), "tokens[0]"));

  server_settings unknown_scope;
  unknown_scope.service.scopes["NoSuchScope"] = {};
  CAF_CHECK_EQUAL(errcode_of([&] {
                    try {
                      validate_against_config(unknown_scope, workorder_config());
                    } catch (const settings_error&) {
                      throw protocol_error("settings", "");
                    }
                  }),
                  "settings");
  server_settings bad_column;
  bad_column.service.scopes["FSPersistentScope"].owner_column["WorkOrder"] = "nope";
  CAF_CHECK_EQUAL(errcode_of([&] {
                    try {
                      validate_against_config(bad_column, workorder_config());
                    } catch (const settings_error&) {
                      throw protocol_error("settings", "");
                    }
                  }),
                  "settings");

  server_settings incomplete;
  CAF_CHECK_EQUAL(errcode_of([&] {
                    try {
                      validate_settings(incomplete);
                    } catch (const settings_error&) {
                      throw protocol_error("settings", "");
                    }
                  }),
                  "settings");
  server_settings with_tokens;
  apply_settings_json(with_tokens, json::parse(R"({"tokens": [{"userid": "u", "token": "t:1"}]})"));
  CAF_REQUIRE_EQUAL(with_tokens.tokens.size(), 1u);
  CAF_CHECK_EQUAL(with_tokens.tokens[0].second, "t:1");
  auto token = parse_token_option("u:t:1");
  CAF_CHECK_EQUAL(token.first, "u");
  CAF_CHECK_EQUAL(token.second, "t:1");
  auto user = parse_user_option("u:pa:ss");
  CAF_CHECK_EQUAL(user.userid, "u");
  CAF_CHECK_EQUAL(*user.password, "pa:ss");
}

// ---------------------------------------------------------------- over HTTP

CAF_TEST(a request reaches the core with its parameters) {
  echo_core core;
  front_server server(workorder_config(), core.handler());
  httplib::Client client("127.0.0.1", server.port());
  auto answer = post_params(client, "/syncservice/resources/upload", upload_params());
  check_envelope(answer);
  const auto& d = answer.body["d"];
  CAF_CHECK_EQUAL(d["error"], "false");
  CAF_CHECK_EQUAL(d["echo"]["endpoint"], "upload");
  CAF_CHECK_EQUAL(d["echo"]["user"], "testuser");
  CAF_CHECK_EQUAL(d["echo"]["params"]["scopename"], "FSPersistentScope");
  CAF_CHECK(d["echo"]["decoded"]["UploadRequest"]["d"]["results"].is_array());
  CAF_CHECK(d["echo"]["decoded"]["clientcontext"].is_object());
  CAF_CHECK(d["__session"]["id"].is_string());
  CAF_CHECK_EQUAL(d["__session"]["requestnumber"], "1");

  auto params = upload_params();
  params["konysyncsessionid"] = "abc";
  params["konysyncrequestnumber"] = "4";
  answer = post_params(client, "/syncservice/resources/download", params);
  CAF_CHECK_EQUAL(answer.body["d"]["__session"]["id"], "abc");
  CAF_CHECK_EQUAL(answer.body["d"]["__session"]["requestnumber"], "5");
  CAF_CHECK_EQUAL(core.calls.load(), 2);
}

CAF_TEST(form and multipart bodies work like json) {
  echo_core core;
  front_server server(workorder_config(), core.handler());
  httplib::Client client("127.0.0.1", server.port());
  auto params = upload_params();
  // Larger than httplib's own 8 KB limit for forms: the front reads forms itself.
  params["clientcontext"] = json{{"pad", std::string(20000, 'x')}}.dump();
  auto answer = post_raw(client, "/syncservice/resources/upload", form_encode(params),
                         "application/x-www-form-urlencoded");
  check_envelope(answer);
  CAF_CHECK_EQUAL(answer.body["d"]["error"], "false");
  CAF_CHECK_EQUAL(answer.body["d"]["echo"]["decoded"]["clientcontext"]["pad"].get<std::string>().size(), 20000u);
  CAF_CHECK_EQUAL(answer.body["d"]["echo"]["params"]["AppID"], "konyfsjs");

  httplib::MultipartFormDataItems items;
  auto multipart_params = upload_params();
  for (const auto& [name, value] : multipart_params.items()) items.push_back({name, value.get<std::string>(), "", ""});
  answer = to_answer(client.Post("/syncservice/resources/upload", items));
  check_envelope(answer);
  CAF_CHECK_EQUAL(answer.body["d"]["error"], "false");
  CAF_CHECK(answer.body["d"]["echo"]["decoded"]["UploadRequest"]["d"].is_object());
  CAF_CHECK_EQUAL(core.calls.load(), 2);
}

CAF_TEST(the api v1 form takes the app id from the url) {
  echo_core core;
  front_server server(workorder_config(), core.handler());
  httplib::Client client("127.0.0.1", server.port());
  auto params = upload_params();
  params.erase("AppID");
  auto answer = post_params(client, "/syncservice/api/v1/konyfsjs/upload", params);
  CAF_CHECK_EQUAL(answer.body["d"]["error"], "false");
  check_error(post_params(client, "/syncservice/api/v1/otherapp/upload", params), "1004");
  params["AppID"] = "otherapp";
  check_error(post_params(client, "/syncservice/api/v1/konyfsjs/upload", params), "1004");
  CAF_CHECK_EQUAL(core.calls.load(), 1);
}

CAF_TEST(every error is an envelope and the server keeps serving) {
  echo_core core;
  http_server_options options;
  options.max_body_bytes = 64 * 1024;
  front_server server(workorder_config(), core.handler(), options, {"old-version"});
  httplib::Client client("127.0.0.1", server.port());
  const std::string upload = "/syncservice/resources/upload";

  auto with = [](json params, const std::string& key, const json& value) {
    if (value.is_null()) params.erase(key);
    else params[key] = value;
    return params;
  };
  auto base = upload_params();
  check_error(post_params(client, upload, with(base, "password", transport::hash_password("sha256", "wrong"))), "1001");
  check_error(post_params(client, upload, with(base, "userid", "nobody")), "1001");
  check_error(post_params(client, upload, with(base, "password", nullptr)), "1001");
  check_error(post_params(client, upload, with(base, "userid", nullptr)), "1001");
  auto wrong_password = post_params(client, upload, with(base, "password", "x"));
  CAF_CHECK_EQUAL(wrong_password.body["d"]["msg"], "Invalid userID or password");
  check_error(post_params(client, upload, with(base, "AppID", "someapp")), "1004");
  check_error(post_params(client, upload, with(base, "AppID", nullptr)), "1004");
  check_error(post_params(client, upload, with(base, "appVersion", nullptr)), "SY3003E");
  check_error(post_params(client, upload, with(base, "appVersion", "")), "SY3003E");
  check_error(post_params(client, upload, with(base, "appVersion", "0123")), "SY3005E");
  auto outdated = post_params(client, upload, with(base, "appVersion", "old-version"));
  check_error(outdated, "SY3001E");
  CAF_CHECK_EQUAL(outdated.body["d"]["oldapplicationversion"], "old-version");
  CAF_CHECK_EQUAL(outdated.body["d"]["newapplicationversion"], workorder_config().version);
  check_error(post_raw(client, upload, "{\"userid\": \"testuser\", "), "SY0000E");
  check_error(post_raw(client, upload, "[\"userid\"]"), "SY0000E");
  check_error(post_raw(client, upload, ""), "SY0000E");
  check_error(post_params(client, upload, with(base, "UploadRequest", "{\"d\": [")), "SY0000E");
  check_error(post_params(client, upload, with(base, "UploadRequest", "{\"results\": []}")), "SY0000E");
  check_error(post_params(client, upload, with(base, "userid", json{{"id", 1}})), "SY0000E");
  check_error(post_params(client, upload, with(base, "clientcontext", "[1]")), "SY0000E");
  check_error(post_params(client, "/syncservice/resources/upgrade", base), "SY0000E");
  check_error(post_params(client, "/syncservice/resources/nothing", base), "SY0000E");
  check_error(post_params(client, "/index.html", base), "SY0000E");
  check_error(to_answer(client.Get(upload.c_str())), "SY0000E");
  check_error(to_answer(client.Put(upload.c_str(), base.dump(), "application/json")), "SY0000E");
  // 20,000 nested arrays in d.results (the server crashed on such nesting): refused by
  // the depth check before anything parses or copies it.
  auto deep_rows = std::string(20'000, '[') + std::string(20'000, ']');
  auto deep = post_params(client, upload,
                          with(base, "UploadRequest", "{\"d\":{\"results\":" + deep_rows + "}}"));
  check_error(deep, "SY0000E");
  CAF_CHECK(deep.body["d"]["msg"].get<std::string>().find("deeper than 64") != std::string::npos);
  check_error(post_raw(client, upload, "{\"userid\":" + deep_rows + "}"), "SY0000E");
  auto huge = with(base, "clientcontext", json{{"pad", std::string(100 * 1024, 'x')}}.dump());
  auto too_large = post_params(client, upload, huge);
  check_error(too_large, "SY0000E");
  CAF_CHECK(too_large.body["d"]["msg"].get<std::string>().find("limit") != std::string::npos);
  // The core's own protocol errors are wrapped the same way, and so are its faults.
  check_error(post_params(client, upload, with(base, "fail_with", "SY0000E")), "SY0000E");
  check_error(post_params(client, upload, with(base, "fail_with", "7777")), "7777");
  check_error(post_params(client, upload, with(base, "crash", "1")), "SY0000E");
  CAF_CHECK_EQUAL(core.calls.load(), 3);
  // Still serving, on a new connection too.
  auto after = post_params(client, upload, base);
  CAF_CHECK_EQUAL(after.body["d"]["error"], "false");
  httplib::Client fresh("127.0.0.1", server.port());
  auto fresh_answer = post_params(fresh, upload, base);
  CAF_CHECK_EQUAL(fresh_answer.body["d"]["error"], "false");
}

CAF_TEST(registerdevice and authenticateUser need no appVersion) {
  echo_core core;
  front_server server(workorder_config(), core.handler());
  httplib::Client client("127.0.0.1", server.port());
  auto params = common_params();
  params.erase("appVersion");
  params["deviceID"] = "dev-1";
  auto answer = post_params(client, "/syncservice/resources/registerdevice", params);
  CAF_CHECK_EQUAL(answer.body["d"]["error"], "false");
  CAF_CHECK_EQUAL(answer.body["d"]["echo"]["endpoint"], "registerdevice");
  answer = post_params(client, "/syncservice/resources/authenticateUser", params);
  check_envelope(answer);
  CAF_CHECK_EQUAL(answer.body["d"]["error"], "false");
  params.erase("AppID"); // optional for authenticateUser
  answer = post_params(client, "/syncservice/resources/authenticateUser", params);
  CAF_CHECK_EQUAL(answer.body["d"]["error"], "false");
  params["AppID"] = "otherapp";
  check_error(post_params(client, "/syncservice/resources/authenticateUser", params), "1004");
  params["password"] = "bad";
  check_error(post_params(client, "/syncservice/resources/authenticateUser", params), "1001");
  CAF_CHECK_EQUAL(core.calls.load(), 1);
}

CAF_TEST(every passwordhashalgo digest logs in over http) {
  echo_core core;
  front_server server(workorder_config(), core.handler());
  httplib::Client client("127.0.0.1", server.port());
  for (const auto* algorithm : {"sha1", "sha224", "sha256", "sha384", "sha512", "md5", "md4", "none"}) {
    if (!transport::password_hash_available(algorithm)) {
      CAF_MESSAGE(algorithm << " is not offered by this OpenSSL; skipped");
      continue;
    }
    auto answer = post_params(client, "/syncservice/resources/download", [&] {
      auto params = common_params("testpassword", algorithm);
      params["scopename"] = "FSPersistentScope";
      return params;
    }());
    CAF_MESSAGE("algorithm " << algorithm);
    CAF_CHECK_EQUAL(answer.body["d"]["error"], "false");
    auto wrong = post_params(client, "/syncservice/resources/download", common_params("testpassworD", algorithm));
    CAF_CHECK_EQUAL(wrong.body["d"]["errcode"], "1001");
  }
}

CAF_TEST(a claims token logs in without userid and password) {
  echo_core core;
  front_server server(workorder_config(), core.handler());
  server.users().add_token("tokenuser", "eyJhbGciOi.claims.signature"); // before any request
  CAF_CHECK(server.users().user_for_token("eyJhbGciOi.claims.signature") == std::optional<std::string>{"tokenuser"});
  CAF_CHECK(!server.users().user_for_token("eyJhbGciOi.claims.other").has_value());
  httplib::Client client("127.0.0.1", server.port());
  auto params = common_params();
  params.erase("userid");
  params.erase("password");
  params.erase("AppID"); // the token client finds the app in the URL (8.9)
  params["scopename"] = "FSPersistentScope";
  const std::string path = "/syncservice/api/v1/konyfsjs/download";
  httplib::Headers token{{"X-Kony-Authorization", "eyJhbGciOi.claims.signature"}};
  auto answer = to_answer(client.Post(path.c_str(), token, params.dump(), "application/json"));
  check_envelope(answer);
  CAF_CHECK_EQUAL(answer.body["d"]["error"], "false");
  CAF_CHECK_EQUAL(answer.body["d"]["echo"]["user"], "tokenuser");
  httplib::Headers forged{{"X-Kony-Authorization", "eyJhbGciOi.claims.forged"}};
  check_error(to_answer(client.Post(path.c_str(), forged, params.dump(), "application/json")), "1001");
  check_error(post_params(client, path, params), "1001");
  // userid and password, when both sent, are what counts.
  auto both = common_params("wrong");
  both["scopename"] = "FSPersistentScope";
  check_error(to_answer(client.Post(path.c_str(), token, both.dump(), "application/json")), "1001");
  CAF_CHECK_EQUAL(core.calls.load(), 1);
}

CAF_TEST(stop lets the request in flight finish and then refuses connections) {
  std::atomic<bool> core_entered{false};
  auto slow_core = [&](const sync_request&) {
    core_entered = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    return json{{"slow", "done"}};
  };
  auto server = std::make_unique<front_server>(workorder_config(), slow_core);
  auto port = server->port();
  http_answer in_flight;
  std::thread client_thread([&] {
    httplib::Client client("127.0.0.1", port);
    in_flight = post_params(client, "/syncservice/resources/download", common_params());
  });
  while (!core_entered) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server->http().stop(); // returns once the accept loop has ended and the workers are joined
  client_thread.join();
  CAF_CHECK_EQUAL(in_flight.status, 200);
  CAF_CHECK_EQUAL(in_flight.body["d"]["slow"], "done");
  httplib::Client late("127.0.0.1", port);
  late.set_connection_timeout(2, 0);
  auto refused = late.Post("/syncservice/resources/download", common_params().dump(), "application/json");
  CAF_CHECK(!refused);
  server.reset(); // a second stop (in the destructor) is harmless
}
