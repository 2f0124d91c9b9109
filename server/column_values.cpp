#include "server/column_values.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

namespace mxsync::server {

namespace {

using json = nlohmann::json;

[[noreturn]] void reject(const column_def& column, const json& value, const char* expected) {
  throw value_error("Invalid value " + value.dump() + " for column '" + column.name + "' (" +
                    std::string{to_string(column.type)} + "): expected " + expected);
}

std::string_view trimmed(std::string_view text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return {};
  auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  text = trimmed(text);
  if (!text.empty() && text.front() == '+')
    text.remove_prefix(1);
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
    return std::nullopt;
  return out;
}

std::optional<double> parse_double(std::string_view text) {
  text = trimmed(text);
  if (!text.empty() && text.front() == '+')
    text.remove_prefix(1);
  double out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty() || !std::isfinite(out))
    return std::nullopt;
  return out;
}

bool is_floating(column_type type) {
  return type == column_type::float_ || type == column_type::double_ ||
         type == column_type::big_decimal;
}

} // namespace

bool is_null_marker(const json& value) {
  if (value.is_null())
    return true;
  if (!value.is_string())
    return false;
  const auto& text = value.get_ref<const std::string&>();
  return text == "null" || text == "NULL";
}

json normalize_value(const column_def& column, const json& value) {
  if (is_null_marker(value))
    return nullptr;
  if (value.is_object() || value.is_array())
    reject(column, value, "a scalar");
  if (column.type == column_type::boolean) {
    if (value.is_boolean())
      return value;
    if (value.is_number_integer() || value.is_number_unsigned()) {
      auto n = value.get<std::int64_t>();
      if (n == 0 || n == 1)
        return n == 1;
    }
    if (value.is_string()) {
      auto text = trimmed(value.get_ref<const std::string&>());
      if (iequals(text, "true") || text == "1")
        return true;
      if (iequals(text, "false") || text == "0")
        return false;
    }
    reject(column, value, "true or false");
  }
  if (is_integral(column.type)) {
    if (value.is_number_integer())
      return value.get<std::int64_t>();
    if (value.is_number_unsigned()) {
      auto n = value.get<std::uint64_t>();
      if (n > static_cast<std::uint64_t>(INT64_MAX))
        reject(column, value, "a 64-bit integer");
      return static_cast<std::int64_t>(n);
    }
    if (value.is_number_float()) {
      double d = value.get<double>();
      if (std::trunc(d) == d && std::fabs(d) < 9.2e18)
        return static_cast<std::int64_t>(d);
      reject(column, value, "an integer");
    }
    if (value.is_string()) {
      if (auto n = parse_integer(value.get_ref<const std::string&>()))
        return *n;
      if (auto d = parse_double(value.get_ref<const std::string&>());
          d && std::trunc(*d) == *d && std::fabs(*d) < 9.2e18)
        return static_cast<std::int64_t>(*d);
    }
    reject(column, value, "an integer");
  }
  if (is_floating(column.type)) {
    if (value.is_number())
      return value.get<double>();
    if (value.is_string())
      if (auto d = parse_double(value.get_ref<const std::string&>()))
        return *d;
    reject(column, value, "a number");
  }
  // string, text, date, time, timestamp, binary (base64): kept as text.
  if (value.is_string())
    return value;
  if (value.is_boolean())
    return value.get<bool>() ? "true" : "false";
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (std::trunc(d) == d && std::fabs(d) < 1e15)
      return std::to_string(static_cast<std::int64_t>(d));
  }
  return value.dump();
}

json present_value(const column_def& column, const json& stored) {
  if (column.type == column_type::boolean && stored.is_number_integer())
    return stored.get<std::int64_t>() != 0;
  if (is_floating(column.type) && stored.is_number_integer())
    return static_cast<double>(stored.get<std::int64_t>());
  return stored;
}

std::string value_text(const json& value) {
  if (value.is_string())
    return value.get<std::string>();
  return value.dump();
}

bool is_temporary_key(const json& value) {
  if (value.is_number_integer())
    return value.get<std::int64_t>() < 0;
  if (value.is_number_float())
    return value.get<double>() < 0;
  if (value.is_string()) {
    auto n = parse_integer(value.get_ref<const std::string&>());
    return n && *n < 0;
  }
  return false;
}

} // namespace mxsync::server
