#include "server/http_server.hpp"

#include "transport/json_depth.hpp"

#include <httplib.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace mxsync::server {

using json = nlohmann::json;

// ---------------------------------------------------------------- request_log

request_log::request_log(log_level level, std::ostream& out) : level_(level), out_(out) {}

void request_log::write(log_level level, std::string_view line) {
  if (!enabled(level)) return;
  auto now = std::chrono::system_clock::now();
  auto seconds = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::ostringstream text;
  text << std::put_time(&utc, "%Y-%m-%dT%H:%M:%S") << '.' << std::setw(3) << std::setfill('0') << millis
       << "Z " << to_string(level) << ' ' << line << '\n';
  std::lock_guard lock{mutex_};
  out_ << text.str() << std::flush;
}

// ---------------------------------------------------------------- routing

namespace {

constexpr std::string_view resources_prefix = "/syncservice/resources/";
constexpr std::string_view api_prefix = "/syncservice/api/v1/";
constexpr std::string_view admin_prefix = "/mxsync/admin/";

/// SY3001E carries the two versions so that the client can start its upgrade
/// flow (docs/protocol.md 1.8).
class version_outdated : public protocol_error {
public:
  version_outdated(std::string client_version, std::string server_version)
    : protocol_error("SY3001E", "Application version " + client_version +
                                    " is not the latest; the server runs version " + server_version),
      client_version_(std::move(client_version)), server_version_(std::move(server_version)) {}
  const std::string& client_version() const noexcept { return client_version_; }
  const std::string& server_version() const noexcept { return server_version_; }

private:
  std::string client_version_;
  std::string server_version_;
};

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
    throw std::runtime_error("no randomness for a session id");
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto byte : raw) {
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 0x0f]);
  }
  return out;
}

std::string local_host_name() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return "localhost";
  return name.data();
}

/// Client-controlled text for a log line: no spaces or control characters, so
/// that one request stays one parseable line.
std::string loggable(std::string_view text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text.substr(0, 200)) {
    if (c > 0x20 && c < 0x7f && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
  }
  return out.empty() ? "-" : out;
}

std::string supported_paths_hint(const web_context_names& names) {
  std::string hint = "the sync service serves POST /syncservice/resources/<endpoint> and "
                     "/syncservice/api/v1/<appid>/<endpoint> with <endpoint> one of registerdevice, upload, "
                     "download, downloadchunk, authenticateUser";
  if (names.upload != "upload") hint += ", " + names.upload + " (upload)";
  if (names.download != "download") hint += ", " + names.download + " (download)";
  return hint;
}

} // namespace

bool is_sync_endpoint(std::string_view endpoint) {
  return endpoint == "registerdevice" || endpoint == "upload" || endpoint == "download" ||
         endpoint == "downloadchunk" || endpoint == "authenticateUser";
}

std::string canonical_endpoint(std::string_view segment, const web_context_names& names) {
  if (segment == names.upload) return "upload";
  if (segment == names.download) return "download";
  return std::string{segment};
}

std::optional<route> parse_route(std::string_view path, const web_context_names& names) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  route result;
  if (path.substr(0, resources_prefix.size()) == resources_prefix) {
    result.endpoint = std::string{path.substr(resources_prefix.size())};
  } else if (path.substr(0, api_prefix.size()) == api_prefix) {
    auto rest = path.substr(api_prefix.size());
    auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) return std::nullopt;
    result.url_app_id = url_decode(rest.substr(0, slash), false);
    result.endpoint = std::string{rest.substr(slash + 1)};
  } else {
    return std::nullopt;
  }
  if (result.endpoint.empty() || result.endpoint.find('/') != std::string::npos) return std::nullopt;
  result.endpoint = canonical_endpoint(result.endpoint, names);
  return result;
}

// ---------------------------------------------------------------- sync_front

