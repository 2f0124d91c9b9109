#include "transport/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace mxsync::transport {

namespace {

using clock_type = std::chrono::steady_clock;

// --- RAII for every libcurl resource --------------------------------------------

/// libcurl reference-counts curl_global_init/cleanup, so each client holds one.
class curl_global_guard {
public:
  curl_global_guard() {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw std::runtime_error("curl_global_init failed");
  }
  ~curl_global_guard() { curl_global_cleanup(); }
  curl_global_guard(const curl_global_guard&) = delete;
  curl_global_guard& operator=(const curl_global_guard&) = delete;
};

struct multi_deleter {
  void operator()(CURLM* multi) const noexcept { curl_multi_cleanup(multi); }
};
struct easy_deleter {
  void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
};
struct slist_deleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using multi_ptr = std::unique_ptr<CURLM, multi_deleter>;
using easy_ptr = std::unique_ptr<CURL, easy_deleter>;
using slist_ptr = std::unique_ptr<curl_slist, slist_deleter>;

/// Appends to a curl_slist without leaking the old list when the append fails.
bool append_header(slist_ptr& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (!grown)
    return false;
  (void)list.release(); // `grown` now owns the old nodes
  list.reset(grown);
  return true;
}

} // namespace

int network_code_for_curl_result(int curl_code, long os_errno) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_OK:
      return 0;
    case CURLE_OPERATION_TIMEDOUT:
      return codes::timeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return codes::cannot_find_host;
    case CURLE_COULDNT_CONNECT:
      // A missing route means no network at all rather than a server that is down.
      if (os_errno == ENETUNREACH || os_errno == ENETDOWN)
        return codes::no_connectivity;
      return codes::cannot_connect;
    case CURLE_INTERFACE_FAILED:
      return codes::no_connectivity;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return codes::ssl_error;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP_RETURNED_ERROR:
      return codes::request_failed;
    case CURLE_ABORTED_BY_CALLBACK:
      return codes::cancelled;
    default:
      return codes::unknown_connect_error;
  }
}

