#pragma once
// Password digests as the sync client sends them (passwordhashalgo): lowercase hex
// of sha1/sha224/sha256/sha384/sha512/md5 (md2/md4 where OpenSSL still offers them),
// or the plain text for "none".

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxsync::transport {

/// The algorithm names the API accepts, in the order the docs list them.
const std::vector<std::string>& password_hash_algorithms();

/// Whether OpenSSL on this machine can compute `algorithm` ("none" always can).
bool password_hash_available(std::string_view algorithm);

/// Lowercase hex digest of `password`; the password itself for "none".
/// Throws std::invalid_argument for an unknown or unavailable algorithm.
std::string hash_password(std::string_view algorithm, std::string_view password);

/// Lowercase hex SHA-256 of arbitrary bytes (chunk checksums, hashsums).
std::string sha256_hex(std::string_view data);

} // namespace mxsync::transport
