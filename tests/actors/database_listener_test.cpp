#define CAF_SUITE actors
#include <caf/test/dsl.hpp>

#include "actors/database.hpp"
#include "actors/listener.hpp"
#include "actors/runtime.hpp"
#include "persistence/device_schema.hpp"
#include "persistence/sync_config.hpp"

#include <vector>

using namespace mxsync;
using json = nlohmann::json;

namespace {

std::shared_ptr<const sync_config> small_config() {
  return std::make_shared<const sync_config>(sync_config::parse(json::parse(R"(
    {"AppID":"a","Version":"v","ArrayOfSyncScope":[{"ScopeName":"S","Strategy":"OTA_SYNC",
     "ScopeTables":[{"Name":"T","Pk_Columns":["id"],"Columns":[{"Name":"id","type":"int"}]}]}]})")));
}

msg::db_work work(std::string label, std::function<json(msg::db_context&)> fn) {
  return msg::db_work{std::move(label), std::move(fn)};
}

/// Deterministic: actors spawned without `detached` run on the test coordinator.
struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<const sync_config> config = small_config();

  /// Sends a request, runs the actors, and returns the one answer.
  /// (CAF 0.17.6's own fixture helper does not compile: it uses a FAIL macro.)
  template <class T, class Handle, class... Ts>
  T ask_for(const Handle& who, Ts&&... args) {
    auto handle = self->request(who, caf::infinite, std::forward<Ts>(args)...);
    run();
    T answer{};
    handle.receive([&](T& x) { answer = std::move(x); },
                   [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return answer;
  }

  msg::outcome ask(const database_actor& db, bool write, msg::db_work w) {
    if (write)
      return ask_for<msg::outcome>(db, msg::write_atom::value, std::move(w));
    return ask_for<msg::outcome>(db, msg::read_atom::value, std::move(w));
  }

  template <class Handle>
  json status_of(const Handle& who) {
    return ask_for<json>(who, msg::status_atom::value);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(actor_tests, fixture)

CAF_TEST(a write commits in one transaction and a failed write changes nothing) {
  auto db = sys.spawn(database, std::string{":memory:"}, config);
  auto ok = ask(db, true, work("init", [](msg::db_context& ctx) {
                  schema::initialize(ctx.connection, ctx.config);
                  ctx.connection.exec("insert into T (id) values (1)");
                  return json{{"done", true}};
                }));
  CAF_REQUIRE(ok.ok());
  CAF_CHECK_EQUAL(ok.value["done"], true);
  auto failed = ask(db, true, work("half", [](msg::db_context& ctx) -> json {
                      ctx.connection.exec("insert into T (id) values (2)");
                      throw sync_exception(error_code::duplicate_primary_key, "no");
                    }));
  CAF_REQUIRE(!failed.ok());
  CAF_CHECK_EQUAL(failed.error->code, 7016);
  auto sql_failure = ask(db, true, work("bad sql", [](msg::db_context& ctx) -> json {
                           ctx.connection.exec("insert into Missing values (1)");
                           return {};
                         }));
  CAF_REQUIRE(!sql_failure.ok());
  CAF_CHECK_EQUAL(sql_failure.error->code, 7019);
  auto count = ask(db, false, work("count", [](msg::db_context& ctx) {
                     return json(*ctx.connection.query_int("select count(*) from T"));
                   }));
  CAF_CHECK_EQUAL(count.value, 1);
  auto status = status_of(db);
  CAF_CHECK_EQUAL(status["name"], "database");
  CAF_CHECK_EQUAL(status["counters"]["writes"], 3);
  CAF_CHECK_EQUAL(status["counters"]["reads"], 1);
  CAF_CHECK_EQUAL(status["counters"]["failures"], 2);
  CAF_CHECK(status.contains("mailbox"));
  self->send_exit(db, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(a database that cannot be opened answers every request with 7011) {
  auto db = sys.spawn(database, std::string{"/nonexistent-dir/x/device.db"}, config);
  auto failed = ask(db, true, work("any", [](msg::db_context&) { return json{}; }));
  CAF_REQUIRE(!failed.ok());
  CAF_CHECK_EQUAL(failed.error->code, 7011);
  auto status = status_of(db);
  CAF_CHECK_EQUAL(status["state"], "failed");
  self->send_exit(db, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(the listener runs callbacks in order and survives a throwing one) {
  auto order = std::make_shared<std::vector<int>>();
  auto l = sys.spawn(listener, callback_executor{});
  for (int i = 0; i < 3; ++i)
    self->send(l, msg::deliver_atom::value,
               msg::callback_task{"e" + std::to_string(i), [order, i] {
                                    order->push_back(i);
                                    if (i == 1)
                                      throw std::runtime_error("app bug");
                                  }});
  run();
  CAF_CHECK_EQUAL(*order, (std::vector<int>{0, 1, 2}));
  auto status = status_of(l);
  CAF_CHECK_EQUAL(status["counters"]["delivered"], 3);
  CAF_CHECK_EQUAL(status["counters"]["callbackFailures"], 1);
  CAF_CHECK_EQUAL(status["lastEvent"], "e2");
  self->send_exit(l, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(the listener hands callbacks to the app executor when given one) {
  std::vector<std::function<void()>> queued;
  auto l = sys.spawn(listener, callback_executor{[&](std::function<void()> f) {
                       queued.push_back(std::move(f));
                     }});
  int ran = 0;
  self->send(l, msg::deliver_atom::value, msg::callback_task{"x", [&] { ++ran; }});
  run();
  CAF_CHECK_EQUAL(ran, 0);
  CAF_REQUIRE_EQUAL(queued.size(), 1u);
  queued[0]();
  CAF_CHECK_EQUAL(ran, 1);
  self->send_exit(l, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST_FIXTURE_SCOPE_END()