sync_front::sync_front(const sync_config& config, const user_directory& users, sync_handler handler,
                       options opts)
  : config_(config), users_(users), handler_(std::move(handler)), options_(std::move(opts)) {
  if (options_.host_name.empty()) options_.host_name = local_host_name();
}

json sync_front::server_details(std::string_view local_ip) const {
  return {{"hostName", options_.host_name}, {"ipAddress", std::string{local_ip}}};
}

sync_front::answer sync_front::error(const std::string& errcode, const std::string& message,
                                     std::string_view local_ip, std::string user) const {
  json d = {{"error", "true"}, {"errcode", errcode}, {"msg", message}, {"server", server_details(local_ip)}};
  return {json{{"opstatus", 0}, {"d", std::move(d)}}, std::move(user), errcode};
}

sync_front::answer sync_front::handle(std::string_view path, const param_map& params, std::string_view local_ip,
                                      std::string_view authorization) const {
  std::string user = "-";
  if (const auto* userid = find_param(params, "userid"); userid && !userid->empty()) user = *userid;
  try {
    auto target = parse_route(path, options_.web_contexts);
    if (!target)
      throw protocol_error(malformed_request_errcode, "unknown endpoint '" + std::string{path} +
                                                          "': " + supported_paths_hint(options_.web_contexts));
    json d = dispatch(*target, params, authorization, user);
    d["error"] = "false";
    d["server"] = server_details(local_ip);
    return {json{{"opstatus", 0}, {"d", std::move(d)}}, std::move(user), "ok"};
  } catch (const version_outdated& e) {
    auto result = error(e.errcode(), e.what(), local_ip, user);
    result.body["d"]["newapplicationversion"] = e.server_version();
    result.body["d"]["oldapplicationversion"] = e.client_version();
    return result;
  } catch (const protocol_error& e) {
    return error(e.errcode(), e.what(), local_ip, user);
  } catch (const std::exception& e) {
    // A fault of the server itself, not of the request: still an envelope the
    // client can read, with the generic server code.
    return error(malformed_request_errcode, std::string{"internal server error: "} + e.what(), local_ip, user);
  }
}

void sync_front::check_app_id(const route& target, const param_map& params) const {
  const auto* sent = find_param(params, "AppID");
  bool sent_given = sent && !sent->empty();
  if (!target.url_app_id.empty()) {
    // With a Foundry token the client sends no AppID: the URL names the app (8.9).
    if (target.url_app_id != config_.app_id)
      throw protocol_error("1004", "Unknown application ID '" + target.url_app_id + "' in the URL");
    if (sent_given && *sent != config_.app_id)
      throw protocol_error("1004", "Unknown application ID '" + *sent + "'");
    return;
  }
  if (!sent_given) throw protocol_error("1004", "Unknown application ID: the AppID parameter is missing");
  if (*sent != config_.app_id) throw protocol_error("1004", "Unknown application ID '" + *sent + "'");
}

void sync_front::check_version(const param_map& params) const {
  const auto* version = find_param(params, "appVersion");
  if (!version || version->empty())
    throw protocol_error("SY3003E", "Client version is null or empty: the appVersion parameter is missing");
  if (*version == config_.version) return;
  for (const auto& previous : options_.previous_versions)
    if (previous == *version) throw version_outdated(*version, config_.version);
  throw protocol_error("SY3005E", "Client version " + *version + " does not match the server version " +
                                      config_.version);
}

