#define CAF_SUITE sqlite
#include <caf/test/unit_test.hpp>

#include "persistence/sqlite.hpp"

using namespace mxsync::db;

CAF_TEST(statements bind and read every scalar type) {
  connection db{":memory:"};
  db.exec("CREATE TABLE t (a integer, b float, c text, d blob)");
  auto insert = db.prepare("INSERT INTO t VALUES (?, ?, ?, ?)");
  insert.bind(1, nlohmann::json(42)).bind(2, nlohmann::json(1.5)).bind(3, nlohmann::json("x"));
  insert.bind(4, nlohmann::json(nullptr));
  insert.run();
  auto rows = db.query("SELECT * FROM t");
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0]["a"], 42);
  CAF_CHECK_EQUAL(rows[0]["b"], 1.5);
  CAF_CHECK_EQUAL(rows[0]["c"], "x");
  CAF_CHECK(rows[0]["d"].is_null());
}

CAF_TEST(a second statement in one prepare is refused) {
  connection db{":memory:"};
  db.exec("CREATE TABLE t (a integer)");
  bool refused = false;
  try {
    db.prepare("SELECT 1; DROP TABLE t");
  } catch (const sqlite_error&) {
    refused = true;
  }
  CAF_CHECK(refused);
  CAF_CHECK(db.table_exists("t"));
}

CAF_TEST(transactions roll back unless committed and nest as savepoints) {
  connection db{":memory:"};
  db.exec("CREATE TABLE t (a integer)");
  {
    transaction tx{db};
    db.exec("INSERT INTO t VALUES (1)");
  }
  CAF_CHECK_EQUAL(db.query_int("SELECT count(*) FROM t").value_or(-1), 0);
  {
    transaction outer{db};
    db.exec("INSERT INTO t VALUES (1)");
    {
      transaction inner{db};
      db.exec("INSERT INTO t VALUES (2)");
    }
    outer.commit();
  }
  CAF_CHECK_EQUAL(db.query_int("SELECT count(*) FROM t").value_or(-1), 1);
}

CAF_TEST(identifiers are quoted) {
  CAF_CHECK_EQUAL(quote_identifier("a\"b"), "\"a\"\"b\"");
}
