#define CAF_SUITE service_isolation
#include <caf/test/unit_test.hpp>

#include "service_test_support.hpp"

// What the server keeps per device (queued acks and upload errors, stored upload answers,
// temporary-key mappings, chunked payloads) belongs to (authenticated user, clientid):
// a clientid alone is whatever the device says, and two users' devices may share one.

using namespace mxsync;
using namespace mxsync::server;
using namespace mxsync::server::testing;

namespace {

json customer_columns(int id, const std::string& name) {
  return {{"id", id}, {"name", name}, {"city", "Paris"}, {"rating", "3"}, {"owner", "null"},
          {"active", "true"}, {"balance", "null"}};
}

json task_columns(const std::string& id, const std::string& title) {
  return {{"taskId", id}, {"title", title}, {"done", "false"}, {"assignee", "NULL"}};
}

bool carries_acks(const json& answer) {
  for (const auto& row : answer.at("results"))
    if (row.contains("konysyncMergedWithEIS"))
      return true;
  return false;
}

} // namespace

CAF_TEST(another user sending my clientid gets none of my acknowledgements) {
  service_fixture f;
  const upload_options mine{.scope = "PersistentScope", .strategy = "PERSISTENT_SYNC", .user = "alice"};
  f.service.handle(upload_request(mine, {upload_row("Task", "insert", task_columns("t1", "secret"), 1)}));
  download_options theirs{.scope = "PersistentScope", .strategy = "PERSISTENT_SYNC", .user = "mallory"};
  auto stolen = f.service.handle(download_request(theirs));
  CAF_CHECK(!carries_acks(stolen));
  // Nor does mallory's download release them: alice still gets them.
  theirs.tickcount = stolen.at("__sync").at("serverblob");
  f.service.handle(download_request(theirs));
  auto own = f.service.handle(download_request(
    {.scope = "PersistentScope", .strategy = "PERSISTENT_SYNC", .user = "alice"}));
  CAF_CHECK(carries_acks(own));
}

CAF_TEST(another user reusing my clientid and sequence number is a new upload) {
  service_fixture f;
  auto alice = f.service.handle(upload_request(
    {.user = "alice", .sequence_number = 7}, {upload_row("Customer", "insert", customer_columns(1, "Ann"), 1)}));
  auto bob = f.service.handle(upload_request(
    {.user = "bob", .sequence_number = 7}, {upload_row("Customer", "insert", customer_columns(2, "Bob"), 1)}));
  CAF_CHECK_EQUAL(f.service.count_rows("Customer"), 2);
  CAF_REQUIRE_EQUAL(bob.at("results").size(), 1u);
  CAF_CHECK_EQUAL(bob["results"][0]["id"], 2); // bob's own ack, not alice's stored answer
  CAF_CHECK_NOT_EQUAL(alice, bob);
}

CAF_TEST(a device that restarted its sequence numbers is not answered from an old upload) {
  service_fixture f;
  // Sequence 1, then a scope reset on the device (same deviceid, sequence from 1 again).
  f.service.handle(upload_request({.sequence_number = 1},
                                  {upload_row("Customer", "insert", customer_columns(1, "Ann"), 1)}));
  auto after_reset = f.service.handle(upload_request(
    {.sequence_number = 1}, {upload_row("Customer", "insert", customer_columns(2, "Bea"), 1)}));
  CAF_CHECK_EQUAL(f.service.count_rows("Customer"), 2);
  CAF_REQUIRE_EQUAL(after_reset.at("results").size(), 1u);
  CAF_CHECK_EQUAL(after_reset["results"][0]["id"], 2);
  // The same request again is still a repeat: answered the same, applied once.
  auto repeat = f.service.handle(upload_request(
    {.sequence_number = 1}, {upload_row("Customer", "insert", customer_columns(2, "Bea"), 1)}));
  CAF_CHECK_EQUAL(repeat, after_reset);
  CAF_CHECK_EQUAL(f.service.count_rows("Customer"), 2);
}

CAF_TEST(temporary keys map per user) {
  service_fixture f;
  auto alice = f.service.handle(upload_request(
    {.user = "alice"}, {upload_row("Customer", "insert", customer_columns(-1, "Ann"), 1)}));
  auto alice_id = alice.at("results").at(0).at("id");
  // bob's device uses the same clientid and the same temporary key for his own new row.
  auto bob = f.service.handle(upload_request(
    {.user = "bob", .sequence_number = 1},
    {upload_row("Customer", "insert", customer_columns(-1, "Bob"), 1),
     upload_row("Purchase", "insert", {{"purchaseId", "-3"}, {"customerId", -1}, {"amount", "5"}}, 2)}));
  auto bob_id = bob.at("results").at(0).at("id");
  CAF_CHECK_NOT_EQUAL(alice_id, bob_id);
  CAF_CHECK_EQUAL(bob.at("results").at(1).at("customerId"), bob_id);
  // A later upload of bob that still holds -1 gets bob's row, not alice's.
  auto later = f.service.handle(upload_request(
    {.user = "bob", .sequence_number = 2},
    {upload_row("Purchase", "insert", {{"purchaseId", "-9"}, {"customerId", -1}}, 3)}));
  CAF_CHECK_EQUAL(later.at("results").at(0).at("customerId"), bob_id);
}

CAF_TEST(a chunked payload is served and released only for the user it was made for) {
  service_fixture f;
  for (int i = 1; i <= 30; ++i) {
    f.service.upsert_row("Customer", customer_columns(i, "name " + std::string(60, 'x')));
    f.clock.advance();
  }
  auto first = f.service.handle(download_request({.batchsize = "50", .user = "alice", .chunksize = "1"}));
  auto id = first.at("__sync").at("payloadid").get<std::string>();
  auto chunk_request = [&](const std::string& user) {
    sync_request r = download_request({.user = user});
    r.endpoint = "downloadchunk";
    r.params["payloadid"] = id;
    r.params["chunknumber"] = "2";
    return r;
  };
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(chunk_request("mallory")); }), "SY3008E");
  // mallory cannot delete it either.
  f.service.handle(download_request({.user = "mallory", .delete_payload = id}));
  auto chunk = f.service.handle(chunk_request("alice"));
  CAF_CHECK_EQUAL(chunk.at("error"), "false");
}
