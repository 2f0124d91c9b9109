#include "transport/password_hash.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace mxsync::transport {

namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

struct md_free {
  void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};
struct ctx_free {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

std::unique_ptr<EVP_MD, md_free> fetch(std::string_view algorithm) {
  auto name = lower(algorithm);
  // OpenSSL names: SHA1, SHA224, ..., MD5, MD4, MD2.
  return std::unique_ptr<EVP_MD, md_free>(EVP_MD_fetch(nullptr, name.c_str(), nullptr));
}

std::string digest_hex(const EVP_MD* md, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, ctx_free> ctx{EVP_MD_CTX_new()};
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1
      || EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1
      || EVP_DigestFinal_ex(ctx.get(), out, &size) != 1)
    throw std::runtime_error("digest computation failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string result;
  result.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    result.push_back(hex[out[i] >> 4]);
    result.push_back(hex[out[i] & 0x0f]);
  }
  return result;
}

} // namespace

const std::vector<std::string>& password_hash_algorithms() {
  static const std::vector<std::string> names{"sha1", "sha224", "sha256", "sha384",
                                              "sha512", "md2",    "md4",    "md5", "none"};
  return names;
}

bool password_hash_available(std::string_view algorithm) {
  auto name = lower(algorithm);
  const auto& known = password_hash_algorithms();
  if (std::find(known.begin(), known.end(), name) == known.end())
    return false;
  return name == "none" || fetch(name) != nullptr;
}

std::string hash_password(std::string_view algorithm, std::string_view password) {
  auto name = lower(algorithm);
  const auto& known = password_hash_algorithms();
  if (std::find(known.begin(), known.end(), name) == known.end())
    throw std::invalid_argument("unknown passwordhashalgo '" + std::string{algorithm}
                                + "' (use sha1, sha224, sha256, sha384, sha512, md2, md4, md5 or none)");
  if (name == "none")
    return std::string{password};
  auto md = fetch(name);
  if (!md)
    throw std::invalid_argument("passwordhashalgo '" + name
                                + "' is not offered by this system's OpenSSL");
  return digest_hex(md.get(), password);
}

std::string sha256_hex(std::string_view data) {
  auto md = fetch("sha256");
  return digest_hex(md.get(), data);
}

} // namespace mxsync::transport
