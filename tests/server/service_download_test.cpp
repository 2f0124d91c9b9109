#define CAF_SUITE service_download
#include <caf/test/unit_test.hpp>

#include "server/download_cursor.hpp"
#include "service_test_support.hpp"
#include "transport/password_hash.hpp"

#include <map>

using namespace mxsync;
using namespace mxsync::server;
using namespace mxsync::server::testing;

namespace {

json customer(int id, const std::string& name, const std::string& city = "Paris", int rating = 1) {
  return {{"id", id}, {"name", name}, {"city", city}, {"rating", rating}, {"owner", "testuser"},
          {"active", true}, {"balance", 10.5}};
}

/// Loads `count` customers with ids from `first`, all with the same change time.
void load_customers(service_fixture& f, int first, int count, const std::string& city = "Paris") {
  std::vector<json> rows;
  for (int i = first; i < first + count; ++i)
    rows.push_back(customer(i, "c" + std::to_string(i), city, i % 5));
  f.service.load_rows("Customer", rows);
}

std::multiset<std::string> ids_of(const std::vector<json>& rows, const std::string& key = "id") {
  std::multiset<std::string> out;
  for (const auto& row : rows)
    out.insert(row.at(key).dump());
  return out;
}

} // namespace

CAF_TEST(registerdevice gives one instance id per user and device) {
  service_fixture f;
  sync_request r;
  r.endpoint = "registerdevice";
  r.user = "testuser";
  r.params = common_params();
  r.params["deviceID"] = "device-1";
  r.params["os"] = "android";
  auto first = f.service.handle(r);
  CAF_CHECK_EQUAL(first.at("error"), "false");
  auto id = first.at("__registerdevice").at("instanceID").get<std::string>();
  CAF_CHECK(!id.empty());
  CAF_CHECK_EQUAL(json(f.service.handle(r).at("__registerdevice").at("instanceID")), id);
  r.params["deviceID"] = "device-2";
  CAF_CHECK_NOT_EQUAL(json(f.service.handle(r).at("__registerdevice").at("instanceID")), id);
  r.user = "other";
  r.params["deviceID"] = "device-1";
  CAF_CHECK_NOT_EQUAL(json(f.service.handle(r).at("__registerdevice").at("instanceID")), id);
  r.params.erase("deviceID");
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(r); }), "1008");
}

CAF_TEST(an empty scope downloads nothing with JSON booleans) {
  service_fixture f;
  auto answer = f.service.handle(download_request({}));
  CAF_CHECK_EQUAL(answer.at("error"), "false");
  CAF_CHECK(answer.at("results").empty());
  CAF_CHECK(answer.at("__sync").at("moreChangesAvailable").is_boolean());
  CAF_CHECK_EQUAL(answer.at("__sync").at("moreChangesAvailable").get<bool>(), false);
  CAF_CHECK_EQUAL(answer.at("__sync").at("pendingBatches"), 0);
  CAF_CHECK(download_cursor::decode(answer.at("__sync").at("serverblob").get<std::string>()).has_value());
}

CAF_TEST(download rows carry every column - hashsum and update or delete) {
  service_fixture f;
  f.service.upsert_row("Customer", customer(1, "Ann"));
  f.service.upsert_row("Purchase", {{"purchaseId", "p1"}, {"customerId", 1}, {"amount", "12.5"}});
  auto answer = f.service.handle(download_request({}));
  const auto& rows = answer.at("results");
  CAF_REQUIRE_EQUAL(rows.size(), 2u);
  CAF_CHECK_EQUAL(rows[0].at("__metadata"), (json{{"type", "Customer"}, {"changeType", "update"}}));
  CAF_CHECK_EQUAL(rows[0].at("id"), 1);
  CAF_CHECK_EQUAL(rows[0].at("name"), "Ann");
  CAF_CHECK_EQUAL(rows[0].at("active"), true);
  CAF_CHECK_EQUAL(rows[0].at("balance"), 10.5);
  CAF_CHECK_EQUAL(rows[0].at("konysynchashsum"), json(f.service.read_row("Customer", {{"id", 1}})->at("konysynchashsum")));
  CAF_CHECK_EQUAL(rows[1].at("__metadata").at("type"), "Purchase");
  CAF_CHECK_EQUAL(rows[1].at("amount"), 12.5);
  CAF_CHECK(rows[1].at("note").is_null()); // absent columns go down as null

  f.clock.advance();
  CAF_CHECK(f.service.delete_row("Customer", {{"id", 1}}));
  auto later = f.service.handle(download_request({.tickcount = answer["__sync"]["serverblob"]}));
  CAF_REQUIRE_EQUAL(later.at("results").size(), 1u);
  CAF_CHECK_EQUAL(later["results"][0]["__metadata"]["changeType"], "delete");
  CAF_CHECK_EQUAL(later["results"][0]["id"], 1);
  CAF_CHECK_EQUAL(later["results"][0]["name"], "Ann");
  // An initial sync does not need tombstones.
  auto initial = f.service.handle(download_request({.initial = true}));
  CAF_REQUIRE_EQUAL(initial.at("results").size(), 1u);
  CAF_CHECK_EQUAL(initial["results"][0]["__metadata"]["type"], "Purchase");
}

