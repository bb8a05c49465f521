#include "protocol/tls_session.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <vector>

#include "runtime/poll_until.h"

namespace lumen::internal {

namespace {

// The session's key is derived from the secret, never the secret itself, so
// a key that leaked from a session does not give the secret away.
constexpr char kPskLabel[] = "lumen cluster tunnel psk v1";
constexpr char kIdentity[] = "lumen";
// TLS 1.3 with the key as an external PSK and (EC)DHE on top (forward
// secrecy). OpenSSL's PSK callbacks need a SHA-256 suite; AES-GCM first
// (hardware AES on most machines).
constexpr char kCipherSuites[] = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256";
constexpr int kChunk = 64 << 10;

std::string OpenSslReason(int ssl_error) {
  if (unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    return text;
  }
  if (ssl_error == SSL_ERROR_SYSCALL) return errno ? std::strerror(errno) : "the peer closed the connection";
  if (ssl_error == SSL_ERROR_ZERO_RETURN) return "the peer closed the session";
  return "TLS error " + std::to_string(ssl_error);
}

// OpenSSL's socket BIO writes with write(2): a peer that closed would raise
// SIGPIPE and end the whole process (a node whose head was killed). This one
// is the same BIO but for send(2) with MSG_NOSIGNAL; the peer's close comes
// back as EPIPE, a failed write, and ends only the tunnel.
int SendNoSignal(BIO* bio, const char* data, int size) {
  int fd = -1;
  BIO_get_fd(bio, &fd);
  BIO_clear_retry_flags(bio);
  ssize_t n = ::send(fd, data, static_cast<size_t>(size), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

const BIO_METHOD* SocketWithoutSigpipe() {
  static BIO_METHOD* method = [] {
    const BIO_METHOD* base = BIO_s_socket();
    BIO_METHOD* m = BIO_meth_new(BIO_TYPE_SOCKET, "socket without SIGPIPE");
    BIO_meth_set_write(m, &SendNoSignal);
    BIO_meth_set_read(m, BIO_meth_get_read(base));
    BIO_meth_set_puts(m, BIO_meth_get_puts(base));
    BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(base));
    BIO_meth_set_create(m, BIO_meth_get_create(base));
    BIO_meth_set_destroy(m, BIO_meth_get_destroy(base));
    return m;
  }();
  return method;
}

// Tunnels run on threads of their own, and a process may exit while some
// still run: their sessions would then be freed while OpenSSL's own atexit
// handler frees OpenSSL. So at exit (a handler registered after OpenSSL's,
// hence run before it) every live pump's near end is shut down and the
// pumps are waited for, within a bound.
struct LivePumps {
  std::mutex mu;
  std::condition_variable cv;
  std::set<int> near_fds;
  bool exiting = false;
};
LivePumps& Pumps() {
  static auto* pumps = new LivePumps;  // never destroyed: pumps may outlive static destruction
  return *pumps;
}
void StopPumpsAtExit() {
  LivePumps& p = Pumps();
  std::unique_lock lock(p.mu);
  p.exiting = true;
  for (int fd : p.near_fds) ::shutdown(fd, SHUT_RDWR);
  p.cv.wait_for(lock, std::chrono::seconds(2), [&] { return p.near_fds.empty(); });
}

}  // namespace

struct TlsSession::Impl {
  int fd = -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  bool up = false;
  unsigned char psk[32];
  unsigned int psk_size = 0;

  ~Impl() {
    if (ssl && up) {
      ERR_clear_error();
      (void)SSL_shutdown(ssl);  // a close_notify; the peer's is not awaited
    }
    if (ssl) SSL_free(ssl);
    if (ctx) SSL_CTX_free(ctx);
    if (fd >= 0) ::close(fd);
  }
  static Impl* Of(SSL* ssl) { return static_cast<Impl*>(SSL_get_app_data(ssl)); }

  static unsigned int ServerPsk(SSL* ssl, const char* identity, unsigned char* psk, unsigned int max) {
    Impl* self = Of(ssl);
    if (!identity || std::strcmp(identity, kIdentity) != 0 || max < self->psk_size) return 0;
    std::memcpy(psk, self->psk, self->psk_size);
    return self->psk_size;
  }
  static unsigned int ClientPsk(SSL* ssl, const char*, char* identity, unsigned int max_identity, unsigned char* psk,
                                unsigned int max) {
    Impl* self = Of(ssl);
    if (max_identity < sizeof kIdentity || max < self->psk_size) return 0;
    std::memcpy(identity, kIdentity, sizeof kIdentity);
    std::memcpy(psk, self->psk, self->psk_size);
    return self->psk_size;
  }

