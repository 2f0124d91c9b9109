#pragma once
// Test helpers for the HTTP client: a cpp-httplib server on 127.0.0.1 (an ephemeral
// port, never any other address), a countdown to wait for completions, and (from
// support/self_signed_certificate.hpp) a self-signed certificate for 127.0.0.1.

#include "support/self_signed_certificate.hpp"

#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

namespace mxsync::test {

/// Waits for `count` arrivals.
class countdown {
public:
  explicit countdown(int count) : remaining_(count) {}
  void arrive() {
    std::lock_guard lock{mutex_};
    if (--remaining_ <= 0)
      done_.notify_all();
  }
  bool wait_for(std::chrono::milliseconds limit) {
    std::unique_lock lock{mutex_};
    return done_.wait_for(lock, limit, [this] { return remaining_ <= 0; });
  }
  int remaining() {
    std::lock_guard lock{mutex_};
    return remaining_;
  }

private:
  std::mutex mutex_;
  std::condition_variable done_;
  int remaining_;
};

/// Runs an httplib server (plain or TLS) on 127.0.0.1 in a background thread with the
/// routes the tests use:
///   POST /echo         200, the request body back as application/json
///   POST /slow         waits X-Delay-Ms (default 500) then answers {} (stops early on shutdown)
///   POST /status/500   500 with a JSON body
class loopback_server {
public:
  /// `extra_routes` may add handlers before the server starts listening.
  explicit loopback_server(std::unique_ptr<httplib::Server> server, bool tls = false,
                           const std::function<void(httplib::Server&)>& extra_routes = {})
    : server_(std::move(server)), tls_(tls) {
    if (extra_routes)
      extra_routes(*server_);
    server_->set_keep_alive_max_count(100000);
    server_->set_keep_alive_timeout(5);
    server_->set_tcp_nodelay(true); // small answers would otherwise wait for delayed ACKs
    server_->Post("/echo", [this](const httplib::Request& request, httplib::Response& response) {
      note_connection(request);
      response.set_content(request.body, "application/json");
    });
    server_->Post("/slow", [this](const httplib::Request& request, httplib::Response& response) {
      note_connection(request);
      auto delay = std::chrono::milliseconds{
        request.has_header("X-Delay-Ms") ? std::stoi(request.get_header_value("X-Delay-Ms")) : 500};
      auto until = std::chrono::steady_clock::now() + delay;
      while (!stopping_ && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
      response.set_content("{}", "application/json");
    });
    server_->Post("/status/500", [](const httplib::Request&, httplib::Response& response) {
      response.status = 500;
      response.set_content(R"({"error":"boom"})", "application/json");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    if (port_ <= 0)
      throw std::runtime_error("cannot bind a loopback port");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    for (int i = 0; i < 5000 && !server_->is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }

  ~loopback_server() {
    stopping_ = true;
    server_->stop();
    thread_.join();
  }

  loopback_server(const loopback_server&) = delete;
  loopback_server& operator=(const loopback_server&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return std::string{tls_ ? "https" : "http"} + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  /// Distinct client ports seen: how many connections the client opened.
  std::size_t connections_seen() {
    std::lock_guard lock{mutex_};
    return client_ports_.size();
  }

private:
  void note_connection(const httplib::Request& request) {
    std::lock_guard lock{mutex_};
    client_ports_.insert(request.remote_port);
  }

  std::unique_ptr<httplib::Server> server_;
  bool tls_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::set<int> client_ports_;
  std::thread thread_;
};

/// A loopback port with nothing listening: bound, read back, closed.
inline int closed_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof(address);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0
      && ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0)
    port = ntohs(address.sin_port);
  ::close(fd);
  if (port <= 0)
    throw std::runtime_error("cannot find a free loopback port");
  return port;
}

} // namespace mxsync::test