CAF_TEST(batches of distinct change times follow batchsize exactly) {
  service_fixture f;
  for (int i = 1; i <= 12; ++i) {
    f.service.upsert_row("Customer", customer(i, "c"));
    f.clock.advance();
  }
  auto run = download_all(f.service, {.batchsize = "5"});
  CAF_REQUIRE_EQUAL(run.answers.size(), 3u);
  std::vector<std::size_t> sizes;
  std::vector<std::int64_t> pending;
  std::vector<bool> more;
  for (const auto& a : run.answers) {
    sizes.push_back(a["results"].size());
    pending.push_back(a["__sync"]["pendingBatches"].get<std::int64_t>());
    more.push_back(a["__sync"]["moreChangesAvailable"].get<bool>());
  }
  CAF_CHECK_EQUAL(sizes, (std::vector<std::size_t>{5, 5, 2}));
  CAF_CHECK_EQUAL(pending, (std::vector<std::int64_t>{2, 1, 0}));
  CAF_CHECK_EQUAL(more, (std::vector<bool>{true, true, false}));
  std::vector<int> order;
  for (const auto& row : run.rows)
    order.push_back(row["id"].get<int>());
  CAF_CHECK_EQUAL(order, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
}

CAF_TEST(rows sharing one change time are never split across batches) {
  service_fixture f;
  load_customers(f, 1, 7); // one time, 7 rows
  f.clock.advance();
  load_customers(f, 100, 3);
  f.clock.advance();
  load_customers(f, 200, 4);
  f.clock.advance();
  load_customers(f, 300, 1);
  auto run = download_all(f.service, {.batchsize = "5"});
  // Batch 1: the 7-row group whole; then 3 + the 4-row group (never cut); then 1.
  CAF_REQUIRE_EQUAL(run.answers.size(), 3u);
  CAF_CHECK_EQUAL(run.answers[0]["results"].size(), 7u);
  CAF_CHECK_EQUAL(run.answers[1]["results"].size(), 7u);
  CAF_CHECK_EQUAL(run.answers[2]["results"].size(), 1u);
  CAF_CHECK_EQUAL(run.rows.size(), 15u);
  auto ids = ids_of(run.rows);
  CAF_CHECK_EQUAL(std::set<std::string>(ids.begin(), ids.end()).size(), 15u); // none repeated
  CAF_CHECK(run.answers[0]["__sync"]["pendingBatches"].get<int>() >= 1);
  CAF_CHECK_EQUAL(run.answers[2]["__sync"]["pendingBatches"], 0);

  // A group bigger than several batches goes out in one answer.
  service_fixture g;
  load_customers(g, 1, 1200);
  auto big = download_all(g.service, {.batchsize = "50"});
  CAF_CHECK_EQUAL(big.answers.size(), 1u);
  CAF_CHECK_EQUAL(big.rows.size(), 1200u);
}

CAF_TEST(no row is lost or repeated when rows change while the client pages) {
  service_fixture f;
  for (int i = 1; i <= 30; ++i) {
    f.service.upsert_row("Customer", customer(i, "v1"));
    f.clock.advance();
  }
  download_options o{.batchsize = "7"};
  auto first = f.service.handle(download_request(o));
  CAF_REQUIRE_EQUAL(first["results"].size(), 7u);
  // Change a delivered row, a not yet delivered row, add and delete rows.
  f.service.upsert_row("Customer", {{"id", 2}, {"name", "v2"}});
  f.clock.advance();
  f.service.upsert_row("Customer", {{"id", 20}, {"name", "v2"}});
  f.clock.advance();
  f.service.upsert_row("Customer", customer(31, "new"));
  f.clock.advance();
  f.service.delete_row("Customer", {{"id", 25}});
  f.clock.advance();
  o.tickcount = first["__sync"]["serverblob"];
  auto rest = download_all(f.service, o);
  std::map<int, json> latest;
  for (const auto& row : first["results"])
    latest[row["id"].get<int>()] = row;
  int twenty_seen = 0;
  for (const auto& row : rest.rows) {
    latest[row["id"].get<int>()] = row;
    twenty_seen += row["id"] == 20;
  }
  CAF_CHECK_EQUAL(latest.size(), 31u);
  CAF_CHECK_EQUAL(latest[2]["name"], "v2");
  CAF_CHECK_EQUAL(latest[20]["name"], "v2");
  CAF_CHECK_EQUAL(twenty_seen, 1); // moved behind the cursor: sent once, in its new version
  CAF_CHECK_EQUAL(latest[25]["__metadata"]["changeType"], "delete");
  CAF_CHECK_EQUAL(latest[31]["name"], "new");
  // Nothing more after the end: the cursor does not loop.
  auto again = f.service.handle(download_request({.tickcount = rest.blob, .batchsize = "7"}));
  CAF_CHECK(again["results"].empty());
  CAF_CHECK_EQUAL(again["__sync"]["moreChangesAvailable"], false);
}

CAF_TEST(rows of all scope tables come in change sequence order) {
  service_fixture f;
  f.service.upsert_row("Customer", customer(1, "a"));
  f.service.upsert_row("Purchase", {{"purchaseId", "p1"}, {"customerId", 1}});
  f.service.upsert_row("Customer", customer(2, "b"));
  f.service.upsert_row("Purchase", {{"purchaseId", "p2"}, {"customerId", 2}});
  auto run = download_all(f.service, {.batchsize = "1"});
  std::vector<std::string> types;
  for (const auto& row : run.rows)
    types.push_back(row["__metadata"]["type"]);
  CAF_CHECK_EQUAL(types, (std::vector<std::string>{"Customer", "Purchase", "Customer", "Purchase"}));
  // The batch of 1 holds the whole same-time run: all four went out at once.
  CAF_CHECK_EQUAL(run.answers.size(), 1u);
}

CAF_TEST(batchsize errors and limits) {
  service_settings settings;
  settings.max_batch_size = 3;
  service_fixture f{settings};
  for (const char* bad : {"0", "-3", "abc", "2x"}) {
    std::string message;
    CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(download_request({.batchsize = bad})); }, &message),
                    "SY0000E");
    CAF_CHECK_EQUAL(message, "Invalid batch size : " + std::string{bad} + " must be greater than zero.");
  }
  for (int i = 1; i <= 5; ++i) {
    f.service.upsert_row("Customer", customer(i, "c"));
    f.clock.advance();
  }
  // Clamped to max_batch_size.
  CAF_CHECK_EQUAL(f.service.handle(download_request({.batchsize = "100"}))["results"].size(), 3u);
  // Absent batchsize: the default (500).
  auto r = download_request({});
  r.params.erase("batchsize");
  CAF_CHECK_EQUAL(f.service.handle(r)["results"].size(), 3u);
}