  // One step of OpenSSL (r its result): true to go on after waiting for
  // what it wants, false on failure (*error says why).
  bool Retry(int r, Deadline deadline, std::string* error) {
    int e = SSL_get_error(ssl, r);
    short events = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (!events) {
      *error = OpenSslReason(e);
      return false;
    }
    if (PollUntil(fd, events, deadline) != PollResult::kReady) {
      *error = "it did not answer in time";
      return false;
    }
    return true;
  }
};

TlsSession::TlsSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsSession::~TlsSession() = default;

std::unique_ptr<TlsSession> TlsSession::Make(int tcp_fd, const std::string& secret, bool server, std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->fd = tcp_fd;
  ::fcntl(tcp_fd, F_SETFL, ::fcntl(tcp_fd, F_GETFL) | O_NONBLOCK);
  if (secret.empty()) {
    *error = "no cluster secret to key the session with";
    return nullptr;
  }
  if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(kPskLabel), sizeof kPskLabel - 1, impl->psk, &impl->psk_size)) {
    *error = "cannot derive the session key";
    return nullptr;
  }
  ERR_clear_error();
  impl->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  static std::once_flag at_exit;  // after OpenSSL registered its own handler (SSL_CTX_new initialises it)
  std::call_once(at_exit, [] { std::atexit(&StopPumpsAtExit); });
  if (!impl->ctx || !SSL_CTX_set_min_proto_version(impl->ctx, TLS1_3_VERSION) ||
      !SSL_CTX_set_ciphersuites(impl->ctx, kCipherSuites)) {
    *error = "cannot set up TLS: " + OpenSslReason(0);
    return nullptr;
  }
  SSL_CTX_set_num_tickets(impl->ctx, 0);  // no resumption: every tunnel proves the secret afresh
  SSL_CTX_set_mode(impl->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (server)
    SSL_CTX_set_psk_server_callback(impl->ctx, &Impl::ServerPsk);
  else
    SSL_CTX_set_psk_client_callback(impl->ctx, &Impl::ClientPsk);
  impl->ssl = SSL_new(impl->ctx);
  BIO* bio = impl->ssl ? BIO_new(SocketWithoutSigpipe()) : nullptr;
  if (!bio) {
    *error = "cannot set up TLS: " + OpenSslReason(0);
    return nullptr;
  }
  BIO_set_fd(bio, tcp_fd, BIO_NOCLOSE);  // the fd is Impl's to close
  SSL_set_bio(impl->ssl, bio, bio);      // the session owns the BIO now
  SSL_set_app_data(impl->ssl, impl.get());
  if (server)
    SSL_set_accept_state(impl->ssl);
  else
    SSL_set_connect_state(impl->ssl);
  return std::unique_ptr<TlsSession>(new TlsSession(std::move(impl)));
}

bool TlsSession::Handshake(Deadline deadline, std::string* error) {
  for (;;) {
    ERR_clear_error();
    int r = SSL_do_handshake(impl_->ssl);
    if (r == 1) return impl_->up = true;
    if (!impl_->Retry(r, deadline, error)) return false;
  }
}

// Exactly `size` bytes one way, retrying what OpenSSL asks to wait for.
bool TlsSession::Exactly(bool write, char* p, size_t size, Deadline deadline, std::string* error) {
  while (size > 0) {
    ERR_clear_error();
    int chunk = static_cast<int>(std::min<size_t>(size, kChunk));
    int n = write ? SSL_write(impl_->ssl, p, chunk) : SSL_read(impl_->ssl, p, chunk);
    if (n > 0) {
      p += n;
      size -= static_cast<size_t>(n);
    } else if (!impl_->Retry(n, deadline, error)) {
      return false;
    }
  }
  return true;
}

bool TlsSession::Write(const void* data, size_t size, Deadline deadline, std::string* error) {
  return Exactly(true, const_cast<char*>(static_cast<const char*>(data)), size, deadline, error);  // only read from
}

bool TlsSession::Read(void* data, size_t size, Deadline deadline, std::string* error) {
  return Exactly(false, static_cast<char*>(data), size, deadline, error);
}

namespace {

// The bytes of one direction read from one side and not yet written to the
// other: [begin, end) of a fixed buffer, moved to its front when its tail
// runs out, so it never grows.
struct Window {
  explicit Window(size_t size) : buf(size) {}
  std::vector<char> buf;
  size_t begin = 0, end = 0;

