// A guard for CAF 0.17's TLS sessions (libcaf_openssl), which call
// SSL_get_error without first emptying the thread's OpenSSL error queue, as
// OpenSSL requires. One failed handshake leaves its error in the queue of
// the middleman's thread, and the next TLS operation there that merely wants
// more input is taken for a failure: every worker's connection dropped (and
// was reported dead) after one peer without credentials knocked.
//
// openssl_error_queue.cc defines SSL_accept, SSL_connect, SSL_read and
// SSL_write in this program: each empties the queue and calls OpenSSL's own.
// The dynamic linker binds libcaf_openssl's calls to these definitions. For
// any other caller they only enforce OpenSSL's documented precondition.
#pragma once

namespace lumen::internal {

// True. Call it from code that uses caf::openssl, so that the linker keeps
// the definitions (they live in a static library).
bool OpenSslErrorQueueGuarded();

}  // namespace lumen::internal