json sync_front::dispatch(const route& target, const param_map& params, std::string_view authorization,
                          std::string& user) const {
  if (!is_sync_endpoint(target.endpoint))
    throw protocol_error(malformed_request_errcode,
                         "endpoint '" + target.endpoint + "' is not supported: " +
                             supported_paths_hint(options_.web_contexts));
  const auto* userid = find_param(params, "userid");
  const auto* password = find_param(params, "password");
  if (userid && !userid->empty() && password) {
    if (!users_.check(*userid, *password))
      throw protocol_error(invalid_credentials_errcode, invalid_credentials_message);
    user = *userid;
  } else if (!authorization.empty()) {
    // A client with only a claims token sends no userid/password (docs/protocol.md 1.2).
    auto token_user = users_.user_for_token(authorization);
    if (!token_user) throw protocol_error(invalid_credentials_errcode, "Invalid authorization token");
    user = *token_user;
  } else {
    throw protocol_error(invalid_credentials_errcode,
                         std::string{invalid_credentials_message} + ": userid and password are required");
  }
  if (target.endpoint == "authenticateUser") {
    // Its appid is optional (DOC-GSG Authentication_Service.md): checked only when sent.
    if (const auto* app = find_param(params, "AppID"); (app && !app->empty()) || !target.url_app_id.empty())
      check_app_id(target, params);
    return json{{"userid", user}, {"authenticated", "true"}};
  }
  check_app_id(target, params);
  if (target.endpoint != "registerdevice") check_version(params);

  sync_request request{target.endpoint, user, params, decode_json_params(params)};
  json d = handler_(request);
  if (!d.is_object()) throw std::runtime_error("the sync core returned no object");
  if (!d.contains("__session")) {
    // Sessions are not tracked; echoing the client's id keeps it stable across a
    // sync session, and the request number counts up as the real server's does.
    std::string id;
    if (const auto* sent = find_param(params, "konysyncsessionid"); sent && !sent->empty()) id = *sent;
    else id = random_hex(16);
    long long number = 0;
    if (const auto* sent = find_param(params, "konysyncrequestnumber"); sent && !sent->empty()) {
      try {
        number = std::stoll(*sent);
      } catch (const std::exception&) {
        number = 0;
      }
    }
    d["__session"] = {{"id", id}, {"requestnumber", std::to_string(number + 1)}};
  }
  return d;
}

// ---------------------------------------------------------------- thread pool

namespace {

/// httplib keeps one worker per open (keep-alive) connection, so the pool must be
/// able to hold as many workers as there are concurrent clients. This pool starts
/// small and adds a worker whenever a task arrives and none is idle, up to a
/// maximum; beyond it, tasks wait in the queue.
class elastic_pool : public httplib::TaskQueue {
public:
  explicit elastic_pool(std::size_t max_workers) : max_workers_(std::max<std::size_t>(1, max_workers)) {
    std::lock_guard lock{mutex_};
    for (std::size_t i = 0; i < std::min<std::size_t>(4, max_workers_); ++i) add_worker();
  }
  ~elastic_pool() override { shutdown(); }

  void enqueue(std::function<void()> task) override {
    {
      std::lock_guard lock{mutex_};
      tasks_.push_back(std::move(task));
      if (idle_ < tasks_.size() && workers_.size() < max_workers_) add_worker();
    }
    wake_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock{mutex_};
      if (stopping_ && workers_.empty()) return;
      stopping_ = true;
    }
    wake_.notify_all();
    std::vector<std::thread> workers;
    {
      std::lock_guard lock{mutex_};
      workers.swap(workers_);
    }
    for (auto& worker : workers) worker.join();
  }

private:
  void add_worker() { workers_.emplace_back([this] { work(); }); }

