#include "transport/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace mxsync::transport {

retry_settings retry_settings::from_config(std::optional<int> number_of_retry_attempts,
                                           std::optional<std::vector<int>> retry_error_codes,
                                           std::optional<double> retry_wait_time_seconds) {
  retry_settings settings;
  if (number_of_retry_attempts)
    settings.number_of_retry_attempts = std::max(0, *number_of_retry_attempts);
  if (retry_error_codes)
    settings.retry_error_codes = std::move(*retry_error_codes);
  if (retry_wait_time_seconds && *retry_wait_time_seconds >= 0)
    settings.retry_wait_time =
      std::chrono::milliseconds{std::llround(*retry_wait_time_seconds * 1000.0)};
  return settings;
}

retry_policy::retry_policy(retry_settings settings) : settings_(std::move(settings)) {}

bool retry_policy::is_retryable(int error_code) const {
  const auto& codes = settings_.retry_error_codes;
  return std::find(codes.begin(), codes.end(), error_code) != codes.end();
}

std::chrono::milliseconds retry_policy::wait_before(int attempt) const {
  auto base = settings_.retry_wait_time;
  if (!settings_.exponential_backoff || attempt <= 1)
    return settings_.exponential_backoff ? std::min(base, settings_.max_wait_time) : base;
  // Computed in double so a large attempt number saturates at the cap, not overflows.
  double factor = std::pow(std::max(1.0, settings_.backoff_factor), attempt - 1);
  double wait = static_cast<double>(base.count()) * factor;
  double cap = static_cast<double>(settings_.max_wait_time.count());
  return std::chrono::milliseconds{static_cast<long long>(std::min(wait, cap))};
}

retry_decision retry_policy::decide(int error_code, int retries_done) const {
  retry_decision decision;
  if (retries_done < 0)
    retries_done = 0;
  if (retries_done >= settings_.number_of_retry_attempts || !is_retryable(error_code))
    return decision;
  decision.retry = true;
  decision.attempt = retries_done + 1;
  decision.wait = wait_before(decision.attempt);
  return decision;
}

} // namespace mxsync::transport
