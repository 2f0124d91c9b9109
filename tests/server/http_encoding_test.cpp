#define CAF_SUITE server_http_encoding
#include <caf/test/unit_test.hpp>

#include "server/response_encoding.hpp"
#include "http_test_support.hpp"

#include <zlib.h>

#include <array>

using namespace mxsync;
using namespace mxsync::server;
using json = nlohmann::json;

namespace {

/// Inflates a gzip body; throws when it is not one.
std::string gunzip(const std::string& data) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK)
    throw std::runtime_error("inflateInit2 failed");
  std::string out;
  std::array<char, 16384> buffer{};
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer.data());
    stream.avail_out = static_cast<uInt>(buffer.size());
    rc = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer.data(), buffer.size() - stream.avail_out);
  }
  inflateEnd(&stream);
  if (rc != Z_STREAM_END)
    throw std::runtime_error("not a complete gzip stream");
  return out;
}

json download_params() {
  auto params = test::common_params();
  params.update(json{{"scopename", "FSPersistentScope"},
          {"strategy", "PERSISTENT_SYNC"},
          {"instanceid", "i-1"},
          {"clientid", "c-1"},
          {"tickcount", ""},
          {"batchsize", "500"},
          {"enablebatching", "true"},
          {"clientcontext", "{}"}});
  return params;
}

/// A download POST with the given Accept-Encoding, the body left as it came.
httplib::Result raw_download(int port, const std::string& accept_encoding) {
  httplib::Client client("127.0.0.1", port);
  client.set_decompress(false);
  httplib::Headers headers;
  if (!accept_encoding.empty())
    headers.emplace("Accept-Encoding", accept_encoding);
  return client.Post("/syncservice/resources/download", headers, download_params().dump(), "application/json");
}

} // namespace

CAF_TEST(accept encoding decides whether gzip may be used) {
  CAF_CHECK(accepts_gzip("gzip"));
  CAF_CHECK(accepts_gzip("deflate, gzip, br, zstd"));
  CAF_CHECK(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
  CAF_CHECK(accepts_gzip("x-gzip"));
  CAF_CHECK(accepts_gzip("*"));
  CAF_CHECK(!accepts_gzip(""));
  CAF_CHECK(!accepts_gzip("br"));
  CAF_CHECK(!accepts_gzip("identity"));
  CAF_CHECK(!accepts_gzip("gzip;q=0"));
  CAF_CHECK(!accepts_gzip("gzip;q=0, *"));   // gzip named and refused: * does not bring it back
  CAF_CHECK(!accepts_gzip("*;q=0"));
  CAF_CHECK(!accepts_gzip("gzip;q=zero"));   // unreadable q: not an acceptance
  CAF_CHECK(!accepts_gzip("gzipped"));
}

CAF_TEST(answers are gzipped only when accepted and large enough and enabled) {
  std::string body(20000, 'x');
  compression_settings settings; // level 1 from 8192 bytes
  auto small = encode_answer("{\"d\":{}}", "gzip", settings);
  CAF_CHECK(!small.gzipped);
  CAF_CHECK_EQUAL(small.body, "{\"d\":{}}");
  auto refused = encode_answer(body, "br", settings);
  CAF_CHECK(!refused.gzipped);
  CAF_CHECK_EQUAL(refused.body, body);
  auto packed = encode_answer(body, "gzip, br", settings);
  CAF_REQUIRE(packed.gzipped);
  CAF_CHECK_LESS(packed.body.size(), body.size() / 10);
  CAF_CHECK_EQUAL(gunzip(packed.body), body);
  settings.gzip_level = 0;
  auto off = encode_answer(body, "gzip", settings);
  CAF_CHECK(!off.gzipped);
  for (int level = 1; level <= 9; ++level)
    CAF_CHECK_EQUAL(gunzip(gzip(body, level)), body);
}

CAF_TEST(the server gzips answers for clients that accept gzip and never uses brotli) {
  server::http_server_options options;
  options.compression.min_bytes = 0; // every answer, so an empty store's answer counts
  test::sync_server server(test::workorder_config(), {}, options);
  // libcurl's default offers br before gzip: the answer is gzip.
  auto both = raw_download(server.port(), "deflate, gzip, br, zstd");
  CAF_REQUIRE(both);
  CAF_CHECK_EQUAL(both->status, 200);
  auto encoding = both->get_header_value("Content-Encoding");
  CAF_CHECK_EQUAL(encoding, "gzip");
  auto type = both->get_header_value("Content-Type");
  CAF_CHECK_EQUAL(type, json_content_type);
  auto answer = json::parse(gunzip(both->body), nullptr, false);
  CAF_REQUIRE(answer.is_object());
  CAF_CHECK_EQUAL(answer["d"]["error"], "false");
  CAF_CHECK(answer["d"]["__sync"].contains("serverblob"));
  // Brotli only: the answer goes out as it is.
  auto brotli_only = raw_download(server.port(), "br");
  CAF_REQUIRE(brotli_only);
  CAF_CHECK(!brotli_only->has_header("Content-Encoding"));
  auto plain = json::parse(brotli_only->body, nullptr, false);
  CAF_CHECK(plain.is_object());
  // No Accept-Encoding at all: plain.
  auto none = raw_download(server.port(), "");
  CAF_REQUIRE(none);
  CAF_CHECK(!none->has_header("Content-Encoding"));
}

CAF_TEST(gzip level 0 turns compression off) {
  server::http_server_options options;
  options.compression.min_bytes = 0;
  options.compression.gzip_level = 0;
  test::sync_server server(test::workorder_config(), {}, options);
  auto answer = raw_download(server.port(), "gzip, br");
  CAF_REQUIRE(answer);
  CAF_CHECK(!answer->has_header("Content-Encoding"));
  CAF_CHECK(json::parse(answer->body, nullptr, false).is_object());
}
