#define CAF_SUITE session_policy
#include <caf/test/unit_test.hpp>

#include "persistence/sqlite.hpp"
#include "session/session_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace mxsync;
using namespace mxsync::test;
using json = nlohmann::json;

namespace {

const std::string ota_config = MXSYNC_FIXTURES_DIR "/ota-two-scope-config.json";

/// Three local tickets, the middle one made unacceptable to the server: its history
/// row says "priority" is text, which the server cannot store in an int column.
std::unique_ptr<sync_client> device_with_a_bad_row(const std::string& name) {
  auto device = make_device(name, ota_config);
  for (const char* title : {"good one", "bad one", "good two"})
    if (!device->object("Ticket").create({{"title", title}, {"priority", 1}}).ok())
      throw std::runtime_error("create failed");
  db::connection raw{fresh_file_path(name)};
  raw.exec("update Ticket_history set priority = 'not a number' where title = 'bad one'");
  return device;
}

} // namespace

CAF_TEST(continueonerror reports the failing row and commits the others) {
  sync_server server{"policy-coe", ota_config};
  auto device = device_with_a_bad_row("policy-coe");
  auto keys = server.session();
  keys.sessiontasks = std::map<std::string, session_task>{
    {"TicketScope", session_task{true, true, "continueonerror"}},
    {"CatalogScope", session_task{true, true, std::nullopt}}};
  recorder events;
  events.attach(keys);
  auto outcome = device->synchronize(keys);
  CAF_REQUIRE(outcome.ok());
  device->flush();
  auto upload = events.context_of("onuploadsuccess");
  CAF_CHECK_EQUAL(upload["uploadcontext"]["rowsfailedtoupload"], 1);
  auto failed = upload["uploadcontext"]["failedrowinfo"];
  CAF_REQUIRE_EQUAL(failed.size(), 1u);
  CAF_CHECK_EQUAL(failed[0]["type"], "Ticket");
  // The two good rows reached the server; the bad one stays pending on the device.
  auto other = make_device("policy-coe-other", ota_config);
  CAF_REQUIRE(other->synchronize(server.session()).ok());
  CAF_CHECK_EQUAL(count_rows(*other, "Ticket"), 2);
  // OTA: nothing waits for an acknowledgement; the refused row is a pending upload again
  // (issue 10: it was counted as pending acknowledgement and never went up again).
  auto left = device->getPendingAcknowledgement();
  CAF_CHECK_EQUAL(left.value()["totalCount"], 0);
  auto pending = device->getPendingUpload();
  CAF_REQUIRE_EQUAL(pending.value()["totalCount"], 1);
  CAF_CHECK_EQUAL(pending.value()["totalData"]["Ticket"]["data"][0]["title"], "bad one");
  // Once the value is one the server takes, the next session uploads it.
  {
    db::connection raw{fresh_file_path("policy-coe")};
    raw.exec("update Ticket_history set priority = 2 where title = 'bad one'");
  }
  recorder again;
  again.attach(keys);
  CAF_REQUIRE(device->synchronize(keys).ok());
  device->flush();
  auto second_upload = again.context_of("onuploadsuccess");
  CAF_CHECK_EQUAL(second_upload["uploadcontext"]["rowsfailedtoupload"], 0);
  CAF_CHECK_EQUAL(device->getPendingUpload().value()["totalCount"].get<int>(), 0);
  CAF_CHECK_EQUAL(device->getPendingAcknowledgement().value()["totalCount"].get<int>(), 0);
  CAF_REQUIRE(other->synchronize(server.session()).ok());
  CAF_CHECK_EQUAL(count_rows(*other, "Ticket"), 3);
}

