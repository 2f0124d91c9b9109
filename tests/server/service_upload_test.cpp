#define CAF_SUITE service_upload
#include <caf/test/unit_test.hpp>

#include "service_test_support.hpp"

#include <fstream>
#include <iterator>

using namespace mxsync;
using namespace mxsync::server;
using namespace mxsync::server::testing;

namespace {

json customer_columns(int id, const std::string& name, const std::string& city = "Paris") {
  return {{"id", id}, {"name", name}, {"city", city}, {"rating", "3"}, {"owner", "null"},
          {"active", "true"}, {"balance", "null"}};
}

json task_columns(const std::string& id, const std::string& title) {
  return {{"taskId", id}, {"title", title}, {"done", "false"}, {"assignee", "NULL"}};
}

const upload_options persistent_upload{.scope = "PersistentScope", .strategy = "PERSISTENT_SYNC"};
const download_options persistent_download{.scope = "PersistentScope", .strategy = "PERSISTENT_SYNC"};

std::string hash_of(service_fixture& f, const std::string& table, const json& key) {
  return f.service.read_row(table, key)->at("konysynchashsum").get<std::string>();
}

} // namespace

CAF_TEST(OTA upload applies rows and answers ack rows) {
  service_fixture f;
  auto answer = f.service.handle(upload_request(
    {}, {upload_row("Customer", "insert", customer_columns(1, "Ann"), 1),
         upload_row("Customer", "insert", customer_columns(2, "Bob"), 2)}));
  CAF_CHECK_EQUAL(answer.at("error"), "false");
  CAF_CHECK(answer.at("__sync").at("serverblob").is_string());
  const auto& acks = answer.at("results");
  CAF_REQUIRE_EQUAL(acks.size(), 2u);
  const auto& ack = acks[0];
  CAF_CHECK_EQUAL(ack.at("__metadata"), (json{{"type", "Customer"}, {"changeType", "update"}}));
  CAF_CHECK_EQUAL(ack.at("konysyncMergedWithEIS"), "1");
  CAF_CHECK_EQUAL(ack.at("konysyncreplaysequence"), 1);
  CAF_CHECK_EQUAL(ack.at("konysyncversionnumber"), 0);
  CAF_CHECK_EQUAL(ack.at("konysynchashsum"), hash_of(f, "Customer", {{"id", 1}}));
  CAF_CHECK_EQUAL(ack.at("id"), 1);
  CAF_CHECK_EQUAL(ack.at("rating"), 3);
  CAF_CHECK_EQUAL(ack.at("active"), true);
  // "null", "NULL" and JSON null are SQL NULL.
  CAF_CHECK(ack.at("owner").is_null());
  CAF_CHECK(ack.at("balance").is_null());
  CAF_CHECK_EQUAL(f.service.count_rows("Customer"), 2);
  // Uploaded rows are downloaded by every other client (as "update"); the device
  // that uploaded them has them already (and their hashsums from the acks).
  auto down = download_all(f.service, {.client = "device-2"}).rows;
  CAF_CHECK_EQUAL(down.size(), 2u);
  CAF_CHECK(download_all(f.service, {}).rows.empty());

  auto update = upload_row("Customer", "update", {{"id", 1}, {"city", nullptr}}, 3, ack["konysynchashsum"]);
  auto updated = f.service.handle(upload_request({.sequence_number = 1}, {update}));
  CAF_CHECK_EQUAL(updated["results"][0]["name"], "Ann"); // an update merges into the server row
  CAF_CHECK(updated["results"][0]["city"].is_null());
  auto removal = upload_row("Customer", "delete", customer_columns(2, "Bob"), 4, acks[1]["konysynchashsum"]);
  auto removed = f.service.handle(upload_request({.sequence_number = 2}, {removal}));
  CAF_CHECK_EQUAL(removed["results"][0]["__metadata"]["changeType"], "delete");
  CAF_CHECK_EQUAL(f.service.count_rows("Customer"), 1);
  CAF_CHECK_EQUAL(f.service.count_rows("Customer", true), 2);
}

