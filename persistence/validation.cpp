#include "persistence/validation.hpp"

#include "mxsync/error.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>

namespace mxsync::validation {

namespace {

using nlohmann::json;

json error_info(const table_def& table, const column_def* column, const json& value) {
  json info = {{"table", table.name}};
  if (column)
    info["column"] = column->name;
  if (!value.is_discarded())
    info["value"] = value;
  return info;
}

[[noreturn]] void invalid_type(const table_def& table, const column_def& column,
                               std::string_view expected, const json& value) {
  throw sync_exception(error_code::invalid_data_type,
                       "Invalid data type for the attribute " + column.name + " in " + table.name
                         + ".\nExpected:\"" + std::string{expected} + "\"\nActual:\""
                         + js_type_name(value) + "\"",
                       error_info(table, &column, value));
}

[[noreturn]] void malicious(const table_def& table, const column_def& column, const json& value,
                            const std::string& shown) {
  throw sync_exception(error_code::malicious_type,
                       "Malicious value '" + shown + "' given for attribute " + column.name + ".",
                       error_info(table, &column, value.is_number() ? json(shown) : value));
}

bool is_string_type(column_type type) {
  switch (type) {
    case column_type::string:
    case column_type::text:
    case column_type::date:
    case column_type::time:
    case column_type::timestamp:
    case column_type::binary:
      return true;
    default:
      return false;
  }
}

// JavaScript spells these when a number is not finite; they reach us as strings.
bool is_non_finite_spelling(std::string_view text) {
  return text == "NaN" || text == "Infinity" || text == "-Infinity" || text == "+Infinity"
         || text == "nan" || text == "inf" || text == "-inf";
}

std::string non_finite_spelling(double d) {
  if (std::isnan(d))
    return "NaN";
  return d < 0 ? "-Infinity" : "Infinity";
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  if (!text.empty() && text.front() == '+')
    text.remove_prefix(1);
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
    return std::nullopt;
  return out;
}

bool is_integer_spelling(std::string_view text) {
  if (!text.empty() && (text.front() == '+' || text.front() == '-'))
    text.remove_prefix(1);
  if (text.empty())
    return false;
  for (char c : text)
    if (c < '0' || c > '9')
      return false;
  return true;
}

std::optional<double> parse_decimal(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front())))
    return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size())
    return std::nullopt;
  // strtod also reads hex floats and "inf"; only plain decimals are numbers here.
  for (char c : text)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+'
          || c == 'e' || c == 'E'))
      return std::nullopt;
  return d;
}

json check_integral(const table_def& table, const column_def& column, const json& value) {
  if (value.is_number_integer() || value.is_number_unsigned()) {
    if (value.is_number_unsigned()
        && value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      if (column.type == column_type::big_integer)
        return std::to_string(value.get<std::uint64_t>()); // numeric affinity keeps it
      invalid_type(table, column, "integer", value);
    }
    return value;
  }
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (!std::isfinite(d))
      malicious(table, column, value, non_finite_spelling(d));
    if (std::floor(d) == d && std::fabs(d) < 9.2e18) // JavaScript has only numbers: 5.0 is 5
      return static_cast<std::int64_t>(d);
    invalid_type(table, column, "integer", value);
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (is_non_finite_spelling(text))
      malicious(table, column, value, text);
    if (auto parsed = parse_integer(text))
      return *parsed;
    if (column.type == column_type::big_integer && is_integer_spelling(text))
      return text; // beyond 64 bits: kept as text
    invalid_type(table, column, "integer", value);
  }
  invalid_type(table, column, "number", value);
}

json check_decimal(const table_def& table, const column_def& column, const json& value) {
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (!std::isfinite(d))
      malicious(table, column, value, non_finite_spelling(d));
    return value;
  }
  if (value.is_number())
    return value;
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (is_non_finite_spelling(text))
      malicious(table, column, value, text);
    if (auto parsed = parse_decimal(text)) {
      if (column.type == column_type::big_decimal)
        return text; // keeps the digits the app gave; numeric affinity stores a number
      return *parsed;
    }
  }
  invalid_type(table, column, "number", value);
}

const column_def& key_column(const table_def& table, const std::string& name) {
  return *table.find_column(name); // the config guarantees Pk_Columns are columns
}

} // namespace

std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) // count lead bytes, not continuation bytes
      ++count;
  return count;
}

bool is_valid_utf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::size_t i = 0;
  while (i < size) {
    const unsigned char lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = 0;
    unsigned char low = 0x80; // the allowed range of the second byte (RFC 3629 table)
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      extra = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      extra = 2;
      if (lead == 0xE0)
        low = 0xA0; // no overlong three-byte forms
      else if (lead == 0xED)
        high = 0x9F; // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      extra = 3;
      if (lead == 0xF0)
        low = 0x90; // no overlong four-byte forms
      else if (lead == 0xF4)
        high = 0x8F; // nothing above U+10FFFF
    } else {
      return false; // a continuation byte, C0/C1 or F5..FF as a lead
    }
    if (size - i <= extra)
      return false;
    if (bytes[i + 1] < low || bytes[i + 1] > high)
      return false;
    for (std::size_t k = 2; k <= extra; ++k)
      if ((bytes[i + k] & 0xC0) != 0x80)
        return false;
    i += extra + 1;
  }
  return true;
}

