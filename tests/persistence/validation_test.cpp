#define CAF_SUITE validation
#include <caf/test/unit_test.hpp>

#include "orm_test_fixture.hpp"

#include "persistence/validation.hpp"

#include <limits>

using namespace orm_test;
namespace orm = mxsync::orm;
namespace validation = mxsync::validation;

namespace {

struct validation_fixture : fixture {
  const mxsync::table_def& sample = *config.find_table("Sample").second;

  json check(const char* column, const json& value) {
    return validation::check_value(sample, *sample.find_column(column), value);
  }
  int code(const char* column, const json& value) {
    return error_of([&] { check(column, value); });
  }
};

} // namespace

CAF_TEST(utf8 length counts characters) {
  CAF_CHECK_EQUAL(validation::utf8_length(""), 0u);
  CAF_CHECK_EQUAL(validation::utf8_length("abc"), 3u);
  CAF_CHECK_EQUAL(validation::utf8_length("héllo"), 5u);
  CAF_CHECK_EQUAL(validation::utf8_length("日本語"), 3u);
  CAF_CHECK_EQUAL(validation::utf8_length("😀x"), 2u);
}

CAF_TEST(utf8 validity follows rfc 3629) {
  for (const char* good : {"", "abc", "h\xc3\xa9llo", "\xe6\x97\xa5", "\xf0\x9f\x98\x80",
                           "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf"})
    CAF_CHECK(validation::is_valid_utf8(good));
  for (const char* bad : {"\xff", "\x80", "a\xc3", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf",
                          "\xed\xa0\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80",
                          "\xf5\x80\x80\x80", "\xe6\x97", "\xe6\x41\x41"})
    CAF_CHECK(!validation::is_valid_utf8(bad));
}

CAF_TEST_FIXTURE_SCOPE(validation_tests, validation_fixture)

CAF_TEST(string like columns want strings) {
  for (const char* column : {"name", "notes", "dt", "tm", "ts", "bin"}) {
    CAF_CHECK_EQUAL(code(column, "ab"), 0);
    CAF_CHECK_EQUAL(code(column, 12), 7001);
    CAF_CHECK_EQUAL(code(column, true), 7001);
    CAF_CHECK_EQUAL(code(column, json::object()), 7001);
    CAF_CHECK_EQUAL(code(column, nullptr), 0);
  }
  auto error = error_details([&] { check("name", 12); });
  CAF_CHECK_EQUAL(error.message,
                  "Invalid data type for the attribute name in Sample.\nExpected:\"string\"\nActual:\"number\"");
  CAF_CHECK_EQUAL(error.info["table"], "Sample");
  CAF_CHECK_EQUAL(error.info["column"], "name");
  CAF_CHECK_EQUAL(error.info["value"], 12);
}

// Text that is not UTF-8 can never be uploaded (the wire is JSON): 7001 when the app
// hands it over, not an uploader that dies on it later (issue 11).
CAF_TEST(text that is not utf8 is 7001) {
  for (const char* column : {"name", "notes", "dt", "bin"}) {
    CAF_CHECK_EQUAL(code(column, std::string{"ab\xff"}), 7001);
    CAF_CHECK_EQUAL(code(column, std::string{"\xc3\xa9t\xc3\xa9"}), 0);
  }
  auto error = error_details([&] { check("name", std::string{"\xc3("}); });
  CAF_CHECK_EQUAL(error.code, 7001);
  CAF_CHECK_EQUAL(error.info["reason"], "not valid UTF-8");
  CAF_CHECK_EQUAL(error.info["column"], "name");
}

