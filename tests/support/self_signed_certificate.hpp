#pragma once
// A self-signed certificate for 127.0.0.1, made with OpenSSL's C API, for tests that
// run a TLS server on the loopback interface (the HTTP client tests and the
// end-to-end session tests). Link OpenSSL::Crypto where this header is used.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>

namespace mxsync::test {

/// A self-signed certificate for 127.0.0.1 (CN and subjectAltName IP) written as PEM
/// files into a fresh temporary directory, removed again by the destructor.
class self_signed_certificate {
public:
  self_signed_certificate() {
    directory_ = std::filesystem::temp_directory_path()
                 / ("mxsync-tls-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(directory_);
    make();
  }
  ~self_signed_certificate() {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
  self_signed_certificate(const self_signed_certificate&) = delete;
  self_signed_certificate& operator=(const self_signed_certificate&) = delete;

  std::string certificate_file() const { return (directory_ / "cert.pem").string(); }
  std::string key_file() const { return (directory_ / "key.pem").string(); }

private:
  struct key_free {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
  };
  struct cert_free {
    void operator()(X509* cert) const noexcept { X509_free(cert); }
  };
  struct bio_free {
    void operator()(BIO* bio) const noexcept { BIO_free_all(bio); }
  };
  struct extension_free {
    void operator()(X509_EXTENSION* extension) const noexcept { X509_EXTENSION_free(extension); }
  };

  static void require(bool ok, const char* what) {
    if (!ok)
      throw std::runtime_error(std::string{"OpenSSL: "} + what);
  }

  static void add_extension(X509* cert, int nid, const char* value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
    std::unique_ptr<X509_EXTENSION, extension_free> extension{
      X509V3_EXT_conf_nid(nullptr, &context, nid, value)};
    require(extension && X509_add_ext(cert, extension.get(), -1) == 1, "add extension");
  }

  void make() {
    std::unique_ptr<EVP_PKEY, key_free> key{EVP_EC_gen("P-256")};
    require(key != nullptr, "key generation");
    std::unique_ptr<X509, cert_free> cert{X509_new()};
    require(cert != nullptr, "X509_new");
    require(X509_set_version(cert.get(), 2) == 1, "version");
    require(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1, "serial");
    require(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) != nullptr, "notBefore");
    require(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600) != nullptr, "notAfter");
    require(X509_set_pubkey(cert.get(), key.get()) == 1, "pubkey");
    X509_NAME* name = X509_get_subject_name(cert.get());
    require(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0)
              == 1,
            "CN");
    require(X509_set_issuer_name(cert.get(), name) == 1, "issuer");
    add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), NID_subject_alt_name, "IP:127.0.0.1");
    require(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "sign");

    std::unique_ptr<BIO, bio_free> cert_out{BIO_new_file(certificate_file().c_str(), "w")};
    require(cert_out && PEM_write_bio_X509(cert_out.get(), cert.get()) == 1, "write certificate");
    std::unique_ptr<BIO, bio_free> key_out{BIO_new_file(key_file().c_str(), "w")};
    require(key_out
              && PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr)
                   == 1,
            "write key");
  }

  std::filesystem::path directory_;
};

} // namespace mxsync::test
