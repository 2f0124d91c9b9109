#define CAF_SUITE where_clause
#include <caf/test/unit_test.hpp>

#include "orm_test_fixture.hpp"

#include "persistence/where_clause.hpp"

#include <functional>
#include <string>
#include <vector>

using namespace orm_test;
namespace orm = mxsync::orm;
namespace where = mxsync::where;

namespace {

// An app-registered SQL function that writes: the guard must never let a clause call it.
void evil_function(sqlite3_context* context, int, sqlite3_value**) {
  auto* db = static_cast<sqlite3*>(sqlite3_user_data(context));
  sqlite3_exec(db, "delete from Blocker", nullptr, nullptr, nullptr);
  sqlite3_result_int(context, 1);
}

struct guard_fixture : fixture {
  guard_fixture() {
    for (int i = 1; i <= 3; ++i)
      server_row("Blocker", {{"bid", i}, {"pid", "p"}});
    server_row("Parent", {{"pid", "p"}});
    sqlite3_create_function(db.handle(), "evil", 0, SQLITE_UTF8, db.handle(), evil_function,
                            nullptr, nullptr);
  }

  /// Every object-level entry point that takes a where clause, run with `clause`.
  std::vector<std::function<void()>> entry_points(const where::clause& clause) {
    return {
      [=, this] { orm::find(db, config, "Blocker", clause); },
      [=, this] { orm::get_count(db, config, "Blocker", clause); },
      [=, this] { orm::update(db, config, "Blocker", clause, {{"pid", nullptr}}); },
      [=, this] { orm::remove(db, config, "Blocker", clause); },
      [=, this] { orm::mark_for_upload(db, config, "Blocker", clause); },
      [=, this] { orm::remove_device_instance(db, config, "Blocker", clause); },
      [=, this] { orm::get_pending_upload(db, config, "Blocker", clause); },
      [=, this] { orm::get_deferred_upload(db, config, "Blocker", clause); },
      [=, this] {
        orm::update_all(db, config, "Blocker", // JSON clauses have no parameters
                        json::array({{{"changeSet", {{"pid", nullptr}}}, {"whereClause", clause.text}}}));
      },
    };
  }

  /// Runs the clause through every entry point; each must fail with 7019 and the
  /// database must stay exactly as it was.
  void expect_refused(const std::string& clause) {
    auto before = snapshot();
    int index = 0;
    for (auto& call : entry_points(clause)) {
      auto error = error_details(call);
      if (error.code != 7019)
        CAF_FAIL("clause \"" << clause << "\" at entry point " << index << ": got code "
                             << error.code << " " << error.message);
      CAF_CHECK_EQUAL(error.message, "Some error occurred in executing SQL statement");
      CAF_CHECK(error.info.contains("reason"));
      ++index;
    }
    CAF_CHECK_EQUAL(snapshot(), before);
    CAF_CHECK(db.table_exists("Blocker"));
  }
};

} // namespace

CAF_TEST(normalize prepends where unless a keyword starts the clause) {
  CAF_CHECK_EQUAL(where::normalize(""), "");
  CAF_CHECK_EQUAL(where::normalize("   "), "");
  CAF_CHECK_EQUAL(where::normalize("a = 1"), "where a = 1");
  CAF_CHECK_EQUAL(where::normalize("  WHERE a = 1"), "WHERE a = 1");
  CAF_CHECK_EQUAL(where::normalize("order by a"), "order by a");
  CAF_CHECK_EQUAL(where::normalize("Limit 3"), "Limit 3");
  CAF_CHECK_EQUAL(where::normalize("group by a"), "group by a");
  CAF_CHECK_EQUAL(where::normalize("wherever = 1"), "where wherever = 1");
  CAF_CHECK_EQUAL(where::normalize("(a = 1)"), "where (a = 1)");
  CAF_CHECK(where::clause{" \n"}.empty());
  CAF_CHECK(!where::clause{"a"}.empty());
}

CAF_TEST_FIXTURE_SCOPE(where_clause_tests, guard_fixture)

CAF_TEST(a second statement is refused) {
  expect_refused("1=1; drop table Blocker");
  expect_refused("bid = 1; delete from Blocker");
  expect_refused("1=1 /* comment */ ; update Blocker set pid = 'x'");
  expect_refused("1=1; attach database ':memory:' as other");
  expect_refused("1=1; pragma writable_schema = on");
}