CAF_TEST(abortonerror rolls the whole request back and names the row) {
  service_fixture f;
  auto rows = json::array({upload_row("Customer", "insert", customer_columns(1, "Ann"), 1),
                           upload_row("Customer", "insert", {{"id", 2}, {"nope", "x"}}, 2),
                           upload_row("Customer", "insert", customer_columns(3, "Cid"), 3)});
  std::string message;
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(upload_request({}, rows)); }, &message), "SY0000E");
  CAF_CHECK(message.find("row 2") != std::string::npos);
  CAF_CHECK(message.find("Unknown column 'nope'") != std::string::npos);
  CAF_CHECK_EQUAL(f.service.count_rows("Customer"), 0);
  // Not remembered as answered: the fixed request goes through later.
  rows[1] = upload_row("Customer", "insert", customer_columns(2, "Bob"), 2);
  CAF_CHECK_EQUAL(f.service.handle(upload_request({}, rows))["results"].size(), 3u);
  CAF_CHECK_EQUAL(f.service.count_rows("Customer"), 3);
}

CAF_TEST(continueonerror commits the good rows and reports each bad one) {
  service_fixture f;
  auto rows = json::array({upload_row("Customer", "insert", customer_columns(1, "Ann"), 1),
                           upload_row("Ghost", "insert", {{"id", 2}}, 2),
                           upload_row("Customer", "insert", {{"id", 3}, {"rating", "high"}}, 3),
                           upload_row("Customer", "insert", customer_columns(4, "Dan"), 4)});
  auto answer = f.service.handle(upload_request({.policy = "continueonerror"}, rows));
  const auto& acks = answer.at("results");
  CAF_REQUIRE_EQUAL(acks.size(), 4u);
  CAF_CHECK_EQUAL(acks[0]["konysyncMergedWithEIS"], "1");
  CAF_CHECK_EQUAL(acks[1]["konysyncMergedWithEIS"], "0");
  CAF_CHECK(acks[1]["__metadata"]["errorMessage"].get<std::string>().find("Ghost") != std::string::npos);
  CAF_CHECK(acks[1]["__metadata"].contains("errorRootCause"));
  CAF_CHECK_EQUAL(acks[1]["konysyncreplaysequence"], 2);
  CAF_CHECK_EQUAL(acks[2]["konysyncMergedWithEIS"], "0");
  CAF_CHECK(acks[2]["__metadata"]["errorMessage"].get<std::string>().find("rating") != std::string::npos);
  CAF_CHECK_EQUAL(acks[3]["konysyncMergedWithEIS"], "1");
  CAF_CHECK_EQUAL(f.service.count_rows("Customer"), 2);
}

CAF_TEST(malformed uploads are refused without damage) {
  service_fixture f;
  auto base = upload_request({}, json::array());
  auto refuse = [&](json upload) {
    auto r = base;
    r.decoded["UploadRequest"] = upload;
    r.params["UploadRequest"] = upload.dump();
    return errcode_of([&] { f.service.handle(r); });
  };
  CAF_CHECK_EQUAL(refuse(json::parse(R"({"d":{"results":{}}})")), "SY0000E");
  CAF_CHECK_EQUAL(refuse(json::parse(R"({"d":"x"})")), "SY0000E");
  CAF_CHECK_EQUAL(refuse(json::parse(R"([1,2])")), "SY0000E");
  CAF_CHECK_EQUAL(refuse(json::parse(R"({"d":{"results":[5]}})")), "SY0000E");
  CAF_CHECK_EQUAL(refuse(json::parse(R"({"d":{"results":[{"id":1}]}})")), "SY0000E");
  CAF_CHECK_EQUAL(refuse(json::parse(R"({"d":{"results":[{"metadata":{"type":"Customer"},"id":1}]}})")), "SY0000E");
  CAF_CHECK_EQUAL(refuse(json::parse(R"({"d":{"results":[{"metadata":{"type":"Customer","changetype":"merge"},"id":1}]}})")),
                  "SY0000E");
  CAF_CHECK_EQUAL(refuse(json::parse(R"({"d":{"results":[{"metadata":{"type":"Customer","changetype":"insert"},"id":{"a":1}}]}})")),
                  "SY0000E");
  CAF_CHECK_EQUAL(refuse(json::parse(R"({"d":{"results":[{"metadata":{"type":"Purchase","changetype":"insert"},"note":"no key"}]}})")),
                  "SY0000E");
  CAF_CHECK_EQUAL(refuse(json::parse(R"({"d":{"results":[],"scopeName":"PersistentScope"}})")), "SY0000E");
  auto missing = base;
  missing.decoded.erase("UploadRequest");
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(missing); }), "SY0000E");
  CAF_CHECK_EQUAL(f.service.count_rows("Customer", true), 0);
  CAF_CHECK_EQUAL(f.service.count_rows("Purchase", true), 0);
}