CAF_TEST(scope - strategy and tickcount errors) {
  service_fixture f;
  std::string message;
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(download_request({.scope = "Nope"})); }, &message), "SY0000E");
  CAF_CHECK(message.find("Nope") != std::string::npos);
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(download_request({.strategy = "PERSISTENT_SYNC"})); }, &message),
                  "SY0000E");
  CAF_CHECK_EQUAL(message, "Strategy mismatch server = OTA_SYNC, client = PERSISTENT_SYNC");
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(download_request({.tickcount = "garbage"})); }), "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(download_request({.tickcount = "d1.x.1.2"})); }), "SY0000E");
  sync_request unknown = download_request({});
  unknown.endpoint = "bogus";
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(unknown); }), "SY0000E");
  // The client's own "0,0" and a blob of another store mean "from the start".
  f.service.upsert_row("Customer", customer(1, "a"));
  CAF_CHECK_EQUAL(f.service.handle(download_request({.tickcount = "0,0"}))["results"].size(), 1u);
  download_cursor foreign{"otherstore", 99, 99, 0, 0};
  CAF_CHECK_EQUAL(f.service.handle(download_request({.tickcount = foreign.encode()}))["results"].size(), 1u);
}

CAF_TEST(client filters: equality - list - LIKE - range - and unknown names) {
  service_fixture f;
  f.service.load_rows("Customer", {customer(1, "Ann", "Paris", 1), customer(2, "Bob", "Berlin", 2),
                                   customer(3, "Cid", "Porto", 3), customer(4, "Dan", "Paris", 4),
                                   customer(5, "Eve", "Rome", 5)});
  f.service.upsert_row("Purchase", {{"purchaseId", "p1"}, {"customerId", 1}});
  auto ids = [&](json filters) {
    std::set<int> out;
    auto run = download_all(f.service, {.filters = filters});
    for (const auto& row : run.rows)
      if (row["__metadata"]["type"] == "Customer")
        out.insert(row["id"].get<int>());
    return out;
  };
  CAF_CHECK_EQUAL(ids(json::parse(R"([{"Customer":[{"Name":"city","Value1":"Paris","Value2":""}]}])")),
                  (std::set<int>{1, 4}));
  CAF_CHECK_EQUAL(ids(json::parse(R"([{"Customer":[{"Name":"rating","Value1":"2,3, 5"}]}])")),
                  (std::set<int>{2, 3, 5}));
  CAF_CHECK_EQUAL(ids(json::parse(R"([{"Customer":[{"Name":"city","Value1":"P%"}]}])")), (std::set<int>{1, 3, 4}));
  CAF_CHECK_EQUAL(ids(json::parse(R"([{"Customer":[{"Name":"rating","Value1":"2","Value2":"4"}]}])")),
                  (std::set<int>{2, 3, 4}));
  CAF_CHECK_EQUAL(ids(json::parse(R"([{"Customer":[{"Name":"city","Value1":"P%"},{"Name":"rating","Value1":3}]}])")),
                  (std::set<int>{3}));
  // Unfiltered tables still come down.
  auto rows = download_all(f.service, {.filters = json::parse(R"([{"Customer":[{"Name":"city","Value1":"Rome"}]}])")}).rows;
  CAF_CHECK_EQUAL(rows.size(), 2u);
  std::string message;
  CAF_CHECK_EQUAL(errcode_of([&] { ids(json::parse(R"([{"Customer":[{"Name":"nope","Value1":"1"}]}])")); }, &message),
                  "SY0000E");
  CAF_CHECK(message.find("nope") != std::string::npos);
  CAF_CHECK_EQUAL(errcode_of([&] { ids(json::parse(R"([{"Ghost":[{"Name":"id","Value1":"1"}]}])")); }), "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([&] { ids(json::parse(R"([{"Customer":[{"Name":"rating","Value1":"x"}]}])")); }), "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([&] { ids(json::parse(R"("just a string")")); }), "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([&] { ids(json::parse(R"([{"Customer":"x"}])")); }), "SY0000E");
}

CAF_TEST(the owner filter shows users only their own rows) {
  service_settings settings;
  settings.scopes["OtaScope"].owner_column["Customer"] = "owner";
  service_fixture f{settings};
  auto mine = customer(1, "mine");
  auto theirs = customer(2, "theirs");
  theirs["owner"] = "someone";
  f.service.load_rows("Customer", {mine, theirs});
  auto rows = download_all(f.service, {}).rows;
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0]["id"], 1);
  auto other = download_all(f.service, {.user = "someone"}).rows;
  CAF_REQUIRE_EQUAL(other.size(), 1u);
  CAF_CHECK_EQUAL(other[0]["id"], 2);
  // Combined with a client filter.
  CAF_CHECK(download_all(f.service, {.filters = json::parse(R"([{"Customer":[{"Name":"id","Value1":"2"}]}])")}).rows.empty());
}

