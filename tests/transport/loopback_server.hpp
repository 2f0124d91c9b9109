#pragma once
// Test helpers for the HTTP client: a cpp-httplib server on 127.0.0.1 (an ephemeral
// port, never any other address), a self-signed certificate made with OpenSSL's C
// API, and a countdown to wait for completions.

#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
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

/// A self-signed certificate for 127.0.0.1 (CN and subjectAltName IP) written as PEM
/// files into a fresh temporary directory, removed again by the destructor.
class self_signed_certificate {
public:
  self_signed_certificate() {
    directory_ = std::filesystem::temp_directory_path()
                 / ("mxsync-tls-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(directory_);
    make();
  }
  ~self_signed_certificate() {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
  self_signed_certificate(const self_signed_certificate&) = delete;
  self_signed_certificate& operator=(const self_signed_certificate&) = delete;

  std::string certificate_file() const { return (directory_ / "cert.pem").string(); }
  std::string key_file() const { return (directory_ / "key.pem").string(); }

private:
  struct key_free {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
  };
  struct cert_free {
    void operator()(X509* cert) const noexcept { X509_free(cert); }
  };
  struct bio_free {
    void operator()(BIO* bio) const noexcept { BIO_free_all(bio); }
  };
  struct extension_free {
    void operator()(X509_EXTENSION* extension) const noexcept { X509_EXTENSION_free(extension); }
  };

  static void require(bool ok, const char* what) {
    if (!ok)
      throw std::runtime_error(std::string{"OpenSSL: "} + what);
  }

  static void add_extension(X509* cert, int nid, const char* value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
    std::unique_ptr<X509_EXTENSION, extension_free> extension{
      X509V3_EXT_conf_nid(nullptr, &context, nid, value)};
    require(extension && X509_add_ext(cert, extension.get(), -1) == 1, "add extension");
  }

  void make() {
    std::unique_ptr<EVP_PKEY, key_free> key{EVP_EC_gen("P-256")};
    require(key != nullptr, "key generation");
    std::unique_ptr<X509, cert_free> cert{X509_new()};
    require(cert != nullptr, "X509_new");
    require(X509_set_version(cert.get(), 2) == 1, "version");
    require(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1, "serial");
    require(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) != nullptr, "notBefore");
    require(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600) != nullptr, "notAfter");
    require(X509_set_pubkey(cert.get(), key.get()) == 1, "pubkey");
    X509_NAME* name = X509_get_subject_name(cert.get());
    require(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0)
              == 1,
            "CN");
    require(X509_set_issuer_name(cert.get(), name) == 1, "issuer");
    add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), NID_subject_alt_name, "IP:127.0.0.1");
    require(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "sign");

    std::unique_ptr<BIO, bio_free> cert_out{BIO_new_file(certificate_file().c_str(), "w")};
    require(cert_out && PEM_write_bio_X509(cert_out.get(), cert.get()) == 1, "write certificate");
    std::unique_ptr<BIO, bio_free> key_out{BIO_new_file(key_file().c_str(), "w")};
    require(key_out
              && PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr)
                   == 1,
            "write key");
  }

  std::filesystem::path directory_;
};

} // namespace mxsync::test
