// The credentials of one session's supervision channel: a private key and a
// self-signed certificate made at start, which every process of the session
// presents and trusts (mutual TLS, supervision.h). Whoever can read the two
// files passes for a process of the session, so they are written 0600 into
// the session directory and go to workers by path, in their environment.
//
// OpenSSL only: no CAF here.
#pragma once

#include <string>

namespace lumen::internal {

struct SessionCredentials {
  std::string certificate_path;  // PEM; also the only trusted certificate
  std::string key_path;          // PEM, unencrypted, mode 0600
};

// Makes a fresh key (EC P-256) and a certificate for it, valid for 30 days,
// and writes them as `dir`/supervision-{key,cert}.pem, which must not exist.
// Returns false and says why in *error.
bool MakeSessionCredentials(const std::string& dir, SessionCredentials* out, std::string* error);

}  // namespace lumen::internal