CAF_TEST(integral columns want whole numbers or numeric strings) {
  for (const char* column : {"i", "n", "s", "l", "bi"}) {
    CAF_CHECK_EQUAL(check(column, 42), 42);
    CAF_CHECK_EQUAL(check(column, "-7"), -7);
    CAF_CHECK_EQUAL(check(column, "+8"), 8);
    CAF_CHECK_EQUAL(check(column, 3.0), 3);
    CAF_CHECK_EQUAL(code(column, 1.5), 7001);
    CAF_CHECK_EQUAL(code(column, "1.5"), 7001);
    CAF_CHECK_EQUAL(code(column, "abc"), 7001);
    CAF_CHECK_EQUAL(code(column, ""), 7001);
    CAF_CHECK_EQUAL(code(column, " 1"), 7001);
    CAF_CHECK_EQUAL(code(column, true), 7001);
    CAF_CHECK_EQUAL(code(column, json::array()), 7001);
  }
  auto error = error_details([&] { check("i", true); });
  CAF_CHECK_EQUAL(error.message,
                  "Invalid data type for the attribute i in Sample.\nExpected:\"number\"\nActual:\"boolean\"");
  auto fraction = error_details([&] { check("i", 2.5); });
  CAF_CHECK_EQUAL(fraction.message,
                  "Invalid data type for the attribute i in Sample.\nExpected:\"integer\"\nActual:\"number\"");
  // Beyond 64 bits only big_integer accepts the digits (kept as text).
  CAF_CHECK_EQUAL(check("bi", "123456789012345678901234567890"), "123456789012345678901234567890");
  CAF_CHECK_EQUAL(code("l", "123456789012345678901234567890"), 7001);
  CAF_CHECK_EQUAL(check("bi", std::numeric_limits<std::uint64_t>::max()),
                  std::to_string(std::numeric_limits<std::uint64_t>::max()));
  CAF_CHECK_EQUAL(code("l", std::numeric_limits<std::uint64_t>::max()), 7001);
}

CAF_TEST(decimal columns want numbers or numeric strings) {
  for (const char* column : {"f", "d", "bd"}) {
    CAF_CHECK_EQUAL(check(column, 1.25), 1.25);
    CAF_CHECK_EQUAL(check(column, 3), 3);
    CAF_CHECK_EQUAL(code(column, "1e3"), 0);
    CAF_CHECK_EQUAL(code(column, "abc"), 7001);
    CAF_CHECK_EQUAL(code(column, "0x10"), 7001);
    CAF_CHECK_EQUAL(code(column, false), 7001);
  }
  CAF_CHECK_EQUAL(check("d", "2.5"), 2.5);
  CAF_CHECK_EQUAL(check("bd", "2.50"), "2.50"); // exact digits kept for big_decimal
}

CAF_TEST(boolean columns want booleans and store 1 or 0) {
  CAF_CHECK_EQUAL(check("flag", true), 1);
  CAF_CHECK_EQUAL(check("flag", false), 0);
  CAF_CHECK_EQUAL(check("flag", "true"), 1);
  CAF_CHECK_EQUAL(code("flag", 1), 7001);
  CAF_CHECK_EQUAL(code("flag", "yes"), 7001);
  auto error = error_details([&] { check("flag", "yes"); });
  CAF_CHECK_EQUAL(error.message,
                  "Invalid data type for the attribute flag in Sample.\nExpected:\"boolean\"\nActual:\"string\"");
  const auto& flag = *sample.find_column("flag");
  CAF_CHECK_EQUAL(validation::to_api_value(flag, 1), true);
  CAF_CHECK_EQUAL(validation::to_api_value(flag, 0), false);
  CAF_CHECK(validation::to_api_value(flag, nullptr).is_null());
}

CAF_TEST(nan and infinity are 7018) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (const char* column : {"i", "f", "d", "bd", "bi"}) {
    CAF_CHECK_EQUAL(code(column, nan), 7018);
    CAF_CHECK_EQUAL(code(column, inf), 7018);
    CAF_CHECK_EQUAL(code(column, -inf), 7018);
    CAF_CHECK_EQUAL(code(column, "NaN"), 7018);
    CAF_CHECK_EQUAL(code(column, "Infinity"), 7018);
    CAF_CHECK_EQUAL(code(column, "-Infinity"), 7018);
  }
  auto error = error_details([&] { check("d", nan); });
  CAF_CHECK_EQUAL(error.message, "Malicious value 'NaN' given for attribute d.");
  auto infinite = error_details([&] { check("f", "-Infinity"); });
  CAF_CHECK_EQUAL(infinite.message, "Malicious value '-Infinity' given for attribute f.");
  auto before = snapshot();
  CAF_CHECK_EQUAL(error_of([&] { orm::create(db, config, "Sample", {{"name", "a"}, {"d", nan}}); }),
                  7018);
  CAF_CHECK_EQUAL(snapshot(), before);
}