CAF_TEST(a repeated upload is applied once and answered the same) {
  service_fixture f;
  auto request = upload_request({.sequence_number = 7},
                                {upload_row("Customer", "insert", customer_columns(1, "Ann"), 1)});
  auto first = f.service.handle(request);
  auto download_before = download_all(f.service, {});
  f.clock.advance();
  auto second = f.service.handle(request);
  CAF_CHECK_EQUAL(first, second);
  auto download_after = download_all(f.service, {.tickcount = download_before.blob});
  CAF_CHECK(download_after.rows.empty()); // no new change from the repeat
  // Another client or sequence number is a new upload.
  auto other = upload_request({.client = "device-2", .sequence_number = 7},
                              {upload_row("Customer", "insert", customer_columns(2, "Bob"), 1)});
  f.service.handle(other);
  CAF_CHECK_EQUAL(f.service.count_rows("Customer"), 2);
}

CAF_TEST(conflicts under client wins) {
  service_fixture f; // default policy: client wins
  f.service.upsert_row("Customer", customer_columns(1, "server"));
  f.service.upsert_row("Customer", customer_columns(2, "server"));
  f.service.upsert_row("Customer", customer_columns(3, "server"));
  auto stale = "stale-hash";
  // insert + server exists -> update with the client row
  auto a = f.service.handle(upload_request({.sequence_number = 1},
                                           {upload_row("Customer", "insert", customer_columns(1, "client"), 1)}));
  CAF_CHECK_EQUAL(a["results"][0]["name"], "client");
  CAF_CHECK_EQUAL(json(f.service.read_row("Customer", {{"id", 1}})->at("name")), "client");
  // update + server updated -> client update
  auto b = f.service.handle(upload_request({.sequence_number = 2},
                                           {upload_row("Customer", "update", {{"id", 2}, {"name", "client"}}, 2, stale)}));
  CAF_CHECK_EQUAL(b["results"][0]["name"], "client");
  // update + server deleted -> re-inserted
  f.service.delete_row("Customer", {{"id", 3}});
  auto c = f.service.handle(upload_request({.sequence_number = 3},
                                           {upload_row("Customer", "update", {{"id", 3}, {"name", "client"}}, 3, stale)}));
  CAF_CHECK_EQUAL(c["results"][0]["__metadata"]["changeType"], "update");
  CAF_CHECK_EQUAL(json(f.service.read_row("Customer", {{"id", 3}})->at("name")), "client");
  // delete + server updated -> deleted
  auto d = f.service.handle(upload_request({.sequence_number = 4},
                                           {upload_row("Customer", "delete", customer_columns(2, "x"), 4, stale)}));
  CAF_CHECK_EQUAL(d["results"][0]["__metadata"]["changeType"], "delete");
  CAF_CHECK(!f.service.read_row("Customer", {{"id", 2}}).has_value());
}

