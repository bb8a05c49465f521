// One TLS session of a tunnel (tls_tunnel.h): the context keyed by the
// cluster's secret, the handshake within a deadline, and the pump that moves
// bytes between the session and the tunnel's near end until either closes.
// OpenSSL only; nothing here knows what the bytes are.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace lumen::internal {

class TlsSession {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  // Takes `tcp_fd` (connected; made non-blocking here). Null, and *error
  // says why, if OpenSSL cannot set the session up.
  static std::unique_ptr<TlsSession> Make(int tcp_fd, const std::string& secret, bool server, std::string* error);
  ~TlsSession();  // closes the TCP connection (after a close_notify when the session was up)
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // The handshake; false and *error says why (a peer without the secret: a
  // failed handshake).
  bool Handshake(Deadline deadline, std::string* error);
  // Exactly `size` bytes, before the deadline (for the service byte).
  bool Write(const void* data, size_t size, Deadline deadline, std::string* error);
  bool Read(void* data, size_t size, Deadline deadline, std::string* error);
  // Moves bytes both ways between the session and `near_fd` (which it then
  // owns and closes) until either side closes or fails: blocks that long.
  // `window`: the bytes buffered per direction before the pump stops reading
  // that side. The session is closed and freed when it returns: call nothing after.
  static constexpr size_t kWindow = 1 << 20;
  void Pump(int near_fd, size_t window = kWindow);

 private:
  struct Impl;
  bool Exactly(bool write, char* data, size_t size, Deadline deadline, std::string* error);
  explicit TlsSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lumen::internal
