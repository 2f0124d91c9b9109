#define CAF_SUITE chunk_store
#include <caf/test/unit_test.hpp>

#include "persistence/chunk_store.hpp"
#include "sync_test_fixture.hpp"

using namespace sync_test;
namespace syncdb = mxsync::syncdb;

namespace {
using chunk_numbers = std::vector<std::uint32_t>;
}

CAF_TEST_FIXTURE_SCOPE(chunk_store_tests, fixture)

CAF_TEST(chunks are stored in any order and loaded by number) {
  syncdb::begin_payload(db, ota_scope, "p1", 3, "ABCDEF");
  syncdb::store_chunk(db, ota_scope, "p1", 3, "ccc");
  syncdb::store_chunk(db, ota_scope, "p1", 1, "aaa");
  auto payload = syncdb::find_payload(db, ota_scope, "p1");
  CAF_REQUIRE(payload);
  CAF_CHECK_EQUAL(*payload, (syncdb::chunk_payload{"p1", 3, "ABCDEF", false}));
  CAF_CHECK_EQUAL(syncdb::missing_chunks(db, ota_scope, "p1"), chunk_numbers{2});
  syncdb::store_chunk(db, ota_scope, "p1", 2, "bbb");
  CAF_CHECK(syncdb::missing_chunks(db, ota_scope, "p1").empty());
  auto chunks = syncdb::load_chunks(db, ota_scope, "p1");
  CAF_REQUIRE_EQUAL(chunks.size(), 3u);
  CAF_CHECK_EQUAL(chunks[1], "aaa");
  CAF_CHECK_EQUAL(chunks[2], "bbb");
  CAF_CHECK_EQUAL(chunks[3], "ccc");
  auto meta = rows("select chunkcount, chunkhashsum from konysyncCHUNKMETAINFO "
                   "where payloadid = 'p1' and scopename = 'OtaScope'");
  CAF_CHECK_EQUAL(meta, json::parse(R"([{"chunkcount":3,"chunkhashsum":"ABCDEF"}])"));
}

CAF_TEST(a stored chunk is replaced when received again) {
  syncdb::begin_payload(db, ota_scope, "p1", 1, "x");
  syncdb::store_chunk(db, ota_scope, "p1", 1, "first");
  syncdb::store_chunk(db, ota_scope, "p1", 1, "second");
  auto chunks = syncdb::load_chunks(db, ota_scope, "p1");
  CAF_CHECK_EQUAL(chunks.size(), 1u);
  CAF_CHECK_EQUAL(chunks[1], "second");
}

CAF_TEST(an interrupted payload resumes with its stored chunks) {
  syncdb::begin_payload(db, persistent_scope, "p9", 4, "sum");
  syncdb::store_chunk(db, persistent_scope, "p9", 1, "a");
  syncdb::store_chunk(db, persistent_scope, "p9", 2, "b");
  // The same payload announced again (the first answer re-sent) keeps the chunks.
  syncdb::begin_payload(db, persistent_scope, "p9", 4, "sum");
  auto unfinished = syncdb::unfinished_payload(db, persistent_scope);
  CAF_REQUIRE(unfinished);
  CAF_CHECK_EQUAL(unfinished->payload_id, "p9");
  CAF_CHECK_EQUAL(syncdb::missing_chunks(db, persistent_scope, "p9"), (chunk_numbers{3, 4}));
  CAF_CHECK(!syncdb::unfinished_payload(db, ota_scope));
}

CAF_TEST(a new payload drops an unfinished one of the scope) {
  syncdb::begin_payload(db, ota_scope, "old", 3, "x");
  syncdb::store_chunk(db, ota_scope, "old", 1, "a");
  syncdb::begin_payload(db, ota_scope, "done", 1, "y");
  syncdb::store_chunk(db, ota_scope, "done", 1, "b");
  syncdb::finish_payload(db, ota_scope, "done");
  syncdb::begin_payload(db, persistent_scope, "other-scope", 2, "z");
  syncdb::begin_payload(db, ota_scope, "new", 2, "w");
  CAF_CHECK(!syncdb::find_payload(db, ota_scope, "old"));
  CAF_CHECK(syncdb::load_chunks(db, ota_scope, "old").empty());
  CAF_CHECK_EQUAL(syncdb::payload_to_acknowledge(db, ota_scope).value_or(""), "done");
  CAF_CHECK_EQUAL(syncdb::unfinished_payload(db, ota_scope).value_or(syncdb::chunk_payload{}).payload_id,
                  "new");
  CAF_CHECK(syncdb::find_payload(db, persistent_scope, "other-scope"));
}

