#pragma once
// An asynchronous HTTP client on libcurl's multi interface, shared by many sync
// sessions: one object owns one multi handle and ONE background I/O thread that
// drives every transfer (curl_multi_poll + curl_multi_wakeup). submit() never blocks
// on the network; completions run on the I/O thread and must be cheap (post to an
// actor and return).
//
// Failures are reported as the documented network codes (docs/protocol.md 1.9 / 4):
// 1000 unknown, 1011 no connectivity, 1012 request failed (non-200 status, dropped
// connection), 1014 timeout, 1015 cannot find host, 1016 cannot connect, 1022
// cancelled, 1200 SSL. docs/transport.md has the full table.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mxsync::transport {

/// Documented codes used by the transport (docs/protocol.md 4).
namespace codes {
inline constexpr int unknown_connect_error = 1000;
inline constexpr int no_connectivity = 1011;
inline constexpr int request_failed = 1012;
inline constexpr int invalid_json = 1013;
inline constexpr int timeout = 1014;
inline constexpr int cannot_find_host = 1015;
inline constexpr int cannot_connect = 1016;
inline constexpr int cancelled = 1022;
inline constexpr int ssl_error = 1200;
inline constexpr int upload_failed = 7020;
inline constexpr int download_failed = 7021;
inline constexpr int chunking = 7024;
inline constexpr int unknown_server_error = 8888;
} // namespace codes

using request_id = std::uint64_t;

/// A POST with a body and headers.
struct http_request {
  std::string url;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// networktimeout for this request; 0 = the client's default.
  std::chrono::milliseconds timeout{0};
};

struct http_response {
  request_id id = 0;
  /// 0 on success (HTTP 200), else a network code (1000, 1011-1016, 1022, 1200).
  int network_code = 0;
  long http_status = 0; ///< 0 when no response arrived
  std::string body;
  std::string content_type;
  std::string error_message; ///< libcurl's explanation on failure
  std::chrono::microseconds elapsed{0};

  bool ok() const noexcept { return network_code == 0; }
};

using http_completion = std::function<void(http_response)>;

/// What a fault hook decides for a request before it is sent.
struct fault_decision {
  std::chrono::milliseconds delay{0}; ///< hold the request this long first
  std::optional<int> fail_with;        ///< then fail it with this code instead of sending
  static fault_decision pass() { return {}; }
};

/// Called on the I/O thread for every request before it is sent (reliability tests).
using fault_hook = std::function<fault_decision(request_id, const http_request&)>;

struct http_client_options {
  std::chrono::milliseconds default_timeout{std::chrono::seconds{60}};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds{30}};
  /// TLS: verify peer and host unless `insecure` (tests only).
  bool insecure = false;
  std::string ca_file; ///< PEM bundle to verify against; empty = the system store
  /// Connections kept open for reuse (CURLMOPT_MAXCONNECTS); sized for many sessions.
  long connection_cache_size = 256;
  /// Transfers on the wire at once (so, with keep-alive, about as many connections);
  /// further requests wait in the client's FIFO queue. The client queues itself rather
  /// than through CURLMOPT_MAX_HOST_CONNECTIONS, whose parked transfers could stall until
  /// the next poll timeout in libcurl 7.88.
  std::size_t max_parallel_transfers = 32;
  std::string user_agent = "mxsync/0.1";
  /// Ask for gzip/deflate/br responses.
  bool accept_compression = true;
  /// A larger answer is abandoned with 1012, so a broken server cannot exhaust memory;
  /// 0 = no limit.
  std::size_t max_response_bytes = std::size_t{1} << 30;
  fault_hook fault;
};

/// The network code for a libcurl result (a CURLcode) and the OS errno libcurl saw;
/// 0 for CURLE_OK. The HTTP status is judged separately (non-200 -> 1012).
int network_code_for_curl_result(int curl_code, long os_errno);

/// RAII: the destructor shuts down (see shutdown()).
class http_client {
public:
  explicit http_client(http_client_options options = {});
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Queues a POST; `done` runs exactly once on the I/O thread. After shutdown the
  /// request is not sent and `done` runs at once on the caller's thread with 1022.
  request_id submit(http_request request, http_completion done);

  /// Completes the request with 1022 unless it already completed. Safe from any
  /// thread, including from a completion callback.
  void cancel(request_id id);

  /// Replaces the fault hook (empty = none) for requests not yet sent.
  void set_fault_hook(fault_hook hook);

  /// Stops the I/O thread; every outstanding request completes with 1022 on the I/O
  /// thread before this returns. Idempotent. Must not be called from a completion.
  void shutdown();

  /// Requests submitted and not yet completed.
  std::size_t in_flight() const noexcept;

private:
  struct engine;
  std::unique_ptr<engine> engine_;
};

} // namespace mxsync::transport