CAF_TEST(conflicts under server wins) {
  service_settings settings;
  settings.scopes["OtaScope"].conflicts = conflict_policy::server_wins;
  service_fixture f{settings};
  f.service.upsert_row("Customer", customer_columns(1, "server"));
  f.service.upsert_row("Customer", customer_columns(2, "server"));
  f.service.upsert_row("Customer", customer_columns(3, "server"));
  f.service.upsert_row("Customer", customer_columns(4, "server"));
  auto hash1 = hash_of(f, "Customer", {{"id", 1}});
  auto blob = download_all(f.service, {}).blob;
  f.clock.advance();
  auto stale = "stale-hash";
  // insert + server exists -> keep the server row and return it
  auto a = f.service.handle(upload_request({.sequence_number = 1},
                                           {upload_row("Customer", "insert", customer_columns(1, "client"), 1)}));
  CAF_CHECK_EQUAL(a["results"][0]["name"], "server");
  CAF_CHECK_EQUAL(a["results"][0]["konysynchashsum"], hash1);
  CAF_CHECK_EQUAL(a["results"][0]["konysyncreplaysequence"], 1);
  CAF_CHECK_EQUAL(json(f.service.read_row("Customer", {{"id", 1}})->at("name")), "server");
  // update + server updated -> the server row
  auto b = f.service.handle(upload_request({.sequence_number = 2},
                                           {upload_row("Customer", "update", {{"id", 2}, {"name", "client"}}, 2, stale)}));
  CAF_CHECK_EQUAL(b["results"][0]["name"], "server");
  CAF_CHECK_EQUAL(b["results"][0]["__metadata"]["changeType"], "update");
  // update + server deleted -> a delete goes back
  f.service.delete_row("Customer", {{"id", 3}});
  auto c = f.service.handle(upload_request({.sequence_number = 3},
                                           {upload_row("Customer", "update", {{"id", 3}, {"name", "client"}}, 3, stale)}));
  CAF_CHECK_EQUAL(c["results"][0]["__metadata"]["changeType"], "delete");
  CAF_CHECK(!f.service.read_row("Customer", {{"id", 3}}).has_value());
  // delete + server updated -> the server row stays and is returned
  auto d = f.service.handle(upload_request({.sequence_number = 4},
                                           {upload_row("Customer", "delete", customer_columns(4, "x"), 4, stale)}));
  CAF_CHECK_EQUAL(d["results"][0]["__metadata"]["changeType"], "update");
  CAF_CHECK_EQUAL(json(f.service.read_row("Customer", {{"id", 4}})->at("name")), "server");
  // The kept server rows are downloaded again (dummy update), also by the device
  // whose upload lost.
  auto again = download_all(f.service, {.tickcount = blob}).rows;
  std::set<int> ids;
  for (const auto& row : again)
    ids.insert(row["id"].get<int>());
  CAF_CHECK_EQUAL(ids, (std::set<int>{1, 2, 3, 4}));
  // Matching hashsums are no conflict: the client's update applies.
  auto hash2 = hash_of(f, "Customer", {{"id", 2}});
  auto e = f.service.handle(upload_request({.sequence_number = 5},
                                           {upload_row("Customer", "update", {{"id", 2}, {"name", "client"}}, 5, hash2)}));
  CAF_CHECK_EQUAL(e["results"][0]["name"], "client");
  // A row inserted and then updated in one upload is the client's own change.
  auto g = f.service.handle(upload_request({.sequence_number = 6},
                                           {upload_row("Customer", "insert", customer_columns(9, "first"), 6),
                                            upload_row("Customer", "update", {{"id", 9}, {"name", "second"}}, 7)}));
  CAF_CHECK_EQUAL(g["results"][1]["name"], "second");
  CAF_CHECK_EQUAL(json(f.service.read_row("Customer", {{"id", 9}})->at("name")), "second");
}

