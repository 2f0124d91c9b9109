#pragma once
// The HTTP front of mxsync-server (docs/protocol.md 1.1-1.3, 1.9, 7, 8): routes the
// sync endpoints, reads the parameters, authenticates, checks AppID and appVersion,
// hands the request to the protocol core and wraps every answer, success or error,
// in HTTP 200 {"opstatus":0,"d":{...,"server":{...}}} labelled application/json.
//
// Two layers: sync_front is the protocol front without sockets (unit-testable);
// http_server puts it behind cpp-httplib (thread pool, keep-alive, body limit, TLS).

#include "server/auth.hpp"
#include "server/request_params.hpp"
#include "server/settings.hpp"
#include "server/sync_service.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mxsync::server {

/// Writes whole lines to a stream (stderr in the executable) from many threads.
class request_log {
public:
  request_log(log_level level, std::ostream& out);
  bool enabled(log_level level) const noexcept { return level <= level_; }
  void write(log_level level, std::string_view line);

private:
  log_level level_;
  std::ostream& out_;
  std::mutex mutex_;
};

/// The core's entry point as the front sees it (sync_service::handle in the
/// executable; tests may put a stand-in here).
using sync_handler = std::function<nlohmann::json(const sync_request&)>;

/// The endpoints the front routes; everything else is answered with SY0000E.
bool is_sync_endpoint(std::string_view endpoint);

/// The endpoint a path segment names: "upload" or "download" for the configured web
/// contexts (`names`), the segment itself otherwise (the standard names always work).
std::string canonical_endpoint(std::string_view segment, const web_context_names& names = {});

/// Splits a request path into (appid from the URL or "", endpoint):
/// /syncservice/resources/<endpoint> or /syncservice/api/v1/<appid>/<endpoint>, with a
/// configured web context mapped to its endpoint (canonical_endpoint).
/// nullopt when the path is neither.
struct route {
  std::string url_app_id; ///< empty for the /resources/ form
  std::string endpoint;
};
std::optional<route> parse_route(std::string_view path, const web_context_names& names = {});

/// The protocol front without HTTP.
class sync_front {
public:
  struct options {
    std::vector<std::string> previous_versions; ///< SY3001E instead of SY3005E for these
    std::string host_name;                      ///< d.server.hostName; empty = gethostname()
    web_context_names web_contexts{};           ///< extra names of upload and download
  };

  sync_front(const sync_config& config, const user_directory& users, sync_handler handler,
             options opts);

  /// One answer, with what the request log needs.
  struct answer {
    nlohmann::json body;  ///< {"opstatus":0,"d":{...}}
    std::string user;     ///< the userid parameter ("-" when none)
    std::string outcome;  ///< "ok" or the errcode
  };

  /// Answers one request. `local_ip` goes into d.server.ipAddress. Never throws
  /// for client errors: they become error envelopes.
  /// `authorization` is the X-Kony-Authorization header ("" when absent): a known
  /// claims token logs its user in when userid/password are not both sent.
  answer handle(std::string_view path, const param_map& params, std::string_view local_ip,
                std::string_view authorization = {}) const;

  /// An error envelope (also used by the HTTP layer for body-limit and method errors).
  answer error(const std::string& errcode, const std::string& message, std::string_view local_ip,
               std::string user = "-") const;

  /// {"hostName":..,"ipAddress":..}
  nlohmann::json server_details(std::string_view local_ip) const;

private:
  nlohmann::json dispatch(const route& target, const param_map& params, std::string_view authorization,
                          std::string& user) const;
  void check_app_id(const route& target, const param_map& params) const;
  void check_version(const param_map& params) const;

  const sync_config& config_;
  const user_directory& users_;
  sync_handler handler_;
  options options_;
};

struct http_server_options {
  std::string host = "127.0.0.1";
  int port = 0; ///< 0 = any free port
  std::size_t threads = 256;
  std::size_t max_body_bytes = 64 * 1024 * 1024;
  compression_settings compression;
  std::time_t keep_alive_timeout_seconds = 5;
  std::size_t keep_alive_max_requests = 1000;
  std::time_t read_timeout_seconds = 30;
  std::optional<std::string> tls_cert; ///< PEM; both set = https
  std::optional<std::string> tls_key;
  /// When set, POST /mxsync/admin/{load,upsert,delete} is served to loopback
  /// clients: the body is a data set (admin.hpp), the query parameter "table"
  /// optional; the handler returns the number of rows written. Off by default.
  std::function<std::size_t(const std::string& command, const nlohmann::json& data_set, const std::string& table)>
      admin;

  static http_server_options from(const server_settings& settings);
};

/// sync_front behind cpp-httplib.
class http_server {
public:
  http_server(http_server_options options, const sync_front& front, request_log& log);
  ~http_server(); ///< stops and joins
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds the listening socket; returns the port (the chosen one for port 0).
  /// Throws std::runtime_error when binding fails or the TLS files are unusable.
  int bind();
  /// Serves until stop() (from any thread); binds first if needed. Returns false
  /// if serving failed.
  bool run();
  /// run() on a background thread; returns once the socket is bound.
  void start();
  /// Stops accepting, lets in-flight requests finish, joins the workers. Idempotent.
  void stop();
  /// Waits for the background thread of start().
  void wait();

  int port() const noexcept { return port_; }
  bool tls() const noexcept { return tls_; }
  /// "http://127.0.0.1:43567" (https with TLS).
  std::string url() const;

private:
  class backend; // the httplib server and its routes
  http_server_options options_;
  const sync_front& front_;
  request_log& log_;
  std::unique_ptr<backend> backend_;
  std::thread runner_;
  std::mutex state_mutex_;
  std::condition_variable state_changed_;
  bool listening_ = false;      ///< run() is inside httplib's accept loop
  bool stop_requested_ = false; ///< stop() came, maybe before run()
  int port_ = -1;
  bool tls_ = false;
};

} // namespace mxsync::server