// A pending change whose text is not UTF-8 used to kill the uploader actor (the request
// could not be encoded) while its scope waited for it forever: synchronize hung (issue 11).
CAF_TEST(a pending change that is not utf8 fails its scope with 7001 and stays pending) {
  sync_server server{"policy-utf8", ota_config};
  auto device = make_device("policy-utf8", ota_config);
  CAF_REQUIRE(device->object("Ticket").create({{"title", "fine"}, {"priority", 1}}).ok());
  {
    db::connection raw{fresh_file_path("policy-utf8")};
    raw.exec("update Ticket_history set title = cast(x'62616466ff' as text)");
  }
  recorder events;
  auto keys = server.session();
  events.attach(keys);
  auto outcome = std::async(std::launch::async, [&] { return device->synchronize(keys); });
  CAF_REQUIRE(outcome.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  auto result = outcome.get();
  device->flush();
  CAF_REQUIRE(!result.ok());
  CAF_CHECK_EQUAL(result.error().code, 7022);
  auto scope_error = result.error().info["TicketScope"];
  CAF_CHECK_EQUAL(scope_error["errorCode"], "7001");
  CAF_CHECK_EQUAL(scope_error["errorInfo"]["column"], "title");
  CAF_CHECK_EQUAL(events.count("onscopeerror"), 1u);
  CAF_CHECK_EQUAL(events.count("onsyncerror"), 1u);
  auto pending = device->getPendingUpload();
  CAF_CHECK_EQUAL(pending.value()["totalCount"], 1);
  // The app rolls it back (or corrects it): the next session is clean.
  CAF_REQUIRE(device->rollbackPendingLocalChanges().ok());
  CAF_CHECK(device->synchronize(server.session()).ok());
}

CAF_TEST(abortonerror fails the scope with 7020 and skips its download) {
  sync_server server{"policy-aoe", ota_config};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"Category", json::array({{{"code", "A"}, {"name", "alpha"}}})}}), 0);
  auto device = device_with_a_bad_row("policy-aoe");
  auto keys = server.session();
  keys.sessiontasks = std::map<std::string, session_task>{
    {"TicketScope", session_task{true, true, "abortonerror"}},
    {"CatalogScope", session_task{true, true, std::nullopt}}};
  recorder events;
  events.attach(keys);
  auto outcome = device->synchronize(keys);
  device->flush();
  CAF_REQUIRE(!outcome.ok());
  CAF_CHECK_EQUAL(outcome.error().code, 7022);
  CAF_CHECK(outcome.error().info.contains("TicketScope"));
  auto scope_error = events.context_of("onscopeerror");
  CAF_CHECK_EQUAL(scope_error["errorCode"], "7020");
  CAF_CHECK_EQUAL(events.count("ondownloadstart"), 1u); // CatalogScope only
  CAF_CHECK_EQUAL(count_rows(*device, "Category"), 1);
  // Nothing of the failed request was applied: all three stay pending.
  auto pending = device->getPendingUpload();
  CAF_CHECK_EQUAL(pending.value()["totalCount"], 3);
}

CAF_TEST(serverurl and an authtoken reach the server by its api path) {
  sync_server server{"token", fixture_config, {"--token", "testuser:claims-token-1"}};
  auto device = make_device("token");
  session_config keys;
  // serverurl is the base used verbatim (docs/protocol.md 1.1): here the token form of it.
  keys.serverurl = "http://127.0.0.1:" + server.process->port() + "/syncservice/api/v1/konyfsjs/";
  keys.authtoken = "claims-token-1";
  auto outcome = device->synchronize(keys);
  if (!outcome.ok())
    CAF_FAIL(outcome.error().to_json().dump());
  keys.authtoken = "wrong-token";
  auto refused = device->synchronize(keys);
  CAF_REQUIRE(!refused.ok());
  // The device is registered already: the scope's requests are refused, so the
  // session reports 7022 with the server's 1001 for the scope.
  CAF_CHECK_EQUAL(refused.error().code, 7022);
  auto scope_error = refused.error().info["FSPersistentScope"];
  CAF_CHECK_EQUAL(scope_error["errorCode"], "1001");
}

CAF_TEST(networktimeout ends a request that gets no answer with 1014) {
  // A listening socket that never answers.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CAF_REQUIRE_EQUAL(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  CAF_REQUIRE_EQUAL(listen(fd, 16), 0);
  socklen_t size = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  auto device = make_device("timeout");
  session_config keys;
  keys.serverhost = "127.0.0.1";
  keys.serverport = std::to_string(ntohs(address.sin_port));
  keys.userid = "u";
  keys.password = "p";
  keys.networktimeout = 0.5;
  auto started = std::chrono::steady_clock::now();
  auto outcome = device->synchronize(keys);
  auto took = std::chrono::steady_clock::now() - started;
  close(fd);
  CAF_REQUIRE(!outcome.ok());
  CAF_CHECK_EQUAL(outcome.error().code, 1014);
  CAF_CHECK_LESS(took, std::chrono::seconds(10));
}