CAF_TEST(chunked download reassembles to the plain answer) {
  service_fixture f;
  for (int i = 1; i <= 60; ++i) {
    auto row = customer(i, "name with ünïcödé " + std::string(40, 'x'));
    f.service.upsert_row("Customer", row);
    f.clock.advance();
  }
  auto plain = f.service.handle(download_request({.batchsize = "50"}));
  auto first = f.service.handle(download_request({.batchsize = "50", .chunksize = "1"}));
  CAF_CHECK_EQUAL(first.at("error"), "false");
  auto id = first.at("__sync").at("payloadid").get<std::string>();
  auto count = first.at("__sync").at("chunkcount").get<std::int64_t>();
  auto checksum = first.at("__sync").at("checksum").get<std::string>();
  CAF_REQUIRE(count > 1);
  std::string payload = first.at("chunkdata").get<std::string>();
  CAF_CHECK(payload.size() <= 1024u);
  for (std::int64_t n = 2; n <= count; ++n) {
    sync_request r = download_request({});
    r.endpoint = "downloadchunk";
    r.params["payloadid"] = id;
    r.params["chunkcount"] = std::to_string(count);
    r.params["chunknumber"] = std::to_string(n);
    auto chunk = f.service.handle(r);
    CAF_CHECK_EQUAL(chunk.at("error"), "false");
    payload += chunk.at("chunkdata").get<std::string>();
  }
  CAF_CHECK_EQUAL(transport::sha256_hex(payload), checksum);
  auto parsed = json::parse(payload);
  CAF_CHECK_EQUAL(parsed.at("opstatus"), 0);
  CAF_CHECK_EQUAL(parsed.at("d"), plain);
  // A small answer is not chunked.
  auto small = f.service.handle(download_request({.batchsize = "1", .chunksize = "100"}));
  CAF_CHECK(!small.at("__sync").contains("payloadid"));
  CAF_CHECK_EQUAL(small.at("results").size(), 1u);
  // The next download releases the payload; then its id is unknown.
  f.service.handle(download_request({.tickcount = plain["__sync"]["serverblob"], .delete_payload = id}));
  sync_request r = download_request({});
  r.endpoint = "downloadchunk";
  r.params["payloadid"] = id;
  r.params["chunknumber"] = "2";
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(r); }), "SY3008E");
  r.params["payloadid"] = "nope";
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(r); }), "SY3008E");
  r.params["chunknumber"] = "zero";
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(r); }), "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(download_request({.chunksize = "-1"})); }), "SY0000E");
}

