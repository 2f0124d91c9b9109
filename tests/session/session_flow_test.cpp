#define CAF_SUITE session_flow
#include <caf/test/unit_test.hpp>

#include "session/session_support.hpp"

using namespace mxsync;
using namespace mxsync::test;
using json = nlohmann::json;

CAF_TEST(a first session uploads local rows and downloads the server rows in batches) {
  sync_server server{"flow"};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("SRV", 1203)}}), 0);
  auto device = make_device("flow-a");
  auto orders = device->object("WorkOrder");
  for (auto& row : work_orders("CLI", 5))
    CAF_REQUIRE(orders.create(row).ok());

  recorder events;
  auto keys = server.session();
  keys.batchsize = 500;
  keys.uploadbatchsize = 2;
  events.attach(keys);
  auto outcome = device->synchronize(keys);
  if (!outcome.ok())
    CAF_FAIL("session failed: " << outcome.error().to_json().dump());
  device->flush();

  // The real client's order (docs/callbacks.md).
  std::vector<std::string> expected{"onsyncstart", "onscopestart", "onuploadstart",
                                    "onuploadbatchstart", "onuploadbatchsuccess",
                                    "onuploadbatchstart", "onuploadbatchsuccess",
                                    "onuploadbatchstart", "onuploadbatchsuccess",
                                    "onuploadsuccess", "ondownloadstart"};
  std::lock_guard<std::mutex> guard{events.mutex};
  auto& seen = events.events;
  CAF_REQUIRE_GREATER_OR_EQUAL(seen.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    CAF_CHECK_EQUAL(seen[i], expected[i]);
  CAF_CHECK_EQUAL(seen.back(), "onsyncsuccess");
  CAF_CHECK_EQUAL(seen[seen.size() - 2], "onscopesuccess");
  CAF_CHECK_EQUAL(seen[seen.size() - 3], "ondownloadsuccess");
  auto batches = std::count(seen.begin(), seen.end(), "onbatchprocessingsuccess");
  CAF_CHECK_GREATER_OR_EQUAL(batches, 3);
}