CAF_TEST(temporary autogenerated keys get server keys - also in child rows) {
  service_fixture f;
  f.service.upsert_row("Customer", customer_columns(41, "existing"));
  auto answer = f.service.handle(upload_request(
    {}, {upload_row("Customer", "insert", customer_columns(-1, "new one"), 1),
         upload_row("Customer", "insert", customer_columns(-2, "new two"), 2),
         upload_row("Purchase", "insert", {{"purchaseId", "-3"}, {"customerId", "-1"}, {"amount", "5"}}, 3),
         upload_row("Purchase", "insert", {{"purchaseId", "-4"}, {"customerId", -2}, {"amount", "6"}}, 4),
         upload_row("Customer", "update", {{"id", -1}, {"city", "Lyon"}}, 5)}));
  const auto& acks = answer["results"];
  CAF_REQUIRE_EQUAL(acks.size(), 5u);
  CAF_CHECK_EQUAL(acks[0]["id"], 42);
  CAF_CHECK_EQUAL(acks[0]["konysyncClientid"], -1);
  CAF_CHECK_EQUAL(acks[1]["id"], 43);
  CAF_CHECK_EQUAL(acks[1]["konysyncClientid"], -2);
  auto purchase = acks[2]["purchaseId"].get<std::string>();
  CAF_CHECK(purchase != "-3" && !purchase.empty());
  CAF_CHECK_EQUAL(acks[2]["konysyncClientpurchaseId"], "-3");
  CAF_CHECK_EQUAL(acks[2]["customerId"], 42);
  CAF_CHECK_EQUAL(acks[3]["customerId"], 43);
  CAF_CHECK_NOT_EQUAL(acks[3]["purchaseId"], acks[2]["purchaseId"]);
  CAF_CHECK_EQUAL(acks[4]["id"], 42);
  CAF_CHECK_EQUAL(acks[4]["city"], "Lyon");
  CAF_CHECK_EQUAL(json(f.service.read_row("Purchase", {{"purchaseId", purchase}})->at("customerId")), 42);
  CAF_CHECK_EQUAL(f.service.count_rows("Customer"), 3);
  // A later upload of this device that still holds the temporary id maps it.
  auto later = f.service.handle(upload_request(
    {.sequence_number = 1},
    {upload_row("Purchase", "insert", {{"purchaseId", "-9"}, {"customerId", -1}}, 6)}));
  CAF_CHECK_EQUAL(later["results"][0]["customerId"], 42);
}