std::string js_type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "number";
    case json::value_t::string:
      return "string";
    default:
      return "object";
  }
}

json check_value(const table_def& table, const column_def& column, const json& value) {
  if (value.is_null())
    return value;
  if (is_string_type(column.type)) {
    if (!value.is_string())
      invalid_type(table, column, "string", value);
    const auto& text = value.get_ref<const std::string&>();
    if (!is_valid_utf8(text))
      throw sync_exception(error_code::invalid_data_type,
                           "Invalid data type for the attribute " + column.name + " in "
                             + table.name + ": the text is not valid UTF-8.",
                           {{"table", table.name}, {"column", column.name},
                            {"reason", "not valid UTF-8"}});
    if (column.length) {
      auto length = utf8_length(text);
      if (length > static_cast<std::size_t>(*column.length))
        throw sync_exception(error_code::length_validation_failed,
                             "Length exceeds the limit for the attribute " + column.name + " in "
                               + table.name + ".\nExpected:'" + std::to_string(*column.length)
                               + "'\nActual:'" + std::to_string(length) + "'",
                             error_info(table, &column, value));
    }
    return value;
  }
  if (column.type == column_type::boolean) {
    if (value.is_boolean())
      return value.get<bool>() ? 1 : 0;
    if (value.is_string() && (value == "true" || value == "false"))
      return value == "true" ? 1 : 0;
    invalid_type(table, column, "boolean", value);
  }
  if (is_integral(column.type))
    return check_integral(table, column, value);
  return check_decimal(table, column, value);
}

json validate_row(const table_def& table, const json& values, purpose why) {
  if (!values.is_object())
    throw sync_exception(error_code::invalid_data_type,
                         "Invalid data type for the values of " + table.name
                           + ".\nExpected:\"object\"\nActual:\"" + js_type_name(values) + "\"",
                         {{"table", table.name}});
  json out = json::object();
  for (const auto& [name, value] : values.items()) {
    const auto* column = table.find_column(name);
    if (!column)
      throw sync_exception(error_code::invalid_data_type,
                           "Unknown attribute " + name + " in " + table.name + ".",
                           {{"table", table.name}, {"column", name}});
    // The device generates an autogenerated key: what the app gives is dropped
    // unchecked, as the real client's filterAttributes does.
    if (column->autogenerated && column->primary_key && why == purpose::create)
      continue;
    // A non-key Autogenerated column is filled by the backend: never mandatory here.
    if (value.is_null() && !column->nullable && !column->autogenerated)
      throw sync_exception(error_code::mandatory_attribute,
                           "Mandatory attribute " + column->name
                             + " is missing for the SyncObject " + table.name + ".",
                           error_info(table, column, value));
    out[column->name] = check_value(table, *column, value);
  }
  if (why == purpose::create) {
    for (const auto& key : table.primary_key) {
      const auto& column = key_column(table, key);
      if (column.autogenerated)
        continue;
      auto it = out.find(column.name);
      if (it == out.end() || it->is_null())
        throw sync_exception(error_code::primary_key_not_specified,
                             "Primary Key " + column.name + " not specified in creating an item in "
                               + table.name + ".",
                             error_info(table, &column, json(json::value_t::discarded)));
    }
    for (const auto& column : table.columns) {
      if (column.nullable || column.autogenerated || column.primary_key)
        continue;
      auto it = out.find(column.name);
      if (it == out.end() || it->is_null())
        throw sync_exception(error_code::mandatory_attribute,
                             "Mandatory attribute " + column.name
                               + " is missing for the SyncObject " + table.name + ".",
                             error_info(table, &column, json(json::value_t::discarded)));
    }
  }
  return out;
}

json normalize_key(const table_def& table, const json& key, std::string_view operation) {
  auto missing = [&](const std::string& column) -> sync_exception {
    return sync_exception(error_code::primary_key_not_specified,
                          "Primary Key " + column + " not specified in " + std::string{operation}
                            + " an item in " + table.name + ".",
                          {{"table", table.name}, {"column", column}});
  };
  json out = json::object();
  if (!key.is_object()) {
    if (table.primary_key.size() != 1 || key.is_null() || key.is_array())
      throw missing(table.primary_key.front());
    const auto& column = key_column(table, table.primary_key.front());
    out[column.name] = check_value(table, column, key);
    return out;
  }
  for (const auto& name : table.primary_key) {
    const json* given = nullptr;
    for (const auto& [k, v] : key.items())
      if (iequals(k, name))
        given = &v;
    if (given && given->is_object()) // the generated code's {col: {key, value}} form
      given = given->contains("value") ? &(*given)["value"] : nullptr;
    if (!given || given->is_null())
      throw missing(name);
    const auto& column = key_column(table, name);
    out[column.name] = check_value(table, column, *given);
  }
  return out;
}

json to_api_value(const column_def& column, const json& stored) {
  if (column.type == column_type::boolean && stored.is_number())
    return stored.get<double>() != 0;
  if (column.type == column_type::boolean && stored.is_string())
    return stored == "true" || stored == "1";
  return stored;
}

} // namespace mxsync::validation