CAF_TEST(getAllPKs pages over all requested objects with JSON booleans) {
  service_fixture f;
  load_customers(f, 1, 5);
  f.service.upsert_row("Purchase", {{"purchaseId", "p1"}, {"customerId", 1}});
  f.service.upsert_row("Purchase", {{"purchaseId", "p2"}, {"customerId", 1}});
  f.service.delete_row("Customer", {{"id", 3}});
  json context = json::parse(R"({"d":{"Customer":{"fields":["id"]},"Purchase":{"fields":["purchaseId"]}}})");
  auto run = download_all(f.service, {.batchsize = "3", .filter_context = context});
  CAF_CHECK_EQUAL(run.answers.size(), 2u);
  for (const auto& a : run.answers) {
    CAF_CHECK(a["__sync"]["moreChangesAvailable"].is_boolean());
    CAF_CHECK(!a["__sync"].contains("pendingBatches") || a["__sync"]["pendingBatches"].is_number());
  }
  CAF_REQUIRE_EQUAL(run.rows.size(), 6u); // 4 live customers + 2 purchases
  CAF_CHECK_EQUAL(run.rows[0], (json{{"__metadata", {{"type", "Customer"}}}, {"id", 1}}));
  CAF_CHECK_EQUAL(run.rows[5], (json{{"__metadata", {{"type", "Purchase"}}}, {"purchaseId", "p2"}}));
  CAF_CHECK_EQUAL(errcode_of([&] {
                    f.service.handle(download_request({.filter_context = json::parse(R"({"d":{"Ghost":{"fields":["id"]}}})")}));
                  }),
                  "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([&] {
                    f.service.handle(download_request({.filter_context = json::parse(R"({"d":{"Customer":{"fields":["zz"]}}})")}));
                  }),
                  "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(download_request({.filter_context = json::parse("[1]")})); }),
                  "SY0000E");
}

CAF_TEST(bulkGet returns the requested rows without hashsum) {
  service_fixture f;
  load_customers(f, 1, 5);
  json context = json::parse(R"({"d":{"Customer":{"keys":[[{"Name":"id","Value":"2"}],[{"Name":"id","Value":4}],
    [{"Name":"id","Value":"99"}]],"fields":["id","name"]}}})");
  auto answer = f.service.handle(download_request({.filter_context = context}));
  CAF_REQUIRE_EQUAL(answer["results"].size(), 2u);
  CAF_CHECK_EQUAL(answer["results"][0], (json{{"__metadata", {{"type", "Customer"}}}, {"id", 2}, {"name", "c2"}}));
  CAF_CHECK(!answer["results"][1].contains("konysynchashsum"));
  CAF_CHECK_EQUAL(answer["__sync"]["moreChangesAvailable"], false);
  json bad = json::parse(R"({"d":{"Customer":{"keys":[[{"Name":"name","Value":"x"}]]}}})");
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.handle(download_request({.filter_context = bad})); }), "SY0000E");
}

