#pragma once
// The server's user directory. The client sends its password as a digest chosen by
// passwordhashalgo (sha1/sha224/sha256/sha384/sha512/md4/md5, or the plain text for
// "none"; docs/protocol.md 1.2), so the server must accept any of those forms. Nothing is
// kept in plain text: at start-up each accepted form is computed once and only a
// salted SHA-256 of it is kept; a check hashes what the client sent with the same
// salt and compares in constant time.

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxsync::server {

/// The errcode and message for a failed login (DOC-ORM server codes).
inline constexpr const char* invalid_credentials_errcode = "1001";
inline constexpr const char* invalid_credentials_message = "Invalid userID or password";

class user_directory {
public:
  user_directory();

  /// Accepts every digest the client can send of `password` (each algorithm this
  /// system's OpenSSL offers, plus "none").
  void add_user(const std::string& userid, std::string_view password);

  /// Accepts exactly these pre-computed forms: digest hex strings (any case) or,
  /// for "none", the password itself. Used when the settings keep no password.
  void add_user_digests(const std::string& userid, const std::vector<std::string>& accepted_forms);

  /// Whether `presented` (the request's password parameter) is an accepted form
  /// for `userid`. Unknown users take the same time as known ones.
  bool check(std::string_view userid, std::string_view presented) const;

  /// Accepts a Foundry claims token (the X-Kony-Authorization header) as a login
  /// of `userid`; kept salted and hashed like the passwords.
  void add_token(const std::string& userid, std::string_view token);

  /// The user a token logs in, if it is a known token (constant-time search).
  std::optional<std::string> user_for_token(std::string_view token) const;

  bool contains(std::string_view userid) const;
  std::size_t size() const noexcept { return users_.size(); }
  bool empty() const noexcept { return users_.empty(); }

private:
  using sha256_digest = std::array<unsigned char, 32>;
  sha256_digest salted(std::string_view form) const;
  void add_forms(const std::string& userid, const std::vector<std::string>& forms);

  std::array<unsigned char, 16> salt_{}; ///< random per process
  std::map<std::string, std::vector<sha256_digest>, std::less<>> users_;
  std::vector<std::pair<sha256_digest, std::string>> tokens_; ///< (salted hash, userid)
};

} // namespace mxsync::server
