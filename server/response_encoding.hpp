#pragma once
// How mxsync-server encodes its answers: gzip at a fast level when the client accepts
// gzip and the body is large enough to gain from it, identity otherwise.
//
// Why the server does this itself: Debian's cpp-httplib compresses every
// "application/json" answer with brotli at its slowest quality (11) whenever the client
// accepts br, as libcurl does by default. In bench/initial_sync that took 84% of the
// server's CPU and made a 30,000-row first sync 14 times slower. Answers encoded here
// carry the content type "application/json; charset=utf-8", which httplib leaves
// alone.

#include <cstddef>
#include <string>
#include <string_view>

namespace mxsync::server {

/// The content type of every sync answer (see above why it names the charset).
inline constexpr const char* json_content_type = "application/json; charset=utf-8";

struct compression_settings {
  int gzip_level = 1;           ///< 1 (fastest) .. 9 (smallest); 0 = never compress
  std::size_t min_bytes = 8192; ///< smaller answers go out as they are

  bool operator==(const compression_settings&) const = default;
};

/// True when an Accept-Encoding header value allows gzip: a "gzip", "x-gzip" or "*"
/// token with a q-value above 0 ("gzip;q=0" refuses it).
bool accepts_gzip(std::string_view accept_encoding);

/// gzip (RFC 1952) of `data` at `level`; throws std::runtime_error if zlib fails.
std::string gzip(std::string_view data, int level);

struct encoded_answer {
  std::string body;
  bool gzipped = false; ///< send "Content-Encoding: gzip"
};

/// Encodes `body` for a client that sent `accept_encoding`.
encoded_answer encode_answer(std::string body, std::string_view accept_encoding,
                             const compression_settings& settings);

} // namespace mxsync::server