CAF_TEST(length limits count utf8 characters and are 7015) {
  CAF_CHECK_EQUAL(code("name", "abcde"), 0);
  CAF_CHECK_EQUAL(code("name", "héllö"), 0); // 5 characters, 7 bytes
  CAF_CHECK_EQUAL(code("name", "abcdef"), 7015);
  auto error = error_details([&] { check("name", "日本語日本語"); });
  CAF_CHECK_EQUAL(error.code, 7015);
  CAF_CHECK_EQUAL(error.message,
                  "Length exceeds the limit for the attribute name in Sample.\nExpected:'5'\nActual:'6'");
  CAF_CHECK_EQUAL(code("notes", std::string(10000, 'x')), 0); // no Length, no limit
  orm::create(db, config, "Sample", {{"name", "abc"}});
  auto before = snapshot();
  CAF_CHECK_EQUAL(
    error_of([&] { orm::update_by_pk(db, config, "Sample", -1, {{"name", "abcdef"}}); }), 7015);
  CAF_CHECK_EQUAL(snapshot(), before);
}

CAF_TEST(validate_row maps names to the config spelling and checks mandatory values) {
  auto row = validation::validate_row(sample, {{"NAME", "x"}, {"FLAG", true}},
                                      validation::purpose::create);
  CAF_CHECK_EQUAL(row, json({{"name", "x"}, {"flag", 1}}));
  CAF_CHECK_EQUAL(error_of([&] {
                    validation::validate_row(sample, {{"i", 1}}, validation::purpose::create);
                  }),
                  7002);
  // Updates need not repeat mandatory attributes, but cannot null them.
  CAF_CHECK_EQUAL(error_of([&] {
                    validation::validate_row(sample, {{"i", 1}}, validation::purpose::update);
                  }),
                  0);
  CAF_CHECK_EQUAL(error_of([&] {
                    validation::validate_row(sample, {{"name", nullptr}}, validation::purpose::update);
                  }),
                  7002);
  CAF_CHECK_EQUAL(
    error_of([&] { validation::validate_row(sample, json(3), validation::purpose::update); }), 7001);
}

CAF_TEST(normalize_key accepts scalars and objects and reports missing parts) {
  const auto& line = *config.find_table("Line").second;
  CAF_CHECK_EQUAL(validation::normalize_key(sample, 5, "getting"), json({{"id", 5}}));
  CAF_CHECK_EQUAL(validation::normalize_key(sample, "5", "getting"), json({{"id", 5}}));
  CAF_CHECK_EQUAL(validation::normalize_key(sample, {{"ID", {{"key", "id"}, {"value", 9}}}}, "getting"),
                  json({{"id", 9}}));
  CAF_CHECK_EQUAL(validation::normalize_key(line, {{"lineNo", 2}, {"orderNo", "o"}}, "getting"),
                  json({{"orderNo", "o"}, {"lineNo", 2}}));
  auto missing = error_details([&] { validation::normalize_key(line, {{"orderNo", "o"}}, "updating"); });
  CAF_CHECK_EQUAL(missing.code, 7003);
  CAF_CHECK_EQUAL(missing.message, "Primary Key lineNo not specified in updating an item in Line.");
  CAF_CHECK_EQUAL(error_of([&] { validation::normalize_key(line, "o", "getting"); }), 7003);
  CAF_CHECK_EQUAL(error_of([&] { validation::normalize_key(sample, nullptr, "getting"); }), 7003);
  CAF_CHECK_EQUAL(error_of([&] { validation::normalize_key(sample, json::array({1}), "getting"); }),
                  7003);
  CAF_CHECK_EQUAL(error_of([&] { validation::normalize_key(sample, {{"id", nullptr}}, "getting"); }),
                  7003);
  CAF_CHECK_EQUAL(error_of([&] { validation::normalize_key(sample, "x", "getting"); }), 7001);
}

CAF_TEST_FIXTURE_SCOPE_END()