// Vendor-generated configs declare autogenerated keys big_decimal (Site.siteId in
// tests/fixtures/fieldservice-sync-config.json) and refer to them from numeric child columns
// (Visit.siteId). The server used to give such keys a text token ("srv-7"), which the child
// column then refused as not a number: the whole upload failed.
CAF_TEST(a big_decimal autogenerated key gets a whole number that numeric children accept) {
  std::string text;
  {
    std::ifstream in{MXSYNC_FIXTURES_DIR "/fieldservice-sync-config.json"};
    text.assign(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
  }
  service_fixture f{{}, text};
  const upload_options field_ops{.scope = "FieldOpsScope", .strategy = "PERSISTENT_SYNC"};
  auto site = [](int id, const std::string& name) {
    return json{{"siteId", id}, {"siteName", name}, {"active", "true"}};
  };
  auto answer = f.service.handle(upload_request(
    field_ops, {upload_row("Site", "insert", site(-1, "north"), 1),
                upload_row("Site", "insert", site(-2, "south"), 2),
                upload_row("Visit", "insert", {{"visitId", -3}, {"siteId", -1}, {"technician", "ana"}}, 3),
                upload_row("Visit", "insert", {{"visitId", -4}, {"siteId", "-2"}}, 4)}));
  CAF_REQUIRE_EQUAL(answer["error"], "false");
  // A persistent scope's acks come with the next download.
  auto acks = f.service.handle(download_request({.scope = "FieldOpsScope", .strategy = "PERSISTENT_SYNC"}))["results"];
  CAF_REQUIRE_EQUAL(acks.size(), 4u);
  auto first = acks[0]["siteId"];
  auto second = acks[1]["siteId"];
  CAF_REQUIRE(first.is_number() && second.is_number());
  CAF_CHECK_EQUAL(first.get<double>(), 1.0);
  CAF_CHECK_EQUAL(second.get<double>(), 2.0);
  CAF_CHECK_EQUAL(acks[0]["konysyncClientsiteId"], -1);
  CAF_CHECK_EQUAL(acks[2]["siteId"].get<double>(), 1.0);
  CAF_CHECK_EQUAL(acks[3]["siteId"].get<double>(), 2.0);
  CAF_CHECK(acks[2]["visitId"].is_number_integer() && acks[2]["visitId"].get<std::int64_t>() > 0);
  CAF_CHECK_EQUAL(f.service.count_rows("Site"), 2);
  CAF_CHECK_EQUAL(f.service.count_rows("Visit"), 2);
}

CAF_TEST(persistent uploads queue acks for the next downloads) {
  service_fixture f;
  auto up = f.service.handle(upload_request(
    persistent_upload, {upload_row("Task", "insert", task_columns("t1", "one"), 1),
                        upload_row("Task", "insert", task_columns("t2", "two"), 2)}));
  CAF_CHECK_EQUAL(up["error"], "false");
  CAF_CHECK(up["results"].empty());
  CAF_CHECK(up["__sync"]["serverblob"].is_string());

  auto first = f.service.handle(download_request(persistent_download));
  const auto& rows = first["results"];
  // The two acks; the rows themselves are not echoed to the device that uploaded them.
  CAF_REQUIRE_EQUAL(rows.size(), 2u);
  CAF_CHECK_EQUAL(rows[0]["konysyncMergedWithEIS"], "1");
  CAF_CHECK_EQUAL(rows[0]["__metadata"]["changeType"], "update");
  CAF_CHECK_EQUAL(rows[0]["taskId"], "t1");
  CAF_CHECK_EQUAL(rows[0]["konysyncreplaysequence"], 1);
  CAF_CHECK_EQUAL(rows[1]["konysyncreplaysequence"], 2);
  CAF_CHECK_EQUAL(rows[1]["konysyncMergedWithEIS"], "1");
  // The answer got lost: the old tickcount comes again and the acks are re-delivered.
  auto repeat = f.service.handle(download_request(persistent_download));
  CAF_CHECK_EQUAL(repeat["results"].size(), 2u);
  CAF_CHECK_EQUAL(repeat["results"][0]["konysyncMergedWithEIS"], "1");
  // The client committed the batch: its blob confirms the acks, they are gone.
  auto next = persistent_download;
  next.tickcount = repeat["__sync"]["serverblob"];
  auto after = f.service.handle(download_request(next));
  CAF_CHECK(after["results"].empty());
  next.tickcount = after["__sync"]["serverblob"];
  CAF_CHECK(f.service.handle(download_request(next))["results"].empty());
  // Other clients never see this client's acks; they get the rows.
  auto other = persistent_download;
  other.client = "device-2";
  auto other_answer = f.service.handle(download_request(other));
  CAF_CHECK_EQUAL(other_answer["results"].size(), 2u);
  for (const auto& row : other_answer["results"])
    CAF_CHECK(!row.contains("konysyncMergedWithEIS"));
}

CAF_TEST(persistent acks larger than a batch go out over several batches) {
  service_fixture f;
  auto rows = json::array();
  for (int i = 0; i < 5; ++i)
    rows.push_back(upload_row("Task", "insert", task_columns("t" + std::to_string(i), "x"), i + 1));
  f.service.handle(upload_request(persistent_upload, rows));
  auto o = persistent_download;
  o.batchsize = "2";
  auto run = download_all(f.service, o);
  int acks = 0, changes = 0;
  for (const auto& row : run.rows)
    (row.contains("konysyncMergedWithEIS") ? acks : changes)++;
  CAF_CHECK_EQUAL(acks, 5);
  CAF_CHECK_EQUAL(changes, 0); // its own rows are not echoed
  CAF_CHECK_EQUAL(run.answers.front()["__sync"]["moreChangesAvailable"], true);
  CAF_CHECK_EQUAL(run.answers.size(), 3u);
}

CAF_TEST(persistent abortonerror reports UploadErrors and applies nothing) {
  service_fixture f;
  auto request = upload_request(persistent_upload,
                                {upload_row("Task", "insert", task_columns("t1", "one"), 1),
                                 upload_row("Task", "insert", {{"taskId", "t2"}, {"bogus", 1}}, 2)});
  auto up = f.service.handle(request);
  CAF_CHECK_EQUAL(up["error"], "false");
  CAF_CHECK_EQUAL(f.service.count_rows("Task"), 0);
  CAF_CHECK_EQUAL(f.service.handle(request), up); // a repeat does not queue the error twice
  auto down = f.service.handle(download_request(persistent_download));
  CAF_CHECK(down["results"].empty());
  const auto& errors = down["__sync"]["UploadErrors"];
  CAF_REQUIRE_EQUAL(errors.size(), 1u);
  const auto& error = errors[0].begin().value();
  CAF_CHECK_EQUAL(error["type"], "Task");
  CAF_CHECK_EQUAL(error["primaryKeys"], (json{{"taskId", "t2"}}));
  CAF_CHECK(error["errorMessage"].get<std::string>().find("bogus") != std::string::npos);
  auto next = persistent_download;
  next.tickcount = down["__sync"]["serverblob"];
  CAF_CHECK(!f.service.handle(download_request(next))["__sync"].contains("UploadErrors"));
}

CAF_TEST(persistent continueonerror queues failed acks) {
  service_fixture f;
  auto options = persistent_upload;
  options.policy = "continueonerror";
  f.service.handle(upload_request(options, {upload_row("Task", "insert", task_columns("t1", "one"), 1),
                                            upload_row("Task", "update", {{"title", "no key"}}, 2)}));
  auto down = f.service.handle(download_request(persistent_download));
  CAF_REQUIRE(down["results"].size() >= 2u);
  CAF_CHECK_EQUAL(down["results"][0]["konysyncMergedWithEIS"], "1");
  CAF_CHECK_EQUAL(down["results"][1]["konysyncMergedWithEIS"], "0");
  CAF_CHECK(down["results"][1]["__metadata"].contains("errorMessage"));
}

CAF_TEST(the recorded persistent session of the real client runs against the service) {
  auto config_text = [] {
    std::ifstream in{MXSYNC_FIXTURES_DIR "/workorder-sync-config.json"};
    return std::string{std::istreambuf_iterator<char>{in}, {}};
  }();
  service_fixture f{{}, config_text};
  auto records = read_jsonl(MXSYNC_FIXTURES_DIR "/real-client-requests/sc13-ack.jsonl");
  CAF_REQUIRE_EQUAL(records.size(), 5u);
  // registerdevice
  auto reg = f.service.handle(recorded_request(records[0]));
  CAF_CHECK(!reg["__registerdevice"]["instanceID"].get<std::string>().empty());
  // upload of three WorkOrders (+ more), persistent: empty results
  auto up = f.service.handle(recorded_request(records[1]));
  CAF_CHECK(up["results"].empty());
  auto uploaded = records[1]["decoded"]["UploadRequest"]["d"]["results"].size();
  // first download: acks for every uploaded row, and not the rows themselves (the
  // 2016 client library fails on such echoes)
  auto down = f.service.handle(recorded_request(records[2]));
  std::size_t acks = 0;
  json ack_of_cli2;
  for (const auto& row : down["results"])
    if (row.contains("konysyncMergedWithEIS")) {
      ++acks;
      CAF_CHECK_EQUAL(row["__metadata"]["changeType"], "update");
      if (row.value("orderId", json()) == "CLI-2")
        ack_of_cli2 = row;
    }
  CAF_CHECK_EQUAL(acks, uploaded);
  CAF_CHECK_EQUAL(down["results"].size(), uploaded);
  CAF_REQUIRE(!ack_of_cli2.is_null());
  CAF_CHECK(ack_of_cli2["endDate"].is_null()); // "null" strings arrived as NULL
  // second upload: an update of CLI-2 (with our hashsum) and a delete of a Part
  auto second = recorded_request(records[3]);
  second.decoded["UploadRequest"]["d"]["results"][0]["konysynchashsum"] = ack_of_cli2["konysynchashsum"];
  f.service.handle(second);
  auto next = recorded_request(records[4]);
  next.params["tickcount"] = down["__sync"]["serverblob"];
  auto later = f.service.handle(next);
  std::vector<std::string> changes;
  for (const auto& row : later["results"])
    if (row.contains("konysyncMergedWithEIS"))
      changes.push_back(row["__metadata"]["type"].get<std::string>() + ":" +
                        row["__metadata"]["changeType"].get<std::string>());
  CAF_CHECK_EQUAL(changes, (std::vector<std::string>{"WorkOrder:update", "Part:delete"}));
  CAF_CHECK_EQUAL(later["results"].size(), 2u);
  auto work_order = f.service.read_row("WorkOrder", {{"orderId", "CLI-2"}});
  CAF_REQUIRE(work_order.has_value());
  CAF_CHECK_EQUAL(json(work_order->at("status")), "Closed");
  CAF_CHECK(work_order->at("endDate").is_null()); // "NULL" too
}