CAF_TEST(the recorded reconciliation of the real client gets the recorded rows) {
  auto config_text = [] {
    std::ifstream in{MXSYNC_FIXTURES_DIR "/workorder-sync-config.json"};
    return std::string{std::istreambuf_iterator<char>{in}, {}};
  }();
  service_fixture f{{}, config_text};
  auto records = read_jsonl(MXSYNC_FIXTURES_DIR "/real-client-requests/sc13-reconcile.jsonl");
  CAF_REQUIRE_EQUAL(records.size(), 5u);
  // The server rows the recording served, loaded in their order.
  for (std::size_t i : {1u, 2u}) {
    for (auto row : records[i]["response"]["d"]["results"]) {
      row.erase("__metadata");
      row.erase("konysynchashsum");
      f.service.upsert_row("WorkOrder", row);
      f.clock.advance();
    }
  }
  // The recorded initial download, replayed: same rows, same batching flags.
  auto first = f.service.handle(recorded_request(records[1]));
  CAF_CHECK_EQUAL(first["results"].size(), 6u);
  CAF_CHECK_EQUAL(first["__sync"]["moreChangesAvailable"], false);
  // getAllPKs over all twelve objects.
  auto pks = f.service.handle(recorded_request(records[3]));
  CAF_CHECK_EQUAL(pks["results"], records[3]["response"]["d"]["results"]);
  CAF_CHECK_EQUAL(pks["__sync"]["moreChangesAvailable"], false);
  // bulkGet: the requested fields of the requested key, no hashsum.
  auto bulk = f.service.handle(recorded_request(records[4]));
  CAF_REQUIRE_EQUAL(bulk["results"].size(), 1u);
  auto expected = records[4]["response"]["d"]["results"][0];
  for (const auto& [key, value] : bulk["results"][0].items())
    if (expected.contains(key))
      CAF_CHECK_EQUAL(value, expected[key]);
    else
      CAF_CHECK(value.is_null());
  CAF_CHECK(!bulk["results"][0].contains("konysynchashsum"));
}

CAF_TEST(getAllPKs neither repeats nor skips rows that change between pages) {
  service_fixture f;
  load_customers(f, 1, 6);
  json context = json::parse(R"({"d":{"Customer":{"fields":["id"]}}})");
  auto first = f.service.handle(download_request({.batchsize = "3", .filter_context = context}));
  CAF_REQUIRE_EQUAL(first["results"].size(), 3u);
  CAF_CHECK_EQUAL(first["__sync"]["moreChangesAvailable"], true);
  f.service.upsert_row("Customer", {{"id", 1}, {"name", "changed"}}); // already sent
  f.service.upsert_row("Customer", {{"id", 5}, {"name", "changed"}}); // still to come
  f.service.delete_row("Customer", {{"id", 6}});
  auto rest = download_all(f.service, {.tickcount = first["__sync"]["serverblob"], .batchsize = "3",
                                       .filter_context = context});
  std::vector<int> ids;
  for (const auto& row : first["results"])
    ids.push_back(row["id"].get<int>());
  for (const auto& row : rest.rows)
    ids.push_back(row["id"].get<int>());
  CAF_CHECK_EQUAL(ids, (std::vector<int>{1, 2, 3, 4, 5}));
  CAF_CHECK_EQUAL(errcode_of([&] {
                    f.service.handle(download_request({.tickcount = "p1.x.0.zz", .filter_context = context}));
                  }),
                  "SY0000E");
}

// -- echoes: a device's own uploads do not come back to it as changes -----------

namespace {

json customer_upload(int id, const std::string& name, const std::string& owner = "testuser") {
  return {{"id", id}, {"name", name}, {"city", "Paris"}, {"rating", "1"}, {"owner", owner},
          {"active", "true"}, {"balance", "10.5"}};
}

json upload_customers(service_fixture& f, const upload_options& o, const std::vector<int>& ids,
                      const std::string& name = "device") {
  auto rows = json::array();
  for (auto id : ids)
    rows.push_back(upload_row("Customer", "insert", customer_upload(id, name), id));
  auto answer = f.service.handle(upload_request(o, rows));
  CAF_REQUIRE_EQUAL(answer.at("error"), "false");
  return answer;
}

void register_device(service_fixture& f, const std::string& device, const std::string& user = "testuser") {
  sync_request r;
  r.endpoint = "registerdevice";
  r.user = user;
  r.params = common_params(user);
  r.params["deviceID"] = device;
  f.service.handle(r);
}

std::set<int> customer_ids(const std::vector<json>& rows) {
  std::set<int> out;
  for (const auto& row : rows)
    if (row.at("__metadata").at("type") == "Customer" && !row.contains("konysyncMergedWithEIS"))
      out.insert(row.at("id").get<int>());
  return out;
}

std::int64_t cursor_position(const std::string& blob) {
  return download_cursor::decode(blob).value().last_sequence;
}

} // namespace

