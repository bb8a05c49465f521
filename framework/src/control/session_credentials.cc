#include "control/session_credentials.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace lumen::internal {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(FILE* p) const { std::fclose(p); }
};
template <class T>
using Owned = std::unique_ptr<T, Free>;

std::string OpenSslError(const char* what) {
  char buf[256] = "unknown error";
  if (unsigned long e = ERR_get_error()) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return std::string(what) + ": " + buf;
}

bool AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

// A self-signed certificate for `key`: it is its own (and the only) CA.
Owned<X509> SelfSigned(EVP_PKEY* key, std::string* error) {
  Owned<X509> cert(X509_new());
  Owned<BIGNUM> serial(BN_new());
  if (!cert || !serial || BN_rand(serial.get(), 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) ||
      X509_set_version(cert.get(), 2) != 1 ||
      !X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600) ||
      X509_set_pubkey(cert.get(), key) != 1) {
    *error = OpenSslError("cannot make the session certificate");
    return nullptr;
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("lumen session"),
                                 -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 ||
      !AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign") ||
      !AddExtension(cert.get(), NID_subject_key_identifier, "hash") ||
      X509_sign(cert.get(), key, EVP_sha256()) == 0) {
    *error = OpenSslError("cannot sign the session certificate");
    return nullptr;
  }
  return cert;
}

// Creates `path` (it must not exist) readable by this user only.
Owned<FILE> CreatePrivate(const std::string& path, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot create " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  Owned<FILE> f(::fdopen(fd, "w"));
  if (!f) {
    ::close(fd);
    *error = "cannot open " + path + ": " + std::strerror(errno);
  }
  return f;
}

}  // namespace

bool MakeSessionCredentials(const std::string& dir, SessionCredentials* out, std::string* error) {
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) {
    *error = OpenSslError("cannot make the session key");
    return false;
  }
  Owned<X509> cert = SelfSigned(key.get(), error);
  if (!cert) return false;
  SessionCredentials made{dir + "/supervision-cert.pem", dir + "/supervision-key.pem"};
  Owned<FILE> key_file = CreatePrivate(made.key_path, error);
  if (!key_file) return false;
  if (PEM_write_PrivateKey(key_file.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      std::fclose(key_file.release()) != 0) {
    *error = OpenSslError(("cannot write " + made.key_path).c_str());
    return false;
  }
  Owned<FILE> cert_file = CreatePrivate(made.certificate_path, error);
  if (!cert_file) return false;
  if (PEM_write_X509(cert_file.get(), cert.get()) != 1 || std::fclose(cert_file.release()) != 0) {
    *error = OpenSslError(("cannot write " + made.certificate_path).c_str());
    return false;
  }
  *out = std::move(made);
  return true;
}

}  // namespace lumen::internal