namespace {

/// One request from submit() to its completion.
struct transfer {
  request_id id = 0;
  http_request request;
  http_completion done;
  clock_type::time_point submitted = clock_type::now();
  std::optional<int> injected_failure; // from the fault hook, applied after its delay
  easy_ptr easy;
  slist_ptr headers;
  std::string response_body;
  std::size_t max_response_bytes = 0; // 0 = no limit
  std::chrono::milliseconds remaining_timeout{0};
  bool response_too_large = false;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* item = static_cast<transfer*>(user);
  std::size_t bytes = size * count;
  if (item->max_response_bytes != 0 && item->response_body.size() + bytes > item->max_response_bytes) {
    item->response_too_large = true;
    return 0; // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  item->response_body.append(data, bytes);
  return bytes;
}

} // namespace

struct http_client::engine {
  explicit engine(http_client_options opts) : options(std::move(opts)), fault(options.fault) {
    multi.reset(curl_multi_init());
    if (!multi)
      throw std::runtime_error("curl_multi_init failed");
    curl_multi_setopt(multi.get(), CURLMOPT_MAXCONNECTS, options.connection_cache_size);
    // HTTP/1.1 only: no multiplexing, so one connection per in-flight request.
    curl_multi_setopt(multi.get(), CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
    io = std::thread([this] { run(); });
  }

  ~engine() { stop(); }

  // --- any thread -------------------------------------------------------------

  request_id submit(http_request request, http_completion done) {
    auto item = std::make_unique<transfer>();
    item->id = next_id.fetch_add(1, std::memory_order_relaxed);
    item->request = std::move(request);
    item->done = std::move(done);
    request_id id = item->id;
    {
      std::lock_guard lock{mutex};
      if (!stopping) {
        inbox.push_back(std::move(item));
        outstanding.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (item) { // refused: the client is shut down
      http_response response;
      response.id = id;
      response.network_code = codes::cancelled;
      response.error_message = "the HTTP client is shut down";
      invoke(item->done, std::move(response));
      return id;
    }
    curl_multi_wakeup(multi.get());
    return id;
  }

  void cancel(request_id id) {
    {
      std::lock_guard lock{mutex};
      if (stopping)
        return;
      cancels.push_back(id);
    }
    curl_multi_wakeup(multi.get());
  }

  void set_fault_hook(fault_hook hook) {
    std::lock_guard lock{mutex};
    fault = std::move(hook);
  }

  void stop() {
    if (!io.joinable())
      return;
    if (std::this_thread::get_id() == io.get_id())
      throw std::logic_error("http_client::shutdown called from a completion callback");
    {
      std::lock_guard lock{mutex};
      stopping = true;
    }
    curl_multi_wakeup(multi.get());
    io.join();
  }

  // --- the I/O thread ---------------------------------------------------------

  void run() {
    std::vector<std::unique_ptr<transfer>> arrived;
    std::vector<request_id> cancelled;
    for (;;) {
      fault_hook hook;
      bool stop_now = false;
      {
        std::lock_guard lock{mutex};
        arrived.swap(inbox);
        cancelled.swap(cancels);
        stop_now = stopping;
        if (!arrived.empty() && fault)
          hook = fault;
      }
      if (stop_now) {
        // Everything not yet completed ends as cancelled, on this thread.
        for (auto& item : arrived)
          complete_cancelled(std::move(item), "the HTTP client shut down");
        drain_all();
        return;
      }
      for (auto& item : arrived)
        admit(std::move(item), hook);
      arrived.clear();
      for (auto id : cancelled)
        cancel_now(id);
      cancelled.clear();
      release_due_delays();
      pump();

      int running = 0;
      curl_multi_perform(multi.get(), &running);
      collect_finished();
      pump(); // freed slots go to the queue at once; poll returns early for new handles

      // Sleep no longer than until the next fault-hook release or queued deadline.
      std::optional<clock_type::time_point> next_timer = expire_waiting();
      if (!delayed.empty() && (!next_timer || delayed.begin()->first < *next_timer))
        next_timer = delayed.begin()->first;
      int wait_ms = 1000;
      if (next_timer) {
        auto until = std::chrono::ceil<std::chrono::milliseconds>(*next_timer - clock_type::now());
        wait_ms = static_cast<int>(std::clamp<long long>(until.count(), 0, wait_ms));
      }
      // Returns early on socket activity, libcurl's own timers or curl_multi_wakeup.
      curl_multi_poll(multi.get(), nullptr, 0, wait_ms, nullptr);
    }
  }

  void admit(std::unique_ptr<transfer> item, const fault_hook& hook) {
    if (hook) {
      fault_decision decision;
      try {
        decision = hook(item->id, item->request);
      } catch (...) {
        decision = fault_decision::pass();
      }
      item->injected_failure = decision.fail_with;
      if (decision.delay.count() > 0) {
        auto due = clock_type::now() + decision.delay;
        delayed.emplace(due, std::move(item));
        return;
      }
    }
    start_or_fail(std::move(item));
  }

  void start_or_fail(std::unique_ptr<transfer> item) {
    if (item->injected_failure) {
      int code = *item->injected_failure;
      complete(std::move(item), code, 0, "failed by the fault hook");
      return;
    }
    start(std::move(item));
  }

  void release_due_delays() {
    auto now = clock_type::now();
    while (!delayed.empty() && delayed.begin()->first <= now) {
      auto item = std::move(delayed.begin()->second);
      delayed.erase(delayed.begin());
      start_or_fail(std::move(item));
    }
  }

  easy_ptr take_easy() {
    if (!idle_easy.empty()) {
      auto easy = std::move(idle_easy.back());
      idle_easy.pop_back();
      curl_easy_reset(easy.get());
      return easy;
    }
    return easy_ptr{curl_easy_init()};
  }

  void recycle_easy(easy_ptr easy) {
    // Reusing easy handles saves allocations; connections live in the multi's cache.
    if (easy && idle_easy.size() < 64)
      idle_easy.push_back(std::move(easy));
  }

  bool configure(transfer& item) {
    CURL* easy = item.easy.get();
    const auto& request = item.request;
    auto timeout = item.remaining_timeout;
    auto connect_timeout = std::min(timeout, options.connect_timeout);
    for (const auto& [name, value] : request.headers)
      if (!append_header(item.headers, name + ": " + value))
        return false;
    // No "Expect: 100-continue" round trip before large bodies.
    if (!append_header(item.headers, "Expect:"))
      return false;
    bool ok = true;
    auto set = [&](CURLoption option, auto value) {
      ok = ok && curl_easy_setopt(easy, option, value) == CURLE_OK;
    };
    set(CURLOPT_URL, request.url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_POST, 1L);
    set(CURLOPT_POSTFIELDS, request.body.data());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    set(CURLOPT_HTTPHEADER, item.headers.get());
    set(CURLOPT_WRITEFUNCTION, &write_body);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&item));
    set(CURLOPT_PRIVATE, static_cast<void*>(&item));
    set(CURLOPT_ERRORBUFFER, item.error_buffer.data());
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
    set(CURLOPT_TCP_KEEPALIVE, 1L);
    set(CURLOPT_SSL_VERIFYPEER, options.insecure ? 0L : 1L);
    set(CURLOPT_SSL_VERIFYHOST, options.insecure ? 0L : 2L);
    if (!options.ca_file.empty())
      set(CURLOPT_CAINFO, options.ca_file.c_str());
    if (!options.user_agent.empty())
      set(CURLOPT_USERAGENT, options.user_agent.c_str());
    if (options.accept_compression)
      set(CURLOPT_ACCEPT_ENCODING, "");
    return ok;
  }

  void start(std::unique_ptr<transfer> item) {
    waiting.push_back(std::move(item));
  }

  clock_type::time_point deadline_of(const transfer& item) const {
    auto limit = item.request.timeout.count() > 0 ? item.request.timeout : options.default_timeout;
    return item.submitted + limit;
  }

  /// Completes queued requests whose timeout ran out while they waited for a slot;
  /// returns the earliest deadline still pending in the queue.
  std::optional<clock_type::time_point> expire_waiting() {
    auto now = clock_type::now();
    std::optional<clock_type::time_point> earliest;
    for (auto it = waiting.begin(); it != waiting.end();) {
      auto deadline = deadline_of(**it);
      if (deadline <= now) {
        auto item = std::move(*it);
        it = waiting.erase(it);
        complete(std::move(item), codes::timeout, 0, "timed out while queued");
        continue;
      }
      if (!earliest || deadline < *earliest)
        earliest = deadline;
      ++it;
    }
    return earliest;
  }

  /// Puts waiting transfers on the wire while there is room.
  void pump() {
    std::size_t limit = std::max<std::size_t>(1, options.max_parallel_transfers);
    while (!waiting.empty() && active.size() < limit) {
      auto item = std::move(waiting.front());
      waiting.pop_front();
      launch(std::move(item));
    }
  }

  void launch(std::unique_ptr<transfer> item) {
    // networktimeout counts from submit(): time spent queued is taken off.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_of(*item) - clock_type::now());
    if (left.count() <= 0) {
      complete(std::move(item), codes::timeout, 0, "timed out while queued");
      return;
    }
    item->remaining_timeout = left;
    item->max_response_bytes = options.max_response_bytes;
    item->easy = take_easy();
    if (!item->easy || !configure(*item)) {
      complete(std::move(item), codes::unknown_connect_error, 0, "could not set up the transfer");
      return;
    }
    if (curl_multi_add_handle(multi.get(), item->easy.get()) != CURLM_OK) {
      complete(std::move(item), codes::unknown_connect_error, 0, "curl_multi_add_handle failed");
      return;
    }
    auto id = item->id;
    active.emplace(id, std::move(item));
  }

  void collect_finished() {
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi.get(), &queued)) {
      if (message->msg != CURLMSG_DONE)
        continue;
      void* user = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &user);
      auto* raw = static_cast<transfer*>(user);
      CURLcode code = message->data.result;
      curl_multi_remove_handle(multi.get(), message->easy_handle);
      auto it = active.find(raw->id);
      if (it == active.end())
        continue;
      auto item = std::move(it->second);
      active.erase(it);
      finish(std::move(item), code);
    }
  }

  void finish(std::unique_ptr<transfer> item, CURLcode code) {
    CURL* easy = item->easy.get();
    long status = 0;
    long os_errno = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    char* content_type = nullptr;
    curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type);
    std::string type = content_type ? content_type : "";

    int network_code = network_code_for_curl_result(code, os_errno);
    std::string message;
    if (item->response_too_large) {
      network_code = codes::request_failed;
      message = "the answer exceeds max_response_bytes";
    } else if (code != CURLE_OK)
      message = item->error_buffer[0] ? item->error_buffer.data() : curl_easy_strerror(code);
    else if (status != 200) {
      // Only 200 is processed; anything else is "request failed" (1.1).
      network_code = codes::request_failed;
      message = "HTTP status " + std::to_string(status);
    }
    complete(std::move(item), network_code, status, std::move(message), std::move(type));
  }

  void cancel_now(request_id id) {
    if (auto it = active.find(id); it != active.end()) {
      auto item = std::move(it->second);
      active.erase(it);
      curl_multi_remove_handle(multi.get(), item->easy.get());
      complete_cancelled(std::move(item), "cancelled");
      return;
    }
    for (auto it = waiting.begin(); it != waiting.end(); ++it) {
      if ((*it)->id == id) {
        auto item = std::move(*it);
        waiting.erase(it);
        complete_cancelled(std::move(item), "cancelled");
        return;
      }
    }
    for (auto it = delayed.begin(); it != delayed.end(); ++it) {
      if (it->second->id == id) {
        auto item = std::move(it->second);
        delayed.erase(it);
        complete_cancelled(std::move(item), "cancelled");
        return;
      }
    }
    // Unknown or already completed: nothing to do.
  }

  void drain_all() {
    for (auto& [id, item] : active) {
      curl_multi_remove_handle(multi.get(), item->easy.get());
      complete_cancelled(std::move(item), "the HTTP client shut down");
    }
    active.clear();
    for (auto& item : waiting)
      complete_cancelled(std::move(item), "the HTTP client shut down");
    waiting.clear();
    for (auto& [due, item] : delayed)
      complete_cancelled(std::move(item), "the HTTP client shut down");
    delayed.clear();
  }

  void complete_cancelled(std::unique_ptr<transfer> item, std::string why) {
    complete(std::move(item), codes::cancelled, 0, std::move(why));
  }

  void complete(std::unique_ptr<transfer> item, int network_code, long status, std::string message,
                std::string content_type = {}) {
    http_response response;
    response.id = item->id;
    response.network_code = network_code;
    response.http_status = status;
    response.body = std::move(item->response_body);
    response.content_type = std::move(content_type);
    response.error_message = std::move(message);
    response.elapsed =
      std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - item->submitted);
    auto done = std::move(item->done);
    recycle_easy(std::move(item->easy));
    item.reset();
    outstanding.fetch_sub(1, std::memory_order_relaxed);
    invoke(done, std::move(response));
  }

  static void invoke(http_completion& done, http_response response) {
    if (!done)
      return;
    // An exception cannot travel anywhere useful from the I/O thread; a callback that
    // must report failure posts it to its owner instead.
    try {
      done(std::move(response));
    } catch (...) {
    }
  }

  // Members: the order matters for destruction (threads last in, first out).
  const http_client_options options;
  curl_global_guard global;
  multi_ptr multi;
  std::vector<easy_ptr> idle_easy; // destroyed before `multi`

  std::mutex mutex; // guards inbox, cancels, stopping, fault
  std::vector<std::unique_ptr<transfer>> inbox;
  std::vector<request_id> cancels;
  bool stopping = false;
  fault_hook fault;

  std::atomic<request_id> next_id{1};
  std::atomic<std::size_t> outstanding{0};

  // Touched by the I/O thread only.
  std::unordered_map<request_id, std::unique_ptr<transfer>> active; // on the wire
  std::deque<std::unique_ptr<transfer>> waiting;                    // FIFO for a free slot
  std::multimap<clock_type::time_point, std::unique_ptr<transfer>> delayed;

  std::thread io;
};

http_client::http_client(http_client_options options)
  : engine_(std::make_unique<engine>(std::move(options))) {}

http_client::~http_client() {
  engine_->stop();
}

request_id http_client::submit(http_request request, http_completion done) {
  return engine_->submit(std::move(request), std::move(done));
}

void http_client::cancel(request_id id) {
  engine_->cancel(id);
}

void http_client::set_fault_hook(fault_hook hook) {
  engine_->set_fault_hook(std::move(hook));
}

void http_client::shutdown() {
  engine_->stop();
}

std::size_t http_client::in_flight() const noexcept {
  return engine_->outstanding.load(std::memory_order_relaxed);
}

} // namespace mxsync::transport
