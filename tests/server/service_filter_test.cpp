#define CAF_SUITE service_filter
#include <caf/test/unit_test.hpp>

#include "service_test_support.hpp"

#include <set>

using namespace mxsync;
using namespace mxsync::server;
using namespace mxsync::server::testing;

// How the server evaluates client filterparams (context.d.Filters); docs/server.md,
// "Client filters", says the same in words.

namespace {

json customer(int id, const std::string& name, json city, int rating, json active = true,
              json balance = 10.5) {
  return {{"id", id},         {"name", name},         {"city", std::move(city)}, {"rating", rating},
          {"owner", "testuser"}, {"active", std::move(active)}, {"balance", std::move(balance)}};
}

struct filter_fixture {
  service_fixture f;
  filter_fixture() {
    f.service.load_rows("Customer", {customer(1, "Ann", "Paris", 1), customer(2, "Bob", "Berlin", 2, false),
                                     customer(3, "Cid", "Porto", 3), customer(4, "Dan", "Paris", 4, false, 99.0),
                                     customer(5, "Eve", "Rome", 5), customer(6, "Fay", nullptr, 6),
                                     customer(7, "Smith, John", "paris", 7), customer(8, "P_t", "P_rto", 8)});
    f.service.upsert_row("Purchase", {{"purchaseId", "p1"}, {"customerId", 2}});
  }

  /// The Customer ids a download with these filters (one condition list) returns.
  std::set<int> ids_of(const json& conditions) {
    std::set<int> out;
    auto filters = json::array({json{{"Customer", conditions}}});
    for (const auto& row : download_all(f.service, {.filters = filters}).rows)
      if (row["__metadata"]["type"] == "Customer")
        out.insert(row["id"].get<int>());
    return out;
  }
  std::set<int> ids(const std::string& conditions) { return ids_of(json::parse(conditions)); }

  /// The errcode and message of a download with these conditions.
  std::string error_of(const std::string& conditions, std::string* message = nullptr) {
    return errcode_of([&] { ids(conditions); }, message);
  }
};

} // namespace

CAF_TEST(Value1 alone is equality on the column type) {
  filter_fixture x;
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"city","Value1":"Paris","Value2":""}])"), (std::set<int>{1, 4}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"city","Value1":"  Paris "}])"), (std::set<int>{1, 4})); // trimmed
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"city","Value1":"paris"}])"), (std::set<int>{7}));         // case matters
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"rating","Value1":"3"}])"), (std::set<int>{3}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"rating","Value1":3}])"), (std::set<int>{3}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"active","Value1":"false"}])"), (std::set<int>{2, 4}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"balance","Value1":"99"}])"), (std::set<int>{4}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"city","Value1":"null"}])"), (std::set<int>{6})); // SQL NULL
  // Blank Value1 and Value2: a declared but unset parameter, no filter.
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"city","Value1":"","Value2":" "}])").size(), 8u);
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"city"}])").size(), 8u);
}

CAF_TEST(a comma in Value1 makes a list - also a JSON array) {
  filter_fixture x;
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"rating","Value1":"2,3, 5"}])"), (std::set<int>{2, 3, 5}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"city","Value1":"Rome, Porto,,"}])"), (std::set<int>{3, 5}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"rating","Value1":[1,"4"]}])"), (std::set<int>{1, 4}));
  // Condition EQ keeps a comma as part of the value.
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"name","Value1":"Smith, John","Condition":"EQ"}])"), (std::set<int>{7}));
  std::string message;
  CAF_CHECK_EQUAL(x.error_of(R"([{"Name":"rating","Value1":" , "}])", &message), "SY0000E");
  CAF_CHECK(message.find("holds no value") != std::string::npos);
  CAF_CHECK_EQUAL(x.error_of(R"([{"Name":"rating","Value1":"2,x"}])"), "SY0000E"); // every item typed
}

CAF_TEST(a percent sign makes a LIKE pattern) {
  filter_fixture x;
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"city","Value1":"P%"}])"), (std::set<int>{1, 3, 4, 7, 8}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"city","Value1":"%ar%"}])"), (std::set<int>{1, 4, 7}));
  // SQLite's LIKE: ASCII letters without case, "_" one character.
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"city","Value1":"p%"}])"), (std::set<int>{1, 3, 4, 7, 8}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"name","Value1":"P_t%"}])"), (std::set<int>{8}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"name","Value1":"_o_","Condition":"LIKE"}])"), (std::set<int>{2}));
  // "%" wins over ",": the whole text is one pattern.
  CAF_CHECK(x.ids(R"([{"Name":"city","Value1":"P%,R%"}])").empty());
  CAF_CHECK_EQUAL(x.error_of(R"([{"Name":"city","Value1":["P%"],"Condition":"LIKE"}])"), "SY0000E");
}

CAF_TEST(Value2 makes an inclusive range and one blank bound an open one) {
  filter_fixture x;
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"rating","Value1":"2","Value2":"4"}])"), (std::set<int>{2, 3, 4}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"rating","Value1":"","Value2":"2"}])"), (std::set<int>{1, 2}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"rating","Value1":"7","Condition":"BETWEEN"}])"), (std::set<int>{7, 8}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"balance","Value1":"11","Value2":"100"}])"), (std::set<int>{4}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"name","Value1":"B","Value2":"D"}])"), (std::set<int>{2, 3}));
  CAF_CHECK(x.ids(R"([{"Name":"rating","Value1":"4","Value2":"2"}])").empty()); // SQL BETWEEN
  CAF_CHECK_EQUAL(x.error_of(R"([{"Name":"rating","Value1":"2","Value2":"many"}])"), "SY0000E");
  // Value2 without a range condition is a mistake, not a silent equality.
  std::string message;
  CAF_CHECK_EQUAL(x.error_of(R"([{"Name":"rating","Value2":"3","Condition":"EQ"}])", &message), "SY0000E");
  CAF_CHECK(message.find("Value1 is empty") != std::string::npos);
}

