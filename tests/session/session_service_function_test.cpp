#define CAF_SUITE session_service_function
#include <caf/test/unit_test.hpp>

#include "session/session_support.hpp"

#include <chrono>
#include <future>
#include <stdexcept>

using namespace mxsync;
using namespace mxsync::test;
using json = nlohmann::json;

// invokeservicefunction replaces the network call; an app function that throws instead of
// calling back must fail its request, not leave the session waiting for an answer forever.
CAF_TEST(an invokeservicefunction that throws fails the session with 1012) {
  sync_server server{"service-function-throws"};
  auto device = make_device("service-function-throws");
  auto keys = server.session();
  keys.invokeservicefunction = [](const std::string&, const json&,
                                  std::function<void(int, const json&)>, const json&) {
    throw std::runtime_error("app bug");
  };
  auto session = std::async(std::launch::async, [&] { return device->synchronize(keys); });
  CAF_REQUIRE(session.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  auto outcome = session.get();
  CAF_REQUIRE(!outcome.ok());
  CAF_CHECK_EQUAL(outcome.error().code, 1012);
  CAF_CHECK(outcome.error().to_json().dump().find("app bug") != std::string::npos);
}
