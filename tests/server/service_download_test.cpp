#define CAF_SUITE service_download_test
#include <caf/test/unit_test.hpp>

CAF_TEST(placeholder) {
  CAF_CHECK(true);
}