  void work() {
    std::unique_lock lock{mutex_};
    for (;;) {
      ++idle_;
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      --idle_;
      if (tasks_.empty()) return; // stopping, and nothing left to do
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  const std::size_t max_workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> workers_;
  std::size_t idle_ = 0;
  bool stopping_ = false;
};

/// httplib listens with a backlog of 5, too few for hundreds of clients that
/// connect at once; listen() on a listening socket only changes its backlog.
template <class Base>
class wide_backlog_server : public Base {
public:
  using Base::Base;
  void widen_backlog(int backlog) {
    auto socket = this->svr_sock_.load();
    if (socket != INVALID_SOCKET) ::listen(socket, backlog);
  }
};

} // namespace

// ---------------------------------------------------------------- http_server

http_server_options http_server_options::from(const server_settings& settings) {
  http_server_options options;
  options.host = settings.host;
  options.port = settings.port;
  options.threads = settings.threads;
  options.max_body_bytes = settings.max_body_bytes;
  options.compression = settings.compression;
  options.keep_alive_timeout_seconds = settings.keep_alive_timeout_seconds;
  options.keep_alive_max_requests = settings.keep_alive_max_requests;
  options.read_timeout_seconds = settings.read_timeout_seconds;
  options.tls_cert = settings.tls_cert;
  options.tls_key = settings.tls_key;
  return options;
}

class http_server::backend {
public:
  backend(const http_server_options& options, const sync_front& front, request_log& log)
    : options_(options), front_(front), log_(log) {
    if (options.tls_cert && options.tls_key) {
      auto secure = std::make_unique<wide_backlog_server<httplib::SSLServer>>(options.tls_cert->c_str(),
                                                                              options.tls_key->c_str());
      if (!secure->is_valid())
        throw std::runtime_error("cannot use the TLS certificate '" + *options.tls_cert + "' and key '" +
                                 *options.tls_key + "' (unreadable, not PEM, or not a matching pair)");
      widen_backlog_ = [raw = secure.get()](int backlog) { raw->widen_backlog(backlog); };
      server_ = std::move(secure);
    } else {
      auto plain = std::make_unique<wide_backlog_server<httplib::Server>>();
      widen_backlog_ = [raw = plain.get()](int backlog) { raw->widen_backlog(backlog); };
      server_ = std::move(plain);
    }
    configure();
  }

