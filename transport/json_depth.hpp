#pragma once
// A bound on the nesting depth of JSON text, checked before it is parsed. nlohmann/json
// parses deep input fine but copies and destroys values recursively: a body of 500,000
// nested arrays crashed the server (stack overflow) in the upload path. Sync messages
// nest a handful of levels (UploadRequest: d / results / row / metadata), so a generous
// bound costs no real request anything.

#include <cstddef>
#include <string_view>

namespace mxsync::transport {

/// Deepest nesting of arrays and objects accepted in a request or an answer. The real
/// protocol's deepest documents (filterContext, UploadRequest rows) nest under 10 levels;
/// 64 leaves room for app data in JSON columns and keeps recursion far from the stack's end.
inline constexpr std::size_t max_json_depth = 64;

/// The deepest nesting of `[`/`{` in `text` (strings and their escapes skipped), or as
/// soon as it passes `limit`, limit + 1. No allocation; one pass.
std::size_t json_depth(std::string_view text, std::size_t limit = max_json_depth);

/// Whether `text` nests deeper than `limit`.
inline bool too_deep(std::string_view text, std::size_t limit = max_json_depth) {
  return json_depth(text, limit) > limit;
}

} // namespace mxsync::transport