CAF_TEST(a device does not download its own uploads - other devices and users do) {
  service_fixture f;
  register_device(f, "device-1");
  f.service.upsert_row("Customer", customer(1, "server"));
  f.clock.advance();
  auto acks = upload_customers(f, {}, {10, 11})["results"];
  CAF_REQUIRE_EQUAL(acks.size(), 2u); // the acks stay as they are
  auto own = download_all(f.service, {});
  CAF_CHECK_EQUAL(customer_ids(own.rows), (std::set<int>{1}));
  CAF_CHECK_EQUAL(own.answers.back()["__sync"]["moreChangesAvailable"], false);
  CAF_CHECK_EQUAL(own.answers.back()["__sync"]["pendingBatches"], 0);
  // Another device of the same user, and another user on the same device id.
  CAF_CHECK_EQUAL(customer_ids(download_all(f.service, {.client = "device-2"}).rows),
                  (std::set<int>{1, 10, 11}));
  CAF_CHECK_EQUAL(customer_ids(download_all(f.service, {.user = "other"}).rows), (std::set<int>{1, 10, 11}));
  // A server-side change and another device's change of those rows do reach it.
  f.clock.advance();
  f.service.upsert_row("Customer", {{"id", 10}, {"name", "admin"}});
  upload_options other_device{.client = "device-2"};
  auto hash11 = json(f.service.read_row("Customer", {{"id", 11}})->at("konysynchashsum"));
  f.service.handle(upload_request(
    other_device, {upload_row("Customer", "update", customer_upload(11, "device-2"), 1, hash11)}));
  auto later = download_all(f.service, {.tickcount = own.blob});
  CAF_CHECK_EQUAL(customer_ids(later.rows), (std::set<int>{10, 11}));
  // Its own update and delete stay away from it; the other device gets both.
  auto before_own = later.blob;
  auto device2_blob = download_all(f.service, {.client = "device-2"}).blob;
  hash11 = json(f.service.read_row("Customer", {{"id", 11}})->at("konysynchashsum"));
  auto hash10 = json(f.service.read_row("Customer", {{"id", 10}})->at("konysynchashsum"));
  f.service.handle(upload_request(
    {.sequence_number = 1}, {upload_row("Customer", "update", customer_upload(11, "mine again"), 12, hash11),
                             upload_row("Customer", "delete", customer_upload(10, "admin"), 13, hash10)}));
  auto mine = download_all(f.service, {.tickcount = before_own});
  CAF_CHECK(mine.rows.empty());
  CAF_CHECK_EQUAL(mine.answers.back()["__sync"]["moreChangesAvailable"], false);
  CAF_CHECK_EQUAL(cursor_position(mine.blob), f.store->read()->last_sequence()); // moved past them
  auto theirs = download_all(f.service, {.tickcount = device2_blob, .client = "device-2"}).rows;
  CAF_REQUIRE_EQUAL(theirs.size(), 2u);
  CAF_CHECK_EQUAL(theirs[0]["name"], "mine again");
  CAF_CHECK_EQUAL(theirs[1]["__metadata"]["changeType"], "delete");
}

CAF_TEST(reconciliation still lists and returns the own uploads of a device) {
  service_fixture f;
  register_device(f, "device-1");
  upload_customers(f, {}, {10, 11});
  CAF_CHECK(customer_ids(download_all(f.service, {}).rows).empty());
  auto keys = download_all(f.service, {.filter_context = json::parse(R"({"d":{"Customer":{"fields":["id"]}}})")});
  CAF_CHECK_EQUAL(customer_ids(keys.rows), (std::set<int>{10, 11}));
  auto bulk = f.service.handle(download_request(
    {.filter_context = json::parse(R"({"d":{"Customer":{"keys":[[{"Name":"id","Value":11}]]}}})")}));
  CAF_REQUIRE_EQUAL(bulk["results"].size(), 1u);
  CAF_CHECK_EQUAL(bulk["results"][0]["name"], "device");
}

