#define CAF_SUITE store_sqlite_test
#include <caf/test/unit_test.hpp>

CAF_TEST(placeholder) {
  CAF_CHECK(true);
}
