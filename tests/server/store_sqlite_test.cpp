#define CAF_SUITE store_sqlite
#include <caf/test/unit_test.hpp>

#include "server/column_values.hpp"
#include "server/download_cursor.hpp"
#include "server/row_hash.hpp"
#include "service_test_support.hpp"

using namespace mxsync;
using namespace mxsync::server;
using namespace mxsync::server::testing;

namespace {

template <class F>
bool throws_value_error(F&& f) {
  try {
    f();
  } catch (const value_error&) {
    return true;
  }
  return false;
}

struct store_fixture {
  temp_dir dir;
  manual_clock clock;
  sync_config config = sync_config::parse_text(test_config_text());
  sqlite_store store{config, dir.file("store.db"), clock.function()};
  const table_def& customer = *config.find_table("Customer").second;
  const table_def& purchase = *config.find_table("Purchase").second;

  std::int64_t put(const table_def& table, json values) {
    std::int64_t seq = 0;
    store.write([&](store_writer& w) {
      seq = w.put(table, values, row_hashsum(table, values), change_origin{"u", "dev"});
    });
    return seq;
  }
};

} // namespace

CAF_TEST(put - find - remove and touch hand out increasing sequences) {
  store_fixture f;
  auto s1 = f.put(f.customer, {{"id", 1}, {"name", "a"}});
  auto s2 = f.put(f.purchase, {{"purchaseId", "p"}, {"customerId", 1}});
  CAF_CHECK_LESS(s1, s2);
  auto row = f.store.read()->find(f.customer, {{"id", 1}});
  CAF_REQUIRE(row.has_value());
  CAF_CHECK_EQUAL(row->values["name"], "a");
  CAF_CHECK(row->values["city"].is_null());
  CAF_CHECK_EQUAL(row->origin.user, "u");
  CAF_CHECK_EQUAL(row->origin.client, "dev");
  bool removed = false, touched = false, missing = true;
  f.store.write([&](store_writer& w) {
    removed = w.remove(f.customer, {{"id", 1}}, change_origin{"v", "dev-v"});
    missing = w.remove(f.customer, {{"id", 1}}, change_origin{"v", "dev-v"});
  });
  row = f.store.read()->find(f.customer, {{"id", 1}});
  CAF_CHECK_EQUAL(row->origin.user, "v");
  CAF_CHECK_EQUAL(row->origin.client, "dev-v");
  f.store.write([&](store_writer& w) { touched = w.touch(f.customer, {{"id", 1}}); });
  CAF_CHECK(removed);
  CAF_CHECK(!missing);
  CAF_CHECK(touched);
  row = f.store.read()->find(f.customer, {{"id", 1}});
  CAF_CHECK(row->deleted);
  CAF_CHECK_EQUAL(row->origin.client, ""); // touched: the server's version now
  CAF_CHECK_LESS(s2, row->sequence);
  CAF_CHECK_EQUAL(f.store.read()->last_sequence(), row->sequence);
}

CAF_TEST(a failing write leaves nothing behind; savepoints undo one step) {
  store_fixture f;
  try {
    f.store.write([&](store_writer& w) {
      w.put(f.customer, {{"id", 1}}, "h", change_origin{});
      throw std::runtime_error("boom");
    });
  } catch (const std::runtime_error&) {
  }
  CAF_CHECK(!f.store.read()->find(f.customer, {{"id", 1}}).has_value());
  f.store.write([&](store_writer& w) {
    w.put(f.customer, {{"id", 2}}, "h", change_origin{});
    try {
      w.savepoint([&] {
        w.put(f.customer, {{"id", 3}}, "h", change_origin{});
        throw std::runtime_error("undo 3");
      });
    } catch (const std::runtime_error&) {
    }
  });
  auto reader = f.store.read();
  CAF_CHECK(reader->find(f.customer, {{"id", 2}}).has_value());
  CAF_CHECK(!reader->find(f.customer, {{"id", 3}}).has_value());
}

