#define CAF_SUITE orm_query
#include <caf/test/unit_test.hpp>

#include "orm_test_fixture.hpp"

using namespace orm_test;
namespace orm = mxsync::orm;

namespace {

struct query_fixture : fixture {
  query_fixture() {
    for (int i = 1; i <= 5; ++i)
      server_row("Blocker", {{"bid", i}, {"pid", i <= 2 ? "low" : "high"}});
  }
};

std::vector<int> ids(const json& rows, const char* column = "bid") {
  std::vector<int> out;
  for (const auto& row : rows)
    out.push_back(row[column].get<int>());
  return out;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(orm_query_tests, query_fixture)

CAF_TEST(get_all orders and limits and offsets) {
  auto all = orm::get_all(db, config, "Blocker", json::array({{{"key", "bid"}, {"sortType", "desc"}}}));
  CAF_CHECK_EQUAL(ids(all), (std::vector<int>{5, 4, 3, 2, 1}));
  CAF_CHECK_EQUAL(all[0], json({{"bid", 5}, {"pid", "high"}})); // attributes only
  auto page = orm::get_all(db, config, "Blocker", {{"key", "bid"}}, 2, 1);
  CAF_CHECK_EQUAL(ids(page), (std::vector<int>{2, 3}));
  auto tail = orm::get_all(db, config, "Blocker", {{"key", "bid"}}, std::nullopt, 3);
  CAF_CHECK_EQUAL(ids(tail), (std::vector<int>{4, 5}));
  auto two_keys = orm::get_all(
    db, config, "Blocker",
    json::array({{{"key", "pid"}, {"sortType", "asc"}}, {{"key", "BID"}, {"sortType", "DESC"}}}));
  CAF_CHECK_EQUAL(ids(two_keys), (std::vector<int>{5, 4, 3, 2, 1}));
  CAF_CHECK_EQUAL(orm::get_all(db, config, "Note").size(), 0u);
}

CAF_TEST(get_all refuses unknown order keys and sort types) {
  CAF_CHECK_EQUAL(error_of([&] { orm::get_all(db, config, "Blocker", {{"key", "nope"}}); }), 7001);
  CAF_CHECK_EQUAL(error_of([&] {
                    orm::get_all(db, config, "Blocker", {{"key", "bid"}, {"sortType", "sideways"}});
                  }),
                  7001);
  CAF_CHECK_EQUAL(error_of([&] {
                    orm::get_all(db, config, "Blocker", {{"key", "bid; drop table Blocker"}});
                  }),
                  7001);
  CAF_CHECK_EQUAL(error_of([&] { orm::get_all(db, config, "Blocker", json::array({json(1)})); }),
                  7001);
  CAF_CHECK_EQUAL(error_of([&] { orm::get_all(db, config, "Nope"); }), 7031);
}

CAF_TEST(counts) {
  CAF_CHECK_EQUAL(orm::get_all_count(db, config, "Blocker"), 5);
  CAF_CHECK_EQUAL(orm::get_count(db, config, "Blocker", "pid = 'low'"), 2);
  CAF_CHECK_EQUAL(orm::get_count(db, config, "Blocker", {"bid > ?", {json(1)}}), 4);
  CAF_CHECK_EQUAL(orm::get_count(db, config, "Blocker", ""), 5);
  CAF_CHECK_EQUAL(orm::get_count(db, config, "Blocker", "where bid in (1, 2, 3) limit 2"), 2);
  CAF_CHECK_EQUAL(orm::get_count(db, config, "Blocker", "group by pid"), 2);
}

CAF_TEST(find accepts both where clause forms) {
  CAF_CHECK_EQUAL(ids(orm::find(db, config, "Blocker", "pid = 'high' order by bid")),
                  (std::vector<int>{3, 4, 5}));
  CAF_CHECK_EQUAL(ids(orm::find(db, config, "Blocker", " WHERE bid < 3 ORDER BY bid DESC")),
                  (std::vector<int>{2, 1}));
  CAF_CHECK_EQUAL(ids(orm::find(db, config, "Blocker", "order by bid limit 1")),
                  (std::vector<int>{1}));
  CAF_CHECK_EQUAL(ids(orm::find(db, config, "Blocker", {"pid = ? and bid <> ? order by bid",
                                                        {json("high"), json(4)}})),
                  (std::vector<int>{3, 5}));
  // A value with quotes stays a value in the parameterized form.
  CAF_CHECK_EQUAL(orm::find(db, config, "Blocker", {"pid = ?", {json("x' or '1'='1")}}).size(), 0u);
  // Reading other object tables in a sub-select is allowed.
  orm::update_by_pk(db, config, "Blocker", 1, {{"pid", nullptr}});
  CAF_CHECK_EQUAL(ids(orm::find(db, config, "Blocker",
                                "bid in (select bid from Blocker_history) order by bid")),
                  (std::vector<int>{1}));
}

CAF_TEST(get_all_details_by_pk returns the record or nothing) {
  auto found = orm::get_all_details_by_pk(db, config, "Blocker", 3);
  CAF_CHECK_EQUAL(found, json::array({{{"bid", 3}, {"pid", "high"}}}));
  CAF_CHECK_EQUAL(orm::get_all_details_by_pk(db, config, "Blocker", {{"bid", 99}}), json::array());
  CAF_CHECK_EQUAL(orm::get_all_details_by_pk(db, config, "Blocker", "3").size(), 1u);
  CAF_CHECK_EQUAL(error_of([&] { orm::get_all_details_by_pk(db, config, "Blocker", nullptr); }),
                  7003);
  CAF_CHECK_EQUAL(error_of([&] { orm::get_all_details_by_pk(db, config, "Blocker", "three"); }),
                  7001);
}

CAF_TEST(record status checks) {
  CAF_CHECK(!orm::is_record_pending_for_upload(db, config, "Blocker", 1));
  CAF_CHECK(!orm::is_record_deferred_for_upload(db, config, "Blocker", 1));
  orm::update_by_pk(db, config, "Blocker", 1, {{"pid", nullptr}});
  orm::update_by_pk(db, config, "Blocker", 2, {{"pid", nullptr}}, false);
  CAF_CHECK(orm::is_record_pending_for_upload(db, config, "Blocker", 1));
  CAF_CHECK(!orm::is_record_deferred_for_upload(db, config, "Blocker", 1));
  CAF_CHECK(orm::is_record_deferred_for_upload(db, config, "Blocker", 2));
  CAF_CHECK(!orm::is_record_pending_for_upload(db, config, "Blocker", 2));
  bump_version("OpsScope"); // uploaded: no longer pending, awaiting acknowledgement
  CAF_CHECK(!orm::is_record_pending_for_upload(db, config, "Blocker", 1));
  CAF_CHECK_EQUAL(error_of([&] { orm::is_record_pending_for_upload(db, config, "Blocker", 42); }),
                  7009);
  CAF_CHECK_EQUAL(error_of([&] { orm::is_record_deferred_for_upload(db, config, "Blocker", 42); }),
                  7009);
}

CAF_TEST(per object pending deferred and acknowledgement rows) {
  orm::update_by_pk(db, config, "Blocker", 1, {{"pid", nullptr}});
  orm::create(db, config, "Blocker", {{"bid", 6}}, false);
  orm::delete_by_pk(db, config, "Blocker", 5);
  auto pending = orm::get_pending_upload(db, config, "Blocker");
  CAF_REQUIRE_EQUAL(pending.size(), 2u);
  CAF_CHECK_EQUAL(pending[0], json({{"bid", 1}, {"pid", nullptr}, {"konysyncchangetype", 1},
                                    {"konysyncversionnumber", 0}}));
  CAF_CHECK_EQUAL(pending[1]["bid"], 5); // the delete, from history
  CAF_CHECK_EQUAL(pending[1]["konysyncchangetype"], 2);
  CAF_CHECK_EQUAL(pending[1]["pid"], "high");
  CAF_CHECK_EQUAL(orm::get_pending_upload(db, config, "Blocker", "konysyncchangetype = 2").size(),
                  1u);
  CAF_CHECK_EQUAL(orm::get_pending_upload(db, config, "Blocker", {"bid = ?", {json(1)}}).size(), 1u);
  auto deferred = orm::get_deferred_upload(db, config, "Blocker");
  CAF_REQUIRE_EQUAL(deferred.size(), 1u);
  CAF_CHECK_EQUAL(deferred[0]["bid"], 6);
  CAF_CHECK_EQUAL(deferred[0]["konysyncchangetype"], 90);
  CAF_CHECK_EQUAL(orm::get_deferred_upload(db, config, "Blocker", "bid = 1").size(), 0u);
  CAF_CHECK_EQUAL(orm::get_pending_acknowledgement(db, config, "Blocker").size(), 0u);
  bump_version("OpsScope");
  CAF_CHECK_EQUAL(orm::get_pending_upload(db, config, "Blocker").size(), 0u);
  // OpsScope is OTA: nothing of it is ever pending acknowledgement (its acks land with the
  // upload's commit), whatever the version numbers say.
  CAF_CHECK_EQUAL(orm::get_pending_acknowledgement(db, config, "Blocker").size(), 0u);
  CAF_CHECK_EQUAL(orm::get_deferred_upload(db, config, "Blocker").size(), 1u);
}

CAF_TEST(a record created and deleted locally is not pending) {
  orm::create(db, config, "Blocker", {{"bid", 7}});
  orm::delete_by_pk(db, config, "Blocker", 7);
  CAF_CHECK_EQUAL(orm::get_pending_upload(db, config, "Blocker").size(), 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