CAF_TEST(an explicit Condition picks the comparison) {
  filter_fixture x;
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"rating","Value1":"6","Condition":"gt"}])"), (std::set<int>{7, 8}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"rating","Value1":"6","Condition":"GE"}])"), (std::set<int>{6, 7, 8}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"rating","Value1":"2","Condition":"LT"}])"), (std::set<int>{1}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"rating","Value1":"2","Condition":"LE"}])"), (std::set<int>{1, 2}));
  // NE keeps NULLs (IS NOT): rows without a city are not Paris.
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"city","Value1":"Paris","Condition":"NE"}])"), (std::set<int>{2, 3, 5, 6, 7, 8}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"rating","Value1":"3","Condition":"IN"}])"), (std::set<int>{3}));
  CAF_CHECK_EQUAL(x.error_of(R"([{"Name":"rating","Value1":"3","Condition":"ABOUT"}])"), "SY0000E");
}

CAF_TEST(conditions and groups combine with AND - each object only its own) {
  filter_fixture x;
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"city","Value1":"P%"},{"Name":"rating","Value1":"3,4"}])"), (std::set<int>{3, 4}));
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"rating","Value1":"2","Condition":"GE"},{"Name":"rating","Value1":"3","Condition":"LE"}])"),
                  (std::set<int>{2, 3}));
  // Two entries of d.Filters naming the same object.
  auto filters = json::parse(R"([{"Customer":[{"Name":"city","Value1":"Paris"}]},{"Customer":[{"Name":"rating","Value1":"4"}]}])");
  auto rows = download_all(x.f.service, {.filters = filters}).rows;
  std::set<std::string> keys;
  for (const auto& row : rows)
    keys.insert(row["__metadata"]["type"].get<std::string>() + row.value("purchaseId", row.value("id", json())).dump());
  // Customer 4 only; the Purchase of Berlin's customer 2 still comes: a filter on a
  // parent object does not filter its children (docs/server.md).
  CAF_CHECK_EQUAL(keys, (std::set<std::string>{"Customer4", "Purchase\"p1\""}));
  // One condition given as an object instead of a list.
  CAF_CHECK_EQUAL(x.ids(R"({"Name":"rating","Value1":"5"})"), (std::set<int>{5}));
}

CAF_TEST(getAllPKs honours the same filters) {
  filter_fixture x;
  auto filters = json::parse(R"([{"Customer":[{"Name":"city","Value1":"Paris,Rome"}]}])");
  auto context = json::parse(R"({"d":{"Customer":{"fields":["id"]}}})");
  std::set<int> ids;
  for (const auto& row : download_all(x.f.service, {.filters = filters, .filter_context = context}).rows)
    ids.insert(row["id"].get<int>());
  CAF_CHECK_EQUAL(ids, (std::set<int>{1, 4, 5}));
}

CAF_TEST(filter names and values cannot inject SQL) {
  filter_fixture x;
  // Values are bound parameters: quotes and SQL in them are just text.
  CAF_CHECK(x.ids(R"([{"Name":"city","Value1":"x' OR '1'='1"}])").empty());
  CAF_CHECK(x.ids(R"([{"Name":"city","Value1":"%' OR '1'='1"}])").empty());
  CAF_CHECK(x.ids(R"([{"Name":"city","Value1":"Paris'); DELETE FROM mxdata_Customer; --, Rome"}])") ==
            (std::set<int>{5}));
  CAF_CHECK(x.ids(R"([{"Name":"city","Value1":"a","Value2":"b' OR 1=1 --"}])").empty());
  // An integer column takes integers only.
  CAF_CHECK_EQUAL(x.error_of(R"([{"Name":"rating","Value1":"1 OR 1=1"}])"), "SY0000E");
  // Names must be the config's columns and objects; conditions one of the known words.
  std::string message;
  CAF_CHECK_EQUAL(x.error_of(R"([{"Name":"city = city OR 1","Value1":"1"}])", &message), "SY0000E");
  CAF_CHECK(message.find("Unknown filter column") != std::string::npos);
  CAF_CHECK_EQUAL(x.error_of(R"([{"Name":"city\" OR \"1\"=\"1","Value1":"1"}])"), "SY0000E");
  CAF_CHECK_EQUAL(x.error_of(R"([{"Name":"city","Value1":"1","Condition":"EQ OR 1=1"}])"), "SY0000E");
  auto bad_object = json::parse(R"([{"Customer\"; DROP TABLE \"mxdata_Customer":[{"Name":"id","Value1":"1"}]}])");
  CAF_CHECK_EQUAL(errcode_of([&] { download_all(x.f.service, {.filters = bad_object}); }), "SY0000E");
  // Nothing was changed by any of them.
  CAF_CHECK_EQUAL(x.f.service.count_rows("Customer"), 8);
  CAF_CHECK_EQUAL(x.ids(R"([{"Name":"city","Value1":"Paris"}])"), (std::set<int>{1, 4}));
}