CAF_TEST(meta tables and sqlite_master cannot be read) {
  expect_refused("bid in (select id from konysyncMETAINFO)");
  expect_refused("bid in (select versionnumber from konysyncmetainfo)");
  expect_refused("exists (select 1 from SyncConfigTable)");
  expect_refused("1=0 union select name, sql from sqlite_master");
  expect_refused("1=0 union select name, sql from sqlite_schema");
  expect_refused("1=0 union select 1, 2 from sqlite_temp_master");
  expect_refused("bid in (select rowid from konysyncPENDINGUPLOADREQUESTINFO)");
}

CAF_TEST(pragmas and table valued functions are refused) {
  expect_refused("bid in (select cid from pragma_table_info('Blocker'))");
  expect_refused("exists (select 1 from json_each('[1]'))");
}

CAF_TEST(functions outside the built in set are refused) {
  expect_refused("evil() = 1");
  expect_refused("load_extension('libevil') is null");
  expect_refused("length(randomblob(1000000000)) > 0");
  expect_refused("bid = (select evil())");
  CAF_CHECK_EQUAL(count("select count(*) from Blocker"), 3);
}

CAF_TEST(recursion and broken syntax are refused) {
  expect_refused("bid in (with recursive c(x) as (select 1 union all select x + 1 from c) "
                 "select x from c)");
  expect_refused("bid = 1) or (1=1");
  expect_refused("no_such_column = 1");
  expect_refused("bid = ");
}

CAF_TEST(comments cannot hide a write) {
  // A trailing comment is harmless: the clause is still one read-only select.
  CAF_CHECK_EQUAL(orm::find(db, config, "Blocker", "bid = 1 -- or 1=1").size(), 1u);
  CAF_CHECK_EQUAL(orm::find(db, config, "Blocker", "bid = 2 /* ; drop table Blocker */").size(),
                  1u);
  expect_refused("bid = 1 --\n; drop table Blocker");
}

CAF_TEST(ordinary functions and object tables are allowed) {
  CAF_CHECK_EQUAL(orm::find(db, config, "Blocker", "lower(pid) = 'p' and abs(bid) = 2").size(), 1u);
  CAF_CHECK_EQUAL(orm::find(db, config, "Blocker", "coalesce(pid, 'x') like 'P%'").size(), 3u);
  CAF_CHECK_EQUAL(orm::get_count(db, config, "Blocker",
                                 "bid in (select bid from Blocker_original union select 1)"),
                  1);
  CAF_CHECK_EQUAL(
    orm::get_count(db, config, "Blocker", "exists (select 1 from Parent where Parent.pid = Blocker.pid)"),
    3);
  CAF_CHECK_EQUAL(orm::get_count(db, config, "Blocker", "date('now') > '2000-01-01'"), 3);
}

CAF_TEST(refusals name their reason) {
  auto reason = [&](const std::string& clause) {
    auto error = error_details([&] { orm::find(db, config, "Blocker", clause); });
    return error.info.value("reason", std::string{});
  };
  CAF_CHECK_EQUAL(reason("evil() = 1"), "function evil is not allowed");
  CAF_CHECK_EQUAL(reason("bid in (select id from konysyncMETAINFO)"),
                  "reading table konysyncMETAINFO is not allowed");
  CAF_CHECK_EQUAL(reason("1=0 union select name, sql from sqlite_master"),
                  "reading table sqlite_master is not allowed");
  CAF_CHECK_EQUAL(reason("1=1; drop table Blocker"), "only one SQL statement is allowed");
  auto pragma = error_details([&] { mxsync::pending::execute_select_query(db, "pragma user_version"); });
  CAF_CHECK_EQUAL(pragma.info.value("reason", std::string{}), "pragma user_version is not allowed");
}

CAF_TEST(the guard is removed afterwards) {
  expect_refused("evil() = 1");
  db.exec("insert into Parent (pid) values ('after')"); // no authorizer left behind
  CAF_CHECK_EQUAL(count("select count(*) from Parent"), 2);
}

CAF_TEST(parameters are bound and their count is checked) {
  CAF_CHECK_EQUAL(orm::find(db, config, "Blocker", {"bid = ?", {json("1; drop table Blocker")}})
                    .size(),
                  0u);
  CAF_CHECK(db.table_exists("Blocker"));
  CAF_CHECK_EQUAL(error_of([&] { orm::find(db, config, "Blocker", {"bid = ?", {json(1), json(2)}}); }),
                  7019);
}

