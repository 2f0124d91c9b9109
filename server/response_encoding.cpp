#include "server/response_encoding.hpp"

#include <zlib.h>

#include <cctype>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace mxsync::server {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

/// The q-value of one Accept-Encoding element's parameters ("q=0.5"); 1 when absent,
/// 0 when malformed (a token we cannot read is not an acceptance).
double quality_of(std::string_view parameters) {
  while (!parameters.empty()) {
    auto semicolon = parameters.find(';');
    auto parameter = trim(parameters.substr(0, semicolon));
    parameters = semicolon == std::string_view::npos ? std::string_view{} : parameters.substr(semicolon + 1);
    if (parameter.size() >= 2 && (parameter[0] == 'q' || parameter[0] == 'Q') && parameter[1] == '=') {
      std::string value{trim(parameter.substr(2))};
      char* end = nullptr;
      double q = std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size())
        return 0;
      return q;
    }
  }
  return 1;
}

/// Frees a zlib stream however the function leaves.
struct deflate_stream {
  z_stream stream{};
  bool ready = false;
  ~deflate_stream() {
    if (ready)
      deflateEnd(&stream);
  }
};

} // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  bool gzip_named = false, gzip_ok = false, any_ok = false;
  while (!accept_encoding.empty()) {
    auto comma = accept_encoding.find(',');
    auto element = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? std::string_view{} : accept_encoding.substr(comma + 1);
    auto semicolon = element.find(';');
    auto token = trim(element.substr(0, semicolon));
    auto q = semicolon == std::string_view::npos ? 1.0 : quality_of(element.substr(semicolon + 1));
    if (equals_ignoring_case(token, "gzip") || equals_ignoring_case(token, "x-gzip")) {
      gzip_named = true;
      gzip_ok = gzip_ok || q > 0;
    } else if (token == "*") {
      any_ok = q > 0;
    }
  }
  return gzip_named ? gzip_ok : any_ok;
}

std::string gzip(std::string_view data, int level) {
  deflate_stream z;
  // windowBits 15 + 16: a gzip wrapper instead of zlib's.
  if (deflateInit2(&z.stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("gzip: deflateInit2 failed");
  z.ready = true;
  std::string out;
  out.resize(deflateBound(&z.stream, static_cast<uLong>(data.size())));
  z.stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.stream.avail_in = static_cast<uInt>(data.size());
  z.stream.next_out = reinterpret_cast<Bytef*>(out.data());
  z.stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z.stream, Z_FINISH) != Z_STREAM_END)
    throw std::runtime_error("gzip: deflate did not finish");
  out.resize(z.stream.total_out);
  return out;
}

encoded_answer encode_answer(std::string body, std::string_view accept_encoding,
                             const compression_settings& settings) {
  if (settings.gzip_level <= 0 || body.size() < settings.min_bytes || !accepts_gzip(accept_encoding))
    return {std::move(body), false};
  return {gzip(body, settings.gzip_level), true};
}

} // namespace mxsync::server
