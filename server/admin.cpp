#include "server/admin.hpp"

#include "server/column_values.hpp"
#include "server/row_hash.hpp"

#include <cstdio>
#include <random>

namespace mxsync::server {

using json = nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string& message) {
  throw admin_error(message);
}

const table_def& require_table(const sync_config& config, const std::string& name) {
  auto [scope, table] = config.find_table(name);
  if (!table) fail("table '" + name + "' is not in the sync configuration");
  return *table;
}

/// The row with config column names and stored values; unknown columns fail.
json stored_values(const table_def& table, const json& row, std::size_t index) {
  if (!row.is_object())
    fail(table.name + " row " + std::to_string(index) + " must be a JSON object, got " + row.type_name());
  json values = json::object();
  for (const auto& [name, value] : row.items()) {
    const auto* column = table.find_column(name);
    if (!column) fail(table.name + " row " + std::to_string(index) + ": unknown column '" + name + "'");
    try {
      values[column->name] = normalize_value(*column, value);
    } catch (const value_error& e) {
      fail(table.name + " row " + std::to_string(index) + ": " + e.what());
    }
  }
  return values;
}

json key_of(const table_def& table, const json& values, std::size_t index) {
  json key = json::object();
  for (const auto& key_column : table.primary_key) {
    auto found = values.find(key_column);
    if (found == values.end() || found->is_null())
      fail(table.name + " row " + std::to_string(index) + ": the key column '" + key_column + "' is missing");
    key[key_column] = *found;
  }
  return key;
}

std::string two_digits(std::uint64_t number) {
  char text[8];
  std::snprintf(text, sizeof text, "%02u", static_cast<unsigned>(number % 100));
  return text;
}

json demo_value(const column_def& column, const std::string& table, std::uint64_t row, std::mt19937_64& random) {
  auto number = random() % 1000;
  switch (column.type) {
  case column_type::boolean:
    return (row + number) % 2 == 0;
  case column_type::int_:
  case column_type::integer:
  case column_type::short_:
  case column_type::long_:
  case column_type::big_integer:
    return static_cast<std::int64_t>(column.primary_key ? row : number);
  case column_type::float_:
  case column_type::double_:
  case column_type::big_decimal:
    return static_cast<double>(number) / 4.0;
  case column_type::date:
    return "2024-" + two_digits(1 + row % 12) + "-" + two_digits(1 + row % 28);
  case column_type::time:
    return two_digits(row % 24) + ":" + two_digits(number % 60) + ":00";
  case column_type::timestamp:
    return "2024-" + two_digits(1 + row % 12) + "-" + two_digits(1 + row % 28) + " " + two_digits(row % 24) +
           ":" + two_digits(number % 60) + ":00";
  case column_type::binary:
    return nullptr;
  case column_type::string:
  case column_type::text:
    break;
  }
  std::string text = column.primary_key ? table + "-" + std::to_string(row) : column.name + " " + std::to_string(row);
  if (column.length && *column.length > 0 && static_cast<std::int64_t>(text.size()) > *column.length) {
    // Keep the distinguishing end of the text (the row number) when it must shrink.
    text = text.substr(text.size() - static_cast<std::size_t>(*column.length));
  }
  return text;
}

} // namespace

json normalize_data_set(const sync_config& config, const json& document, const std::string& table) {
  json data_set = json::object();
  if (!table.empty()) {
    const auto& def = require_table(config, table);
    const json* rows = &document;
    if (document.is_object()) {
      if (document.contains("rows")) rows = &document["rows"];
      else if (document.contains(def.name)) rows = &document[def.name];
    }
    if (!rows->is_array()) fail("the rows for table '" + def.name + "' must be a JSON array of objects");
    data_set[def.name] = *rows;
    return data_set;
  }
  if (!document.is_object())
    fail("a data set must be {\"<Table>\": [rows...]}; give --table for a bare array of rows");
  for (const auto& [name, rows] : document.items()) {
    const auto& def = require_table(config, name);
    if (!rows.is_array()) fail("the rows for table '" + def.name + "' must be a JSON array of objects");
    data_set[def.name] = rows;
  }
  return data_set;
}

std::size_t apply_data_set(store& data, const sync_config& config, const json& data_set, admin_write mode,
                           std::size_t batch_rows) {
  if (batch_rows == 0) batch_rows = 1;
  std::size_t written = 0;
  for (const auto& [table_name, rows] : data_set.items()) {
    const auto& table = require_table(config, table_name);
    for (std::size_t start = 0; start < rows.size(); start += batch_rows) {
      auto end = std::min(rows.size(), start + batch_rows);
      std::size_t batch_written = 0;
      data.write([&](store_writer& writer) {
        batch_written = 0;
        for (auto index = start; index < end; ++index) {
          auto values = stored_values(table, rows[index], index);
          auto key = key_of(table, values, index);
          if (mode == admin_write::remove) {
            if (writer.remove(table, key, change_origin{})) ++batch_written;
            continue;
          }
          json complete = json::object();
          if (mode == admin_write::upsert) {
            if (auto existing = writer.find(table, key); existing && !existing->deleted)
              complete = existing->values;
          }
          for (const auto& column : table.columns)
            if (!complete.contains(column.name)) complete[column.name] = nullptr;
          for (auto& [name, value] : values.items()) complete[name] = value;
          writer.put(table, complete, row_hashsum(table, complete), change_origin{});
          ++batch_written;
        }
      });
      written += batch_written;
    }
  }
  return written;
}

json generate_data_set(const sync_config& config, std::size_t rows_per_table, const std::string& table,
                       std::uint64_t seed) {
  json data_set = json::object();
  std::mt19937_64 random(seed);
  for (const auto& scope : config.scopes) {
    for (const auto& def : scope.tables) {
      if (!table.empty() && !iequals(def.name, table)) continue;
      json rows = json::array();
      for (std::size_t row = 1; row <= rows_per_table; ++row) {
        json values = json::object();
        for (const auto& column : def.columns) values[column.name] = demo_value(column, def.name, row, random);
        rows.push_back(std::move(values));
      }
      data_set[def.name] = std::move(rows);
    }
  }
  if (!table.empty() && data_set.empty()) fail("table '" + table + "' is not in the sync configuration");
  return data_set;
}

} // namespace mxsync::server
