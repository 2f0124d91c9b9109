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
  return "p1." + store_tag + "." + std::to_string(table_index) + "." + std::to_string(last_sequence);
}

std::optional<pk_cursor> pk_cursor::decode(std::string_view text) {
  if (is_start(text))
    return pk_cursor{};
  auto parts = split_dots(text);
  if (parts.size() != 4 || parts[0] != "p1" || !valid_tag(parts[1]))
    return std::nullopt;
  auto index = non_negative(parts[2]);
  auto last = non_negative(parts[3]);
  if (!index || !last)
    return std::nullopt;
  return pk_cursor{std::string{parts[1]}, *index, *last};
}

std::string upload_blob(const std::string& store_tag, std::int64_t sequence) {
  return "u1." + store_tag + "." + std::to_string(sequence);
}

} // namespace mxsync::server
