// Retry decisions (docs/protocol.md 1.9): which codes, how many times, how long to wait.
#define CAF_SUITE retry_policy
#include <caf/test/unit_test.hpp>

#include "transport/retry_policy.hpp"

using namespace mxsync::transport;
using namespace std::chrono_literals;

CAF_TEST(defaults never retry) {
  retry_policy policy;
  CAF_CHECK_EQUAL(policy.settings().number_of_retry_attempts, 0);
  CAF_CHECK(policy.settings().retry_error_codes == (std::vector<int>{1000, 1013, 1014, 1015}));
  CAF_CHECK(policy.settings().retry_wait_time == 1s);
  CAF_CHECK(!policy.decide(1014, 0).retry);
}

CAF_TEST(only the retry codes are retried) {
  retry_settings settings;
  settings.number_of_retry_attempts = 3;
  retry_policy policy{settings};
  for (int code : {1000, 1013, 1014, 1015}) {
    CAF_CHECK(policy.is_retryable(code));
    CAF_CHECK(policy.decide(code, 0).retry);
  }
  for (int code : {0, 1011, 1012, 1016, 1022, 1200, 7020, 1001}) {
    CAF_CHECK(!policy.is_retryable(code));
    CAF_CHECK(!policy.decide(code, 0).retry);
  }
}

CAF_TEST(attempts are counted and then exhausted) {
  retry_settings settings;
  settings.number_of_retry_attempts = 2;
  retry_policy policy{settings};
  auto first = policy.decide(1014, 0);
  CAF_CHECK(first.retry);
  CAF_CHECK_EQUAL(first.attempt, 1);
  CAF_CHECK(first.wait == 1s);
  auto second = policy.decide(1014, 1);
  CAF_CHECK(second.retry);
  CAF_CHECK_EQUAL(second.attempt, 2);
  CAF_CHECK(second.wait == 1s); // fixed wait without backoff, as the real client
  CAF_CHECK(!policy.decide(1014, 2).retry);
  CAF_CHECK(!policy.decide(1014, 10).retry);
  CAF_CHECK(policy.decide(1014, -1).retry); // a negative count is read as none yet
}

CAF_TEST(exponential backoff doubles up to the cap) {
  retry_settings settings;
  settings.number_of_retry_attempts = 100;
  settings.retry_wait_time = 500ms;
  settings.exponential_backoff = true;
  settings.max_wait_time = 5s;
  retry_policy policy{settings};
  CAF_CHECK(policy.wait_before(1) == 500ms);
  CAF_CHECK(policy.wait_before(2) == 1000ms);
  CAF_CHECK(policy.wait_before(3) == 2000ms);
  CAF_CHECK(policy.wait_before(4) == 4000ms);
  CAF_CHECK(policy.wait_before(5) == 5000ms);
  CAF_CHECK(policy.wait_before(90) == 5000ms); // saturates, no overflow
  CAF_CHECK(policy.decide(1000, 3).wait == 4000ms);
  settings.backoff_factor = 3.0;
  CAF_CHECK(retry_policy{settings}.wait_before(3) == 4500ms);
  settings.retry_wait_time = 10s; // a first wait above the cap is capped too
  CAF_CHECK(retry_policy{settings}.wait_before(1) == 5s);
}

CAF_TEST(settings from the config values) {
  auto settings = retry_settings::from_config(3, std::vector<int>{1012, 1016}, 2.5);
  CAF_CHECK_EQUAL(settings.number_of_retry_attempts, 3);
  CAF_CHECK(settings.retry_error_codes == (std::vector<int>{1012, 1016}));
  CAF_CHECK(settings.retry_wait_time == 2500ms);
  retry_policy policy{settings};
  CAF_CHECK(policy.decide(1016, 0).retry);
  CAF_CHECK(!policy.decide(1014, 0).retry);
  auto defaults = retry_settings::from_config(std::nullopt, std::nullopt, std::nullopt);
  CAF_CHECK_EQUAL(defaults.number_of_retry_attempts, 0);
  CAF_CHECK_EQUAL(defaults.retry_error_codes.size(), 4u);
  CAF_CHECK(defaults.retry_wait_time == 1s);
  CAF_CHECK_EQUAL(retry_settings::from_config(-4, std::nullopt, -1.0).number_of_retry_attempts, 0);
}
