#pragma once
// When to retry a failed request (docs/protocol.md 1.9): numberofretryattempts,
// retryerrorcodes (default 1000, 1013, 1014, 1015) and retrywaittime (seconds,
// default 1), optionally with capped exponential backoff. Pure logic: the caller
// owns the timer and the attempt counter.

#include <chrono>
#include <optional>
#include <vector>

namespace mxsync::transport {

struct retry_settings {
  /// numberofretryattempts: retries after the first failure; 0 = never retry.
  int number_of_retry_attempts = 0;
  /// retryerrorcodes: the error codes worth a retry.
  std::vector<int> retry_error_codes{1000, 1013, 1014, 1015};
  /// retrywaittime: the wait before the first retry.
  std::chrono::milliseconds retry_wait_time{std::chrono::seconds{1}};
  /// Off: every retry waits retry_wait_time (what the real client does).
  /// On: the wait doubles (backoff_factor) per retry, capped at max_wait_time.
  bool exponential_backoff = false;
  double backoff_factor = 2.0;
  std::chrono::milliseconds max_wait_time{std::chrono::seconds{60}};

  /// Reads the config values as the API gives them (seconds for retrywaittime);
  /// nullopt keeps the default.
  static retry_settings from_config(std::optional<int> number_of_retry_attempts,
                                    std::optional<std::vector<int>> retry_error_codes,
                                    std::optional<double> retry_wait_time_seconds);
};

struct retry_decision {
  bool retry = false;
  std::chrono::milliseconds wait{0}; ///< before sending again (when retry)
  int attempt = 0;                   ///< 1-based number of the retry to make (onretry)
};

class retry_policy {
public:
  explicit retry_policy(retry_settings settings = {});

  const retry_settings& settings() const noexcept { return settings_; }

  /// Whether `error_code` is one of the retry codes.
  bool is_retryable(int error_code) const;

  /// The wait before retry number `attempt` (1-based).
  std::chrono::milliseconds wait_before(int attempt) const;

  /// After a failure with `error_code` when `retries_done` retries were already made.
  retry_decision decide(int error_code, int retries_done) const;

private:
  retry_settings settings_;
};

} // namespace mxsync::transport