  int bind() {
    int port = options_.port == 0 ? server_->bind_to_any_port(options_.host)
                                  : (server_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
    if (port < 0)
      throw std::runtime_error("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                               " (address in use, not local, or not permitted)");
    widen_backlog_(1024);
    return port;
  }

  bool listen() { return server_->listen_after_bind(); }
  void stop() { server_->stop(); }
  bool running() const { return server_->is_running(); }

private:
  void configure() {
    auto threads = options_.threads;
    // httplib takes ownership of the raw pointer and deletes the queue itself.
    server_->new_task_queue = [threads] { return std::make_unique<elastic_pool>(threads).release(); };
    server_->set_keep_alive_max_count(options_.keep_alive_max_requests);
    server_->set_keep_alive_timeout(options_.keep_alive_timeout_seconds);
    server_->set_read_timeout(options_.read_timeout_seconds, 0);
    server_->set_write_timeout(options_.read_timeout_seconds, 0);
    server_->set_payload_max_length(options_.max_body_bytes);
    server_->set_tcp_nodelay(true);

    // The content-reader form keeps httplib from parsing form bodies itself (it
    // refuses urlencoded bodies over 8 KB); the body is read and parsed here.
    server_->Post(R"(/.*)", [this](const httplib::Request& request, httplib::Response& response,
                                   const httplib::ContentReader& reader) {
      serve_post(request, response, reader);
    });
    auto wrong_method = [this](const httplib::Request& request, httplib::Response& response) {
      reply(request, response,
            front_.error(malformed_request_errcode,
                         "method " + request.method + " is not allowed: the sync service takes POST requests",
                         request.local_addr));
    };
    server_->Get(R"(/.*)", wrong_method);
    server_->Put(R"(/.*)", wrong_method);
    server_->Delete(R"(/.*)", wrong_method);
    server_->Patch(R"(/.*)", wrong_method);
    server_->Options(R"(/.*)", wrong_method);

    // What httplib refuses before a handler runs (body too large, bad request
    // line, unknown method) still gets the JSON envelope with HTTP 200.
    server_->set_error_handler([this](const httplib::Request& request, httplib::Response& response) {
      std::string message;
      if (response.status == 413)
        message = "the request body exceeds the limit of " + std::to_string(options_.max_body_bytes) +
                  " bytes (settings key max_body_bytes)";
      else if (response.status == 404 || response.status == 405)
        message = "method " + request.method + " is not allowed on " + request.path +
                  ": the sync service takes POST requests";
      else
        message = "malformed HTTP request (HTTP status " + std::to_string(response.status) + ")";
      reply(request, response, front_.error(malformed_request_errcode, message, request.local_addr));
    });
    server_->set_exception_handler(
        [this](const httplib::Request& request, httplib::Response& response, std::exception_ptr failure) {
          std::string message = "internal server error";
          try {
            if (failure) std::rethrow_exception(failure);
          } catch (const std::exception& e) {
            message += std::string{": "} + e.what();
          } catch (...) {
          }
          reply(request, response, front_.error(malformed_request_errcode, message, request.local_addr));
        });
  }

  void serve_post(const httplib::Request& request, httplib::Response& response,
                  const httplib::ContentReader& reader) {
    auto started = std::chrono::steady_clock::now();
    sync_front::answer answer;
    try {
      if (options_.admin && request.path.rfind(admin_prefix, 0) == 0) {
        answer = serve_admin(request, reader);
        reply(request, response, answer, started);
        return;
      }
      auto params = read_params(request, reader);
      answer = front_.handle(request.path, params, request.local_addr,
                             request.get_header_value("X-Kony-Authorization"));
    } catch (const protocol_error& e) {
      answer = front_.error(e.errcode(), e.what(), request.local_addr);
      // The body may be left unread on the socket: this connection cannot carry
      // another request.
      response.set_header("Connection", "close");
    } catch (const std::exception& e) {
      answer = front_.error(malformed_request_errcode, std::string{"internal server error: "} + e.what(),
                            request.local_addr);
    }
    reply(request, response, answer, started);
  }

  sync_front::answer serve_admin(const httplib::Request& request, const httplib::ContentReader& reader) {
    auto command = request.path.substr(admin_prefix.size());
    if (!is_loopback(request.remote_addr))
      throw protocol_error(malformed_request_errcode, "the admin endpoint answers loopback clients only");
    if (command != "load" && command != "upsert" && command != "delete")
      throw protocol_error(malformed_request_errcode,
                           "unknown admin command '" + command + "' (use load, upsert or delete)");
    auto body = read_body(request, reader);
    auto data_set = transport::too_deep(body) ? json(json::value_t::discarded)
                                              : json::parse(body, nullptr, false);
    if (data_set.is_discarded())
      throw protocol_error(malformed_request_errcode, "the admin request body is not valid JSON");
    auto table = request.has_param("table") ? request.get_param_value("table") : std::string{};
    std::size_t rows = 0;
    try {
      rows = options_.admin(command, data_set, table);
    } catch (const protocol_error&) {
      throw;
    } catch (const std::exception& e) {
      throw protocol_error(malformed_request_errcode, e.what());
    }
    json d = {{"error", "false"}, {"rows", rows}, {"server", front_.server_details(request.local_addr)}};
    return {json{{"opstatus", 0}, {"d", std::move(d)}}, "admin", "ok"};
  }

  static bool is_loopback(const std::string& address) {
    return address.rfind("127.", 0) == 0 || address == "::1" || address == "::ffff:127.0.0.1";
  }

  std::string read_body(const httplib::Request& request, const httplib::ContentReader& reader) {
    if (request.has_header("Content-Length") &&
        request.get_header_value<std::uint64_t>("Content-Length") > options_.max_body_bytes)
      throw body_limit_error();
    std::string body;
    bool complete = reader([&](const char* data, std::size_t length) {
      body.append(data, length);
      return body.size() <= options_.max_body_bytes;
    });
    if (body.size() > options_.max_body_bytes) throw body_limit_error();
    if (!complete) throw protocol_error(malformed_request_errcode, "the request body could not be read completely");
    return body;
  }

  protocol_error body_limit_error() const {
    return protocol_error(malformed_request_errcode, "the request body exceeds the limit of " +
                                                         std::to_string(options_.max_body_bytes) +
                                                         " bytes (settings key max_body_bytes)");
  }

  param_map read_params(const httplib::Request& request, const httplib::ContentReader& reader) {
    param_map params;
    // Query parameters count too (handy with curl); body parameters win.
    for (const auto& [name, value] : request.params) params[name] = value;
    if (!request.is_multipart_form_data()) {
      auto fields = parse_body(request.get_header_value("Content-Type"), read_body(request, reader));
      for (auto& [name, value] : fields) params[name] = std::move(value);
      return params;
    }
    if (request.has_header("Content-Length") &&
        request.get_header_value<std::uint64_t>("Content-Length") > options_.max_body_bytes)
      throw body_limit_error();
    param_map fields;
    std::string current;
    std::size_t received = 0;
    bool complete = reader(
        [&](const httplib::MultipartFormData& field) {
          current = field.name;
          fields[current].clear();
          return true;
        },
        [&](const char* data, std::size_t length) {
          fields[current].append(data, length);
          received += length;
          return received <= options_.max_body_bytes;
        });
    if (received > options_.max_body_bytes) throw body_limit_error();
    if (!complete) throw protocol_error(malformed_request_errcode, "the request body could not be read completely");
    for (auto& [name, value] : fields) params[name] = std::move(value);
    return params;
  }

  void reply(const httplib::Request& request, httplib::Response& response, const sync_front::answer& answer,
             std::optional<std::chrono::steady_clock::time_point> started = std::nullopt) {
    response.status = 200;
    auto encoded = encode_answer(answer.body.dump(-1, ' ', false, json::error_handler_t::replace),
                                 request.get_header_value("Accept-Encoding"), options_.compression);
    if (encoded.gzipped) response.set_header("Content-Encoding", "gzip");
    response.set_content(std::move(encoded.body), json_content_type);
    if (log_.enabled(log_level::info)) {
      std::ostringstream line;
      line << loggable(request.method) << ' ' << loggable(request.path) << " user=" << loggable(answer.user)
           << " http=200"
           << " result=" << answer.outcome;
      if (started) {
        auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - *started);
        line << " duration_ms=" << std::fixed << std::setprecision(1) << elapsed.count();
      }
      log_.write(log_level::info, line.str());
    }
  }

  const http_server_options& options_;
  const sync_front& front_;
  request_log& log_;
  std::unique_ptr<httplib::Server> server_;
  std::function<void(int)> widen_backlog_;
};

http_server::http_server(http_server_options options, const sync_front& front, request_log& log)
  : options_(std::move(options)), front_(front), log_(log),
    backend_(std::make_unique<backend>(options_, front_, log_)), tls_(options_.tls_cert && options_.tls_key) {}

http_server::~http_server() {
  stop();
  wait();
}

int http_server::bind() {
  if (port_ < 0) port_ = backend_->bind();
  return port_;
}

bool http_server::run() {
  bind();
  {
    std::lock_guard lock{state_mutex_};
    if (stop_requested_) return true;
    listening_ = true;
  }
  bool served = backend_->listen();
  {
    std::lock_guard lock{state_mutex_};
    listening_ = false;
  }
  state_changed_.notify_all();
  return served;
}

void http_server::start() {
  bind();
  runner_ = std::thread([this] { run(); });
}

void http_server::stop() {
  std::unique_lock lock{state_mutex_};
  stop_requested_ = true;
  // httplib ignores stop() until its accept loop runs, and must not be stopped
  // twice: stop once, as soon as it is running, then wait for the loop to end.
  bool stopped = false;
  while (listening_) {
    if (!stopped && backend_->running()) {
      backend_->stop();
      stopped = true;
    }
    state_changed_.wait_for(lock, std::chrono::milliseconds(2), [this] { return !listening_; });
  }
}

void http_server::wait() {
  if (runner_.joinable()) runner_.join();
}

std::string http_server::url() const {
  std::string host = options_.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string{tls_ ? "https" : "http"} + "://" + host + ":" + std::to_string(port_);
}

} // namespace mxsync::server