  bool empty() const { return begin == end; }
  size_t pending() const { return end - begin; }
  // Where the next bytes go, and how many fit.
  char* tail() {
    if (begin == end) begin = end = 0;
    if (end == buf.size() && begin > 0) {
      std::memmove(buf.data(), buf.data() + begin, end - begin);
      end -= begin, begin = 0;
    }
    return buf.data() + end;
  }
  size_t room() const { return buf.size() - pending(); }  // what tail() can give
};

}  // namespace

// Each direction has a window (above); a side is read only while its
// window has room, so a slow reader slows its writer instead of filling memory.
void TlsSession::Pump(int near_fd, size_t window) {
  {
    std::lock_guard lock(Pumps().mu);
    if (Pumps().exiting) {
      ::close(near_fd);
      return;
    }
    Pumps().near_fds.insert(near_fd);
  }
  ::fcntl(near_fd, F_SETFL, ::fcntl(near_fd, F_GETFL) | O_NONBLOCK);
  SSL* ssl = impl_->ssl;
  Window to_near(window), to_far(window);
  bool far_closed = false, near_closed = false, failed = false;
  bool read_wants_write = false, write_wants_read = false, write_wants_write = false;
  while (!failed) {
    read_wants_write = false;
    while (!far_closed) {  // far -> window
      char* at = to_near.tail();
      size_t room = to_near.buf.size() - to_near.end;
      if (room == 0) break;
      ERR_clear_error();
      int n = SSL_read(ssl, at, static_cast<int>(std::min<size_t>(room, kChunk)));
      if (n > 0) {
        to_near.end += static_cast<size_t>(n);
        continue;
      }
      int e = SSL_get_error(ssl, n);
      if (e == SSL_ERROR_WANT_WRITE) read_wants_write = true;
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) far_closed = true;
      break;
    }
    while (!to_near.empty()) {  // window -> near
      ssize_t n = ::send(near_fd, to_near.buf.data() + to_near.begin, to_near.pending(), MSG_NOSIGNAL);
      if (n > 0) {
        to_near.begin += static_cast<size_t>(n);
      } else {
        if (n < 0 && errno != EAGAIN && errno != EINTR) failed = true;
        break;
      }
    }
    while (!near_closed) {  // near -> window
      char* at = to_far.tail();
      size_t room = to_far.buf.size() - to_far.end;
      if (room == 0) break;
      ssize_t n = ::read(near_fd, at, room);
      if (n > 0) {
        to_far.end += static_cast<size_t>(n);
      } else {
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) near_closed = true;
        break;
      }
    }
    write_wants_read = write_wants_write = false;
    while (!to_far.empty()) {  // window -> far
      ERR_clear_error();
      int n = SSL_write(ssl, to_far.buf.data() + to_far.begin, static_cast<int>(std::min<size_t>(to_far.pending(), kChunk)));
      if (n > 0) {
        to_far.begin += static_cast<size_t>(n);
        continue;
      }
      int e = SSL_get_error(ssl, n);
      write_wants_read = e == SSL_ERROR_WANT_READ;
      write_wants_write = e == SSL_ERROR_WANT_WRITE;
      if (!write_wants_read && !write_wants_write) failed = true;
      break;
    }
    // A side that closed ends the tunnel once what it sent has been passed on.
    if ((far_closed && to_near.empty()) || (near_closed && to_far.empty())) break;
    // A record read in part (the window filled mid-record) leaves its rest
    // in OpenSSL, not on the socket: poll() would not wake for it, and if
    // the peer has sent all it means to, it never would. Read it first.
    if (!far_closed && to_near.room() > 0 && SSL_pending(ssl) > 0) continue;
    pollfd p[2] = {{impl_->fd, 0, 0}, {near_fd, 0, 0}};
    if ((!far_closed && to_near.room() > 0) || write_wants_read) p[0].events |= POLLIN;
    if (write_wants_write || read_wants_write) p[0].events |= POLLOUT;
    if (!near_closed && to_far.room() > 0) p[1].events |= POLLIN;
    if (!to_near.empty()) p[1].events |= POLLOUT;
    if (::poll(p, 2, -1) < 0 && errno != EINTR) failed = true;
  }
  impl_.reset();  // the session freed before this pump counts as ended (StopPumpsAtExit)
  std::lock_guard lock(Pumps().mu);
  Pumps().near_fds.erase(near_fd);
  ::close(near_fd);
  Pumps().cv.notify_all();
}

}  // namespace lumen::internal
