#define CAF_SUITE service_misc_test
#include <caf/test/unit_test.hpp>

CAF_TEST(placeholder) {
  CAF_CHECK(true);
}