CAF_TEST(change streams merge tables by sequence and honour filters) {
  store_fixture f;
  f.put(f.customer, {{"id", 1}, {"city", "Paris"}});
  f.put(f.purchase, {{"purchaseId", "a"}});
  f.put(f.customer, {{"id", 2}, {"city", "Rome"}});
  f.put(f.purchase, {{"purchaseId", "b"}});
  auto reader = f.store.read();
  std::vector<table_selection> all{{&f.customer, {}}, {&f.purchase, {}}};
  std::vector<std::string> seen;
  {
    auto stream = reader->changes_after(all, 0, true, std::nullopt);
    while (auto c = stream->next())
      seen.push_back(c->table->name);
  }
  CAF_CHECK_EQUAL(seen, (std::vector<std::string>{"Customer", "Purchase", "Customer", "Purchase"}));
  CAF_CHECK_EQUAL(reader->count_changes(all, 0, 100, true, std::nullopt), 4);
  CAF_CHECK_EQUAL(reader->count_changes(all, 2, 3, true, std::nullopt), 1);
  std::vector<table_selection> rome{{&f.customer, {{"city", filter_op::equal, {json("Rome")}}}}};
  auto stream = reader->changes_after(rome, 0, true, std::nullopt);
  auto only = stream->next();
  CAF_REQUIRE(only.has_value());
  CAF_CHECK_EQUAL(only->row.values["id"], 2);
  CAF_CHECK(!stream->next().has_value());
}

CAF_TEST(change streams leave out the own changes of a device after its registration) {
  store_fixture f;
  auto write = [&](int id, change_origin origin) {
    json values = {{"id", id}};
    f.store.write([&](store_writer& w) { w.put(f.customer, values, "h", origin); });
  };
  write(1, {"u", "dev"}); // before the device registered (reset since): sent again
  f.store.register_device("u", "dev", json::object());
  auto registered = f.store.read()->registration_sequence("u", "dev");
  CAF_CHECK_EQUAL(registered, f.store.read()->last_sequence());
  CAF_CHECK_EQUAL(f.store.read()->registration_sequence("u", "other"), 0);
  write(2, {"u", "dev"});      // its own upload
  write(3, {"u", "dev2"});     // another device of the same user
  write(4, {"u2", "dev"});     // another user on the same device id
  write(5, {"u", ""});         // stored differently from the device's row
  write(6, {});                // a server-side write
  f.store.write([&](store_writer& w) { w.remove(f.customer, {{"id", 2}}, {"u", "dev"}); });
  write(7, {"u", "dev"});
  f.store.write([&](store_writer& w) { w.touch(f.customer, {{"id", 7}}); }); // server wins
  auto reader = f.store.read();
  std::vector<table_selection> all{{&f.customer, {}}};
  own_changes own{{"u", "dev"}, registered};
  std::vector<int> ids;
  auto stream = reader->changes_after(all, 0, true, own);
  while (auto c = stream->next())
    ids.push_back(c->row.values["id"].get<int>());
  CAF_CHECK_EQUAL(ids, (std::vector<int>{1, 3, 4, 5, 6, 7}));
  CAF_CHECK_EQUAL(reader->count_changes(all, 0, reader->last_sequence(), true, own), 6);
  CAF_CHECK_EQUAL(reader->count_changes(all, 0, reader->last_sequence(), true, std::nullopt), 7);
  // Registering again (a reset device) makes every earlier change its data again.
  f.store.register_device("u", "dev", json::object());
  auto again = f.store.read();
  own.after_sequence = again->registration_sequence("u", "dev");
  CAF_CHECK_EQUAL(again->count_changes(all, 0, again->last_sequence(), true, own), 7);
}

