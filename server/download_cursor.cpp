#include "server/download_cursor.hpp"

#include <charconv>
#include <vector>

namespace mxsync::server {

namespace {

std::vector<std::string_view> split_dots(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    auto dot = text.find('.', start);
    parts.push_back(text.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos)
      return parts;
    start = dot + 1;
  }
}

std::optional<std::int64_t> non_negative(std::string_view text) {
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || out < 0)
    return std::nullopt;
  return out;
}

bool is_start(std::string_view text) {
  return text.empty() || text == "0,0" || text == "0";
}

bool valid_tag(std::string_view tag) {
  if (tag.empty())
    return false;
  for (char c : tag)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'))
      return false;
  return true;
}

} // namespace

std::string download_cursor::encode() const {
  return "d1." + store_tag + "." + std::to_string(last_sequence) + "." + std::to_string(horizon) +
         "." + std::to_string(remaining) + "." + std::to_string(acked_message);
}

std::optional<download_cursor> download_cursor::decode(std::string_view text) {
  if (is_start(text))
    return download_cursor{};
  auto parts = split_dots(text);
  if (parts.size() != 6 || parts[0] != "d1" || !valid_tag(parts[1]))
    return std::nullopt;
  download_cursor out;
  out.store_tag = std::string{parts[1]};
  auto last = non_negative(parts[2]);
  auto horizon = non_negative(parts[3]);
  auto remaining = non_negative(parts[4]);
  auto acked = non_negative(parts[5]);
  if (!last || !horizon || !remaining || !acked)
    return std::nullopt;
  out.last_sequence = *last;
  out.horizon = *horizon;
  out.remaining = *remaining;
  out.acked_message = *acked;
  return out;
}

std::string pk_cursor::encode() const {
  static constexpr char digits[] = "0123456789abcdef";
  std::string key;
  if (!last_key.is_null())
    for (unsigned char c : last_key.dump()) {
      key.push_back(digits[c >> 4]);
      key.push_back(digits[c & 15]);
    }
  return "p1." + store_tag + "." + std::to_string(table_index) + "." + key;
}

std::optional<pk_cursor> pk_cursor::decode(std::string_view text) {
  if (is_start(text))
    return pk_cursor{};
  auto parts = split_dots(text);
  if (parts.size() != 4 || parts[0] != "p1" || !valid_tag(parts[1]))
    return std::nullopt;
  auto index = non_negative(parts[2]);
  if (!index || parts[3].size() % 2 != 0)
    return std::nullopt;
  pk_cursor out{std::string{parts[1]}, *index, nullptr};
  if (parts[3].empty())
    return out;
  std::string key;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < parts[3].size(); i += 2) {
    int high = nibble(parts[3][i]), low = nibble(parts[3][i + 1]);
    if (high < 0 || low < 0)
      return std::nullopt;
    key.push_back(static_cast<char>(high * 16 + low));
  }
  out.last_key = nlohmann::json::parse(key, nullptr, false);
  if (!out.last_key.is_array())
    return std::nullopt;
  return out;
}

std::string upload_blob(const std::string& store_tag, std::int64_t sequence) {
  return "u1." + store_tag + "." + std::to_string(sequence);
}

} // namespace mxsync::server