CAF_TEST(payloads are kept per scope) {
  syncdb::begin_payload(db, ota_scope, "same", 1, "a");
  syncdb::begin_payload(db, persistent_scope, "same", 1, "b");
  syncdb::store_chunk(db, ota_scope, "same", 1, "ota");
  syncdb::store_chunk(db, persistent_scope, "same", 1, "persistent");
  auto ota_chunks = syncdb::load_chunks(db, ota_scope, "same");
  CAF_CHECK_EQUAL(ota_chunks[1], "ota");
  const auto other = syncdb::find_payload(db, persistent_scope, "same");
  CAF_REQUIRE(other);
  CAF_CHECK_EQUAL(other->checksum, "b");
  syncdb::clear_payload(db, ota_scope, "same");
  CAF_CHECK(!syncdb::find_payload(db, ota_scope, "same"));
  CAF_CHECK(syncdb::find_payload(db, persistent_scope, "same"));
  CAF_CHECK_EQUAL(syncdb::load_chunks(db, persistent_scope, "same").size(), 1u);
}

CAF_TEST(a finished payload waits to be acknowledged then clears) {
  syncdb::begin_payload(db, ota_scope, "p1", 2, "x");
  syncdb::store_chunk(db, ota_scope, "p1", 1, "a");
  syncdb::store_chunk(db, ota_scope, "p1", 2, "b");
  CAF_CHECK(!syncdb::payload_to_acknowledge(db, ota_scope));
  syncdb::finish_payload(db, ota_scope, "p1");
  CAF_CHECK_EQUAL(syncdb::payload_to_acknowledge(db, ota_scope).value_or(""), "p1");
  CAF_CHECK(!syncdb::unfinished_payload(db, ota_scope));
  CAF_CHECK(syncdb::find_payload(db, ota_scope, "p1")->finished);
  CAF_CHECK(syncdb::load_chunks(db, ota_scope, "p1").empty());
  syncdb::clear_payload(db, ota_scope, "p1");
  CAF_CHECK(!syncdb::payload_to_acknowledge(db, ota_scope));
  CAF_CHECK_EQUAL(count("select count(*) from konysyncCHUNKMETAINFO"), 0);
  CAF_CHECK_EQUAL(count("select count(*) from konysyncCHUNKDATA"), 0);
}

CAF_TEST(finishing joins the caller transaction) {
  syncdb::begin_payload(db, ota_scope, "p1", 1, "x");
  syncdb::store_chunk(db, ota_scope, "p1", 1, "a");
  {
    mxsync::db::transaction tx{db};
    syncdb::finish_payload(db, ota_scope, "p1");
  }
  CAF_CHECK(!syncdb::payload_to_acknowledge(db, ota_scope));
  CAF_CHECK_EQUAL(syncdb::load_chunks(db, ota_scope, "p1").size(), 1u);
}

CAF_TEST(an unknown payload has no chunks) {
  CAF_CHECK(!syncdb::find_payload(db, ota_scope, "none"));
  CAF_CHECK(syncdb::missing_chunks(db, ota_scope, "none").empty());
  CAF_CHECK(syncdb::load_chunks(db, ota_scope, "none").empty());
}

CAF_TEST(storage failures are chunking errors) {
  db.exec("drop table konysyncCHUNKDATA");
  CAF_CHECK_EQUAL(error_of([&] { syncdb::store_chunk(db, ota_scope, "p", 1, "x"); }), 7024);
}

CAF_TEST_FIXTURE_SCOPE_END()