CAF_TEST(a store file of the previous version is migrated on open) {
  temp_dir dir;
  auto path = dir.file("old.db");
  {
    // The data and device tables as the previous version created them.
    db::connection old{path};
    old.exec("CREATE TABLE mxsync_devices (user TEXT NOT NULL, device_id TEXT NOT NULL, instance_id "
             "TEXT NOT NULL, info TEXT, registered_at INTEGER, PRIMARY KEY (user, device_id))");
    old.exec("INSERT INTO mxsync_devices VALUES ('u', 'dev', 'inst-1', '{}', 1)");
    old.exec("CREATE TABLE \"mxdata_Customer\" (mxsync_seq INTEGER NOT NULL, mxsync_changed_at "
             "INTEGER NOT NULL, mxsync_deleted INTEGER NOT NULL DEFAULT 0, mxsync_hashsum TEXT, "
             "mxsync_owner TEXT, \"id\" INTEGER, \"name\" TEXT, \"city\" TEXT, \"rating\" INTEGER, "
             "\"owner\" TEXT, \"active\" INTEGER, \"balance\" REAL, PRIMARY KEY (\"id\"))");
    old.exec("INSERT INTO \"mxdata_Customer\" (mxsync_seq, mxsync_changed_at, mxsync_hashsum, "
             "mxsync_owner, \"id\", \"name\") VALUES (7, 1000, 'h', 'u', 1, 'old')");
  }
  auto config = sync_config::parse_text(test_config_text());
  const auto& customer = *config.find_table("Customer").second;
  sqlite_store store{config, path};
  auto reader = store.read();
  auto row = reader->find(customer, {{"id", 1}});
  CAF_REQUIRE(row.has_value());
  CAF_CHECK_EQUAL(row->values["name"], "old");
  CAF_CHECK_EQUAL(row->origin.user, "u");
  CAF_CHECK_EQUAL(row->origin.client, "");
  CAF_CHECK_EQUAL(reader->registration_sequence("u", "dev"), 0);
  // Rows of the old version have no origin device: every device gets them.
  std::vector<table_selection> all{{&customer, {}}};
  CAF_CHECK_EQUAL(reader->count_changes(all, 0, 7, true, own_changes{{"u", "dev"}, 0}), 1);
  reader.reset();
  // Registration keeps the instance id; new writes carry their origin.
  CAF_CHECK_EQUAL(store.register_device("u", "dev", json::object()), "inst-1");
  CAF_CHECK_EQUAL(store.read()->registration_sequence("u", "dev"), 7);
  store.write([&](store_writer& w) { w.put(customer, {{"id", 2}}, "h", change_origin{"u", "dev"}); });
  auto written = store.read()->find(customer, {{"id", 2}});
  CAF_REQUIRE(written.has_value());
  CAF_CHECK_EQUAL(written->origin.client, "dev");
  CAF_CHECK_GREATER(written->sequence, 7);
}

CAF_TEST(messages - upload answers - key maps and payloads) {
  store_fixture f;
  const change_origin c{"u", "c"}, other{"u", "other"}, c_of_other_user{"v", "c"};
  std::int64_t first = 0, second = 0;
  f.store.write([&](store_writer& w) {
    first = w.enqueue_message(c, "S", "ack", {{"n", 1}});
    second = w.enqueue_message(c, "S", "error", {{"n", 2}});
    w.enqueue_message(other, "S", "ack", {{"n", 3}});
    w.save_upload_answer(c, "S", "4", {"digest", "{\"a\":1}"});
    w.map_key(c, "Customer", json("-1"), json(42));
  });
  CAF_CHECK_LESS(first, second);
  {
    auto reader = f.store.read();
    auto pending = reader->pending_messages(c, "S", 0, 10);
    CAF_REQUIRE_EQUAL(pending.size(), 2u);
    CAF_CHECK_EQUAL(pending[1].kind, "error");
    CAF_CHECK_EQUAL(reader->pending_messages(c, "S", first, 10).size(), 1u);
    CAF_CHECK(reader->has_messages_up_to(c, "S", first));
  }
  f.store.write([&](store_writer& w) {
    w.release_messages(c, "S", first);
    CAF_CHECK_EQUAL(w.upload_answer(c, "S", "4").value_or(stored_upload{}).answer, "{\"a\":1}");
    CAF_CHECK_EQUAL(w.upload_answer(c, "S", "4").value_or(stored_upload{}).request_digest, "digest");
    CAF_CHECK(!w.upload_answer(c_of_other_user, "S", "4").has_value());
    CAF_CHECK(!w.upload_answer(c, "S", "5").has_value());
    CAF_CHECK_EQUAL(w.mapped_key(c, "Customer", json("-1")).value_or(json()), 42);
    CAF_CHECK(!w.mapped_key(c_of_other_user, "Customer", json("-1")).has_value());
    CAF_CHECK_NOT_EQUAL(w.unique_token(), w.unique_token());
  });
  CAF_CHECK_EQUAL(f.store.read()->pending_messages(c, "S", 0, 10).size(), 1u);
  f.store.save_payload("p1", "u", {"ab", "cd"}, 3600);
  CAF_CHECK_EQUAL(f.store.read()->payload_chunk("u", "p1", 2).value_or(""), "cd");
  CAF_CHECK(!f.store.read()->payload_chunk("other user", "p1", 2).has_value());
  f.store.delete_payload("other user", "p1");
  CAF_CHECK(f.store.read()->payload_chunk("u", "p1", 1).has_value());
  f.store.delete_payload("u", "p1");
  CAF_CHECK(!f.store.read()->payload_chunk("u", "p1", 1).has_value());
}