CAF_TEST(left-out own rows keep batches whole per change time and pendingBatches true) {
  service_fixture f;
  register_device(f, "device-1");
  // One change time: 3 server rows, 4 uploaded by device-1, 2 server rows.
  load_customers(f, 1, 3);
  upload_customers(f, {}, {101, 102, 103, 104});
  load_customers(f, 4, 2);
  f.clock.advance();
  load_customers(f, 6, 3);
  upload_customers(f, {.sequence_number = 1}, {201, 202, 203});
  f.clock.advance();
  load_customers(f, 9, 1);
  f.clock.advance();
  upload_customers(f, {.sequence_number = 2}, {301, 302}); // the last changes are its own
  auto run = download_all(f.service, {.batchsize = "2"});
  CAF_REQUIRE_EQUAL(run.answers.size(), 3u);
  std::vector<std::size_t> sizes;
  std::vector<std::int64_t> pending;
  std::vector<bool> more;
  for (const auto& a : run.answers) {
    sizes.push_back(a["results"].size());
    pending.push_back(a["__sync"]["pendingBatches"].get<std::int64_t>());
    more.push_back(a["__sync"]["moreChangesAvailable"].get<bool>());
  }
  // The 5 server rows of the first time whole, then the 3 of the second, then 1.
  CAF_CHECK_EQUAL(sizes, (std::vector<std::size_t>{5, 3, 1}));
  CAF_CHECK_EQUAL(pending, (std::vector<std::int64_t>{2, 1, 0}));
  CAF_CHECK_EQUAL(more, (std::vector<bool>{true, true, false}));
  CAF_CHECK_EQUAL(customer_ids(run.rows), (std::set<int>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  CAF_CHECK_EQUAL(cursor_position(run.blob), f.store->read()->last_sequence());
  auto again = f.service.handle(download_request({.tickcount = run.blob, .batchsize = "2"}));
  CAF_CHECK(again["results"].empty());
  CAF_CHECK_EQUAL(again["__sync"]["moreChangesAvailable"], false);
  // Another device gets all 18 rows, the runs of one time never split.
  auto other = download_all(f.service, {.batchsize = "2", .client = "device-2"});
  CAF_CHECK_EQUAL(other.rows.size(), 18u);
  CAF_CHECK_EQUAL(other.answers[0]["results"].size(), 9u);
}

CAF_TEST(rows the server changed on upload or kept by server wins go back to the device) {
  service_settings settings;
  settings.scopes["OtaScope"].owner_column["Customer"] = "owner";
  service_fixture f{settings};
  register_device(f, "device-1");
  auto rows = json::array({upload_row("Customer", "insert", customer_upload(1, "filled by server", "null"), 1),
                           upload_row("Customer", "insert", customer_upload(2, "as sent"), 2)});
  f.service.handle(upload_request({}, rows));
  auto own = download_all(f.service, {});
  CAF_REQUIRE_EQUAL(customer_ids(own.rows), (std::set<int>{1}));
  CAF_CHECK_EQUAL(own.rows[0]["owner"], "testuser"); // the device learns the server's value
  // An update carrying only some columns: the stored row has values the device did
  // not send, so the device cannot be sure to hold it.
  auto hash2 = json(f.service.read_row("Customer", {{"id", 2}})->at("konysynchashsum"));
  f.service.handle(upload_request({.sequence_number = 1},
                                  {upload_row("Customer", "update", {{"id", 2}, {"name", "partial"}}, 3, hash2)}));
  auto partial = download_all(f.service, {.tickcount = own.blob}).rows;
  CAF_REQUIRE_EQUAL(partial.size(), 1u);
  CAF_CHECK_EQUAL(partial[0]["name"], "partial");
  CAF_CHECK_EQUAL(partial[0]["city"], "Paris");
  // Server wins: the kept server row goes back to the device that lost.
  service_settings server_wins;
  server_wins.scopes["OtaScope"].conflicts = conflict_policy::server_wins;
  service_fixture g{server_wins};
  register_device(g, "device-1");
  upload_customers(g, {}, {5});
  auto blob = download_all(g.service, {}).blob;
  // The device's own row, with a hashsum that does not match: the server keeps its
  // version (the device's earlier upload) and the device must get it again.
  auto lost = g.service.handle(upload_request(
    {.sequence_number = 1}, {upload_row("Customer", "update", customer_upload(5, "stale"), 2, "stale-hash")}));
  CAF_CHECK_EQUAL(lost["results"][0]["name"], "device");
  auto back = download_all(g.service, {.tickcount = blob}).rows;
  CAF_REQUIRE_EQUAL(back.size(), 1u);
  CAF_CHECK_EQUAL(back[0]["name"], "device");
}

CAF_TEST(a device that registers again gets its earlier uploads back) {
  service_fixture f;
  register_device(f, "device-1");
  upload_customers(f, {}, {10});
  CAF_CHECK(customer_ids(download_all(f.service, {.initial = true}).rows).empty());
  // A reset device database registers again and starts from scratch.
  register_device(f, "device-1");
  CAF_CHECK_EQUAL(customer_ids(download_all(f.service, {.initial = true}).rows), (std::set<int>{10}));
  upload_customers(f, {.sequence_number = 1}, {11});
  CAF_CHECK_EQUAL(customer_ids(download_all(f.service, {.initial = true}).rows), (std::set<int>{10}));
}
