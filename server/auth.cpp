#include "server/auth.hpp"

#include "transport/password_hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <stdexcept>

namespace mxsync::server {

namespace {

bool is_hex_digest(std::string_view text) {
  // The lengths of md4/md5, sha1, sha224, sha256, sha384, sha512 in hex.
  static constexpr std::array<std::size_t, 6> lengths{32, 40, 56, 64, 96, 128};
  if (std::find(lengths.begin(), lengths.end(), text.size()) == lengths.end()) return false;
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string with_case(std::string_view text, int (*convert)(int)) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(convert(static_cast<unsigned char>(c)));
  return out;
}

/// The forms of one accepted secret the check must match: a hex digest in lower
/// and upper case (the client's hex case is not specified), anything else as is.
void add_case_variants(std::vector<std::string>& forms, std::string_view form) {
  if (is_hex_digest(form)) {
    forms.push_back(with_case(form, ::tolower));
    forms.push_back(with_case(form, ::toupper));
  } else {
    forms.emplace_back(form);
  }
}

} // namespace

user_directory::user_directory() {
  if (RAND_bytes(salt_.data(), static_cast<int>(salt_.size())) != 1)
    throw std::runtime_error("could not draw a random salt for the user directory");
}

user_directory::sha256_digest user_directory::salted(std::string_view form) const {
  sha256_digest out{};
  unsigned int size = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), salt_.data(), salt_.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), form.data(), form.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &size) != 1 || size != out.size())
    throw std::runtime_error("SHA-256 computation failed");
  return out;
}

void user_directory::add_forms(const std::string& userid, const std::vector<std::string>& forms) {
  if (userid.empty()) throw std::invalid_argument("a user needs a non-empty userid");
  if (forms.empty()) throw std::invalid_argument("user '" + userid + "' has no password or digest");
  auto& digests = users_[userid]; // a user given twice accepts the forms of both
  for (const auto& form : forms) digests.push_back(salted(form));
}

void user_directory::add_user(const std::string& userid, std::string_view password) {
  std::vector<std::string> forms;
  for (const auto& algorithm : transport::password_hash_algorithms()) {
    if (!transport::password_hash_available(algorithm)) continue;
    auto form = transport::hash_password(algorithm, password);
    if (algorithm == "none")
      forms.push_back(std::move(form)); // the plain text is compared exactly
    else
      add_case_variants(forms, form);
  }
  add_forms(userid, forms);
  for (auto& form : forms) OPENSSL_cleanse(form.data(), form.size());
}

void user_directory::add_user_digests(const std::string& userid,
                                      const std::vector<std::string>& accepted_forms) {
  std::vector<std::string> forms;
  for (const auto& form : accepted_forms) add_case_variants(forms, form);
  add_forms(userid, forms);
}

bool user_directory::check(std::string_view userid, std::string_view presented) const {
  auto candidate = salted(presented);
  static const std::vector<sha256_digest> no_user(1);
  auto user = users_.find(userid);
  // Unknown users run the same comparison against a dummy entry, so the answer
  // time does not tell which user ids exist.
  const auto& digests = user == users_.end() ? no_user : user->second;
  bool match = false;
  for (const auto& digest : digests)
    match |= CRYPTO_memcmp(digest.data(), candidate.data(), digest.size()) == 0;
  return match && user != users_.end();
}

void user_directory::add_token(const std::string& userid, std::string_view token) {
  if (userid.empty() || token.empty()) throw std::invalid_argument("a token needs a userid and a non-empty token");
  tokens_.emplace_back(salted(token), userid);
}

std::optional<std::string> user_directory::user_for_token(std::string_view token) const {
  auto candidate = salted(token);
  const std::string* found = nullptr;
  for (const auto& [digest, userid] : tokens_)
    if (CRYPTO_memcmp(digest.data(), candidate.data(), digest.size()) == 0 && !found) found = &userid;
  if (!found) return std::nullopt;
  return *found;
}

bool user_directory::contains(std::string_view userid) const {
  return users_.find(userid) != users_.end();
}

} // namespace mxsync::server