CAF_TEST(column values normalize like uploads) {
  column_def number{"n", column_type::int_};
  column_def real{"r", column_type::double_};
  column_def flag{"b", column_type::boolean};
  column_def text{"s", column_type::string};
  CAF_CHECK_EQUAL(normalize_value(number, json("12")), 12);
  CAF_CHECK_EQUAL(normalize_value(number, json(12.0)), 12);
  CAF_CHECK(normalize_value(number, json("null")).is_null());
  CAF_CHECK(normalize_value(text, json("NULL")).is_null());
  CAF_CHECK_EQUAL(normalize_value(text, json("Null")), "Null"); // only the two exact spellings
  CAF_CHECK_EQUAL(normalize_value(text, json(7)), "7");
  CAF_CHECK_EQUAL(normalize_value(real, json("12.50")), 12.5);
  CAF_CHECK_EQUAL(normalize_value(flag, json("true")), true);
  CAF_CHECK_EQUAL(normalize_value(flag, json(0)), false);
  CAF_CHECK(throws_value_error([&] { normalize_value(number, json("x")); }));
  CAF_CHECK(throws_value_error([&] { normalize_value(flag, json("maybe")); }));
  CAF_CHECK(throws_value_error([&] { normalize_value(text, json::array()); }));
  CAF_CHECK(is_temporary_key(json(-1)));
  CAF_CHECK(is_temporary_key(json("-7")));
  CAF_CHECK(!is_temporary_key(json("a-7")));
  CAF_CHECK(!is_temporary_key(json(3)));
}

CAF_TEST(cursors encode and decode) {
  download_cursor c{"tag1", 10, 20, 5, 3};
  auto back = download_cursor::decode(c.encode());
  CAF_REQUIRE(back.has_value());
  CAF_CHECK_EQUAL(back->last_sequence, 10);
  CAF_CHECK_EQUAL(back->horizon, 20);
  CAF_CHECK_EQUAL(back->remaining, 5);
  CAF_CHECK_EQUAL(back->acked_message, 3);
  CAF_CHECK_EQUAL(back->store_tag, "tag1");
  CAF_CHECK(download_cursor::decode("").has_value());
  CAF_CHECK(download_cursor::decode("0,0").has_value());
  CAF_CHECK(!download_cursor::decode("d1.tag.-1.0.0.0").has_value());
  CAF_CHECK(!download_cursor::decode("d1.t.1.2.3").has_value());
  CAF_CHECK(!download_cursor::decode("dl-1").has_value());
  pk_cursor p{"tag1", 2, json::array({"a.b", 7})};
  auto pk_back = pk_cursor::decode(p.encode());
  CAF_REQUIRE(pk_back.has_value());
  CAF_CHECK_EQUAL(pk_back->table_index, 2);
  CAF_CHECK_EQUAL(pk_back->last_key, json::array({"a.b", 7}));
  CAF_CHECK(!pk_cursor::decode("p1.tag1.0.zz").has_value());
  CAF_CHECK(!pk_cursor::decode(c.encode()).has_value());
}

CAF_TEST(the store commits for power loss and says so) {
  store_fixture f;
  // An acknowledged upload is the device's only copy of its change: WAL with synchronous
  // FULL (NORMAL may drop the last commits on power loss).
  CAF_CHECK_EQUAL(f.store.durability(),
                  "WAL, synchronous FULL: a committed write survives a crash and a power loss");
}
