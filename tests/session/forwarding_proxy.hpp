#pragma once
// An invokeservicefunction for end-to-end tests: it forwards every call of a session to
// the real server, records it, and lets a test change a request or an answer on its
// way (faults injected into the protocol without a special server).

#include "mxsync/session_config.hpp"
#include "transport/http_client.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mxsync::test {

using json = nlohmann::json;

/// Forwards every call to the server at the call's URL (loopback in tests). Answers
/// come back on the transport's I/O thread, as a real network answer would.
class forwarding_proxy {
public:
  /// Called with (url, params) before forwarding; may change params or answer itself
  /// (return an answer to send it instead of the server's).
  using request_hook = std::function<std::optional<json>(const std::string& url, json& params)>;
  /// Called with (url, params, answer) before the answer reaches mxsync; may change it.
  using answer_hook = std::function<void(const std::string& url, const json& params, json& answer)>;

  request_hook on_request;
  answer_hook on_answer;

  service_function function() {
    return [this](const std::string& url, const json& params, service_completion done,
                  const json&) {
      auto sent = params;
      record(url, sent);
      std::optional<json> own;
      if (on_request)
        own = on_request(url, sent);
      if (own) {
        finish(url, sent, std::move(*own), done);
        return;
      }
      client_.submit({url, sent.dump(), {{"Content-Type", "application/json"}}, std::chrono::milliseconds{60000}},
                     [this, url, sent, done](transport::http_response response) {
                       auto answer = json::parse(response.body, nullptr, false);
                       if (!response.ok() || answer.is_discarded()) {
                         end_call(url);
                         done(0, nullptr); // a failed network call
                         return;
                       }
                       finish(url, sent, std::move(answer), done);
                     });
    };
  }

  /// Every call as {endpoint, params}, in the order mxsync made them.
  std::vector<std::pair<std::string, json>> calls() {
    std::lock_guard<std::mutex> guard{mutex_};
    return calls_;
  }

  /// The most downloadchunk calls that were waiting for their answers at one time.
  int most_chunks_at_once() const { return most_at_once_; }

  void forget_calls() {
    std::lock_guard<std::mutex> guard{mutex_};
    calls_.clear();
  }

  static std::string endpoint_of(const std::string& url) { return url.substr(url.rfind('/') + 1); }

private:
  void record(const std::string& url, const json& params) {
    std::lock_guard<std::mutex> guard{mutex_};
    calls_.emplace_back(endpoint_of(url), params);
    if (endpoint_of(url) == "downloadchunk") {
      auto now = ++chunks_at_once_;
      most_at_once_ = std::max(most_at_once_.load(), now);
    }
  }

  void end_call(const std::string& url) {
    if (endpoint_of(url) == "downloadchunk")
      --chunks_at_once_;
  }

  void finish(const std::string& url, const json& params, json answer, const service_completion& done) {
    if (on_answer)
      on_answer(url, params, answer);
    end_call(url);
    done(400, answer); // 400: "finished", as the original's callback status says
  }

  transport::http_client client_;
  std::mutex mutex_;
  std::vector<std::pair<std::string, json>> calls_;
  std::atomic<int> chunks_at_once_{0};
  std::atomic<int> most_at_once_{0};
};

/// The calls to `endpoint`, in order.
inline std::vector<json> calls_to(const std::vector<std::pair<std::string, json>>& calls,
                                  const std::string& endpoint) {
  std::vector<json> out;
  for (const auto& [name, params] : calls)
    if (name == endpoint)
      out.push_back(params);
  return out;
}

} // namespace mxsync::test
