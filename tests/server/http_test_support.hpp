#pragma once
// Shared helpers of the HTTP front tests: an in-process server on a free loopback
// port, and a client that posts parameters and checks the envelope basics.

#include "persistence/sync_config.hpp"
#include "server/auth.hpp"
#include "server/http_server.hpp"
#include "server/sqlite_store.hpp"
#include "server/sync_service.hpp"
#include "transport/password_hash.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>

namespace mxsync::test {

inline std::string fixture_path(const std::string& name) {
  return std::string{MXSYNC_FIXTURES_DIR} + "/" + name;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline const sync_config& workorder_config() {
  static const sync_config config = sync_config::load_file(fixture_path("workorder-sync-config.json"));
  return config;
}

/// A fresh directory under the system temp dir, removed at the end.
class temp_dir {
public:
  temp_dir() {
    std::random_device seed;
    path_ = std::filesystem::temp_directory_path() /
            ("mxsync-http-" + std::to_string(seed()) + "-" + std::to_string(seed()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

/// The front with a stand-in core (or the real one), served on 127.0.0.1:<free>.
class front_server {
public:
  front_server(const sync_config& config, server::sync_handler handler,
               server::http_server_options options = {}, std::vector<std::string> previous_versions = {})
    : config_(config), log_(server::log_level::error, log_sink_) {
    users_.add_user("testuser", "testpassword");
    front_ = std::make_unique<server::sync_front>(config_, users_, std::move(handler),
                                                  server::sync_front::options{std::move(previous_versions), "testhost"});
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<server::http_server>(std::move(options), *front_, log_);
    server_->start();
  }
  ~front_server() { server_->stop(); }

  int port() const { return server_->port(); }
  server::http_server& http() { return *server_; }
  server::user_directory& users() { return users_; }

private:
  const sync_config& config_;
  server::user_directory users_;
  std::ostringstream log_sink_; ///< the request log of the tests (errors only; the executable tests read a real one)
  server::request_log log_;
  std::unique_ptr<server::sync_front> front_;
  std::unique_ptr<server::http_server> server_;
};

/// The real core on a fresh SQLite store, behind the front.
class sync_server {
public:
  explicit sync_server(const sync_config& config, server::service_settings settings = {},
                       server::http_server_options options = {})
    : store_(std::make_shared<server::sqlite_store>(config, dir_.file("server.db"))),
      service_(config, store_, std::move(settings)),
      front_(config, [this](const server::sync_request& request) { return service_.handle(request); },
             std::move(options)) {}

  int port() const { return front_.port(); }
  server::store& data() { return *store_; }
  server::sync_service& service() { return service_; }
  front_server& front() { return front_; }

private:
  temp_dir dir_;
  std::shared_ptr<server::sqlite_store> store_;
  server::sync_service service_;
  front_server front_;
};

/// One answer: HTTP status, Content-Type and the parsed body (null if not JSON).
struct http_answer {
  int status = 0;
  std::string content_type;
  nlohmann::json body;
  std::string raw;
};

inline http_answer to_answer(const httplib::Result& result) {
  http_answer answer;
  if (!result) return answer;
  answer.status = result->status;
  answer.content_type = result->get_header_value("Content-Type");
  answer.raw = result->body;
  answer.body = nlohmann::json::parse(result->body, nullptr, false);
  return answer;
}

inline http_answer post_raw(httplib::Client& client, const std::string& path, const std::string& body,
                            const std::string& content_type = "application/json") {
  return to_answer(client.Post(path.c_str(), body, content_type.c_str()));
}

inline http_answer post_params(httplib::Client& client, const std::string& path, const nlohmann::json& params) {
  return post_raw(client, path, params.dump());
}

/// application/x-www-form-urlencoded text of a flat JSON object of strings.
inline std::string form_encode(const nlohmann::json& params) {
  auto escape = [](const std::string& text) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back('%');
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
      }
    }
    return out;
  };
  std::string body;
  for (const auto& [name, value] : params.items()) {
    if (!body.empty()) body += '&';
    body += escape(name) + "=" + escape(value.is_string() ? value.get<std::string>() : value.dump());
  }
  return body;
}

/// The common parameters the fixture client sends (sha256 is the client's default
/// passwordhashalgo), plus appVersion.
inline nlohmann::json common_params(const std::string& password = "testpassword",
                                    const std::string& algorithm = "sha256") {
  return {{"userid", "testuser"},
          {"password", transport::hash_password(algorithm, password)},
          {"AppID", "konyfsjs"},
          {"appVersion", workorder_config().version}};
}

} // namespace mxsync::test
