#define CAF_SUITE service_misc
#include <caf/test/unit_test.hpp>

#include "service_test_support.hpp"

#include <thread>

using namespace mxsync;
using namespace mxsync::server;
using namespace mxsync::server::testing;

CAF_TEST(admin helpers load - upsert - read - count and delete rows) {
  service_fixture f;
  std::vector<json> rows;
  for (int i = 1; i <= 20000; ++i)
    rows.push_back({{"id", i}, {"name", "n" + std::to_string(i)}, {"rating", i % 7}});
  CAF_CHECK_EQUAL(f.service.load_rows("Customer", rows), 20000u);
  CAF_CHECK_EQUAL(f.service.count_rows("Customer"), 20000);
  f.service.upsert_row("Customer", {{"id", 5}, {"city", "Oslo"}});
  auto row = f.service.read_row("Customer", {{"id", 5}});
  CAF_REQUIRE(row.has_value());
  CAF_CHECK_EQUAL(json(row->at("name")), "n5"); // upsert keeps the other columns
  CAF_CHECK_EQUAL(json(row->at("city")), "Oslo");
  CAF_CHECK(row->at("konysynchashsum").is_string());
  CAF_CHECK(f.service.delete_row("Customer", {{"id", 5}}));
  CAF_CHECK(!f.service.delete_row("Customer", {{"id", 5}}));
  CAF_CHECK(!f.service.read_row("Customer", {{"id", 5}}).has_value());
  CAF_CHECK_EQUAL(f.service.count_rows("Customer"), 19999);
  CAF_CHECK_EQUAL(f.service.count_rows("Customer", true), 20000);
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.upsert_row("Ghost", {{"id", 1}}); }), "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.upsert_row("Customer", {{"idx", 1}}); }), "SY0000E");
  CAF_CHECK_EQUAL(errcode_of([&] { f.service.upsert_row("Customer", {{"name", "no key"}}); }), "SY0000E");
  // A full download pages through everything exactly once.
  f.clock.advance();
  f.service.upsert_row("Customer", {{"id", 6}, {"city", "Bergen"}});
  auto run = download_all(f.service, {.batchsize = "500"});
  std::set<int> ids;
  for (const auto& r : run.rows)
    ids.insert(r["id"].get<int>());
  CAF_CHECK_EQUAL(ids.size(), 20000u);
  CAF_CHECK_EQUAL(run.rows.size(), 20000u);
}

CAF_TEST(200 concurrent clients upload and download without losing or doubling rows) {
  service_fixture f;
  constexpr int clients = 200;
  constexpr int rows_per_client = 5;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(clients);
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      try {
        auto client = "device-" + std::to_string(c);
        auto rows = json::array();
        for (int i = 0; i < rows_per_client; ++i)
          rows.push_back(upload_row("Customer", "insert",
                                    {{"id", c * 100 + i}, {"name", client}}, i + 1));
        upload_options up{.client = client, .sequence_number = 0};
        auto request = upload_request(up, rows);
        f.service.handle(request);
        f.service.handle(request); // a retry must not double anything
        // Temporary keys from many devices at once must all get distinct keys.
        f.service.handle(upload_request({.client = client, .sequence_number = 1},
                                        {upload_row("Purchase", "insert", {{"purchaseId", "-1"}}, 9)}));
        download_all(f.service, {.batchsize = "50", .client = client});
      } catch (const std::exception& e) {
        failures[static_cast<std::size_t>(c)] = e.what();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  for (const auto& failure : failures)
    CAF_CHECK_EQUAL(failure, "");
  CAF_CHECK_EQUAL(f.service.count_rows("Customer"), clients * rows_per_client);
  CAF_CHECK_EQUAL(f.service.count_rows("Purchase"), clients);
  // A client that uploaded nothing (each device leaves its own rows out).
  auto run = download_all(f.service, {.batchsize = "97", .client = "observer"});
  std::set<std::string> keys;
  for (const auto& row : run.rows)
    keys.insert(row["__metadata"]["type"].get<std::string>() + row.value("purchaseId", row.value("id", json())).dump());
  CAF_CHECK_EQUAL(run.rows.size(), static_cast<std::size_t>(clients * rows_per_client + clients));
  CAF_CHECK_EQUAL(keys.size(), run.rows.size());
}

CAF_TEST(the store keeps data - tag and sequence across reopening) {
  temp_dir dir;
  auto config = sync_config::parse_text(test_config_text());
  auto path = dir.file("reopen.db");
  std::string tag, blob;
  {
    auto store = std::make_shared<sqlite_store>(config, path);
    sync_service service{config, store, {}};
    service.upsert_row("Customer", {{"id", 1}, {"name", "a"}});
    tag = store->tag();
    blob = download_all(service, {}).blob;
  }
  auto store = std::make_shared<sqlite_store>(config, path);
  sync_service service{config, store, {}};
  CAF_CHECK_EQUAL(store->tag(), tag);
  service.upsert_row("Customer", {{"id", 2}, {"name", "b"}});
  auto rows = download_all(service, {.tickcount = blob}).rows;
  CAF_REQUIRE_EQUAL(rows.size(), 1u); // the new row has a higher sequence than the old cursor
  CAF_CHECK_EQUAL(rows[0]["id"], 2);
  // A different store file gets another tag.
  sqlite_store other{config, dir.file("other.db")};
  CAF_CHECK_NOT_EQUAL(other.tag(), tag);
}

CAF_TEST(settings that name unknown scopes or owner columns are refused) {
  auto refused = [](service_settings settings) {
    try {
      service_fixture f{settings};
    } catch (const std::invalid_argument&) {
      return true;
    }
    return false;
  };
  service_settings unknown_scope;
  unknown_scope.scopes["Nope"] = {};
  CAF_CHECK(refused(unknown_scope));
  service_settings unknown_column;
  unknown_column.scopes["OtaScope"].owner_column["Customer"] = "nope";
  CAF_CHECK(refused(unknown_column));
  service_settings good;
  good.scopes["OtaScope"].owner_column["Customer"] = "owner";
  CAF_CHECK(!refused(good));
}