CAF_TEST(a placeholder count other than the value count is refused everywhere) {
  auto before = snapshot();
  // Too few values used to bind the rest as NULL: an empty result instead of an error.
  auto check = [&](const where::clause& clause, std::size_t placeholders, std::size_t values,
                   const std::function<void()>& call, int index) {
    auto error = error_details(call);
    if (error.code != 7019)
      CAF_FAIL("\"" << clause.text << "\" with " << clause.params.size() << " values at entry point "
                     << index << ": got code " << error.code << " " << error.message);
    CAF_CHECK_EQUAL(error.message, "Some error occurred in executing SQL statement");
    CAF_CHECK_EQUAL(error.info.value("placeholders", -1), static_cast<int>(placeholders));
    CAF_CHECK_EQUAL(error.info.value("values", -1), static_cast<int>(values));
    CAF_CHECK_EQUAL(error.info.value("reason", std::string{}),
                    "the clause has " + std::to_string(placeholders) + " placeholders but "
                      + std::to_string(values) + " values were given");
  };
  for (const auto& [clause, placeholders] :
       std::vector<std::pair<where::clause, std::size_t>>{
         {{"bid = ? and pid = ?", {json(1)}}, 2},
         {{"bid = ?", {}}, 1},
         {{"bid = ?", {json(1), json(2)}}, 1},
         {{"bid = ?2", {json(1)}}, 2},
         {{"pid = 'p'", {json(1)}}, 0}}) {
    auto calls = entry_points(clause);
    // update_all's clause comes as JSON text, without values.
    auto values_seen = [&](std::size_t index) {
      return index + 1 == calls.size() ? std::size_t{0} : clause.params.size();
    };
    for (std::size_t i = 0; i < calls.size(); ++i)
      if (placeholders != values_seen(i))
        check(clause, placeholders, values_seen(i), calls[i], static_cast<int>(i));
  }
  auto select_error = error_details(
    [&] { mxsync::pending::execute_select_query(db, "select * from Blocker where bid = ?"); });
  CAF_CHECK_EQUAL(select_error.code, 7019);
  CAF_CHECK_EQUAL(select_error.info.value("placeholders", -1), 1);
  CAF_CHECK_EQUAL(snapshot(), before);
  // Matching counts still work, numbered placeholders included.
  CAF_CHECK_EQUAL(orm::find(db, config, "Blocker", {"bid = ?2 or bid = ?1", {json(1), json(3)}}).size(),
                  2u);
  CAF_CHECK_EQUAL(orm::get_count(db, config, "Blocker", {"bid > :low", {json(1)}}), 2);
}

CAF_TEST(execute_select_query runs one read only statement) {
  auto rows = mxsync::pending::execute_select_query(db, "select bid from Blocker order by bid");
  CAF_CHECK_EQUAL(rows, json::array({{{"bid", 1}}, {{"bid", 2}}, {{"bid", 3}}}));
  auto meta = mxsync::pending::execute_select_query(
    db, "select versionnumber from konysyncMETAINFO where scopename = ?", {json("OpsScope")});
  CAF_CHECK_EQUAL(meta, json::array({{{"versionnumber", 0}}}));
  auto with = mxsync::pending::execute_select_query(
    db, "with recursive c(x) as (select 1 union all select x + 1 from c where x < 3) "
        "select count(*) as n from c");
  CAF_CHECK_EQUAL(with, json::array({{{"n", 3}}}));
  auto before = snapshot();
  for (const char* sql : {"delete from Blocker", "select 1; delete from Blocker",
                          "update Blocker set pid = null", "insert into Parent (pid) values ('x')",
                          "drop table Blocker", "create table x (a)", "pragma table_info(Blocker)",
                          "pragma journal_mode = delete", "attach database ':memory:' as other",
                          "begin", "vacuum", "select evil()", "select load_extension('x')",
                          "replace into Parent (pid) values ('p')", ""}) {
    auto error = error_details([&] { mxsync::pending::execute_select_query(db, sql); });
    CAF_CHECK_EQUAL(error.code, 7019);
  }
  CAF_CHECK_EQUAL(snapshot(), before);
}

CAF_TEST_FIXTURE_SCOPE_END()
