// What crosses hosts: the node protocol and object bytes over TCP in TLS,
// keyed by the cluster's secret. TLS 1.3 with a pre-shared key derived from
// the secret and ECDHE for forward secrecy, so there are no certificates to
// hand out: a peer without the secret fails the handshake and is refused
// (and logged) before a byte of ours is read or written.
//
// A tunnel carries one byte stream. Its near end is one end of a Unix socket
// pair; a thread of its own pumps the other end to and from TLS. The code
// above (frames and Connection, the store gateway) reads and writes a plain
// descriptor whether its peer is on this host or another, and ends a tunnel
// by closing (or shutting down) its near end; the far end's close arrives
// there as EOF.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace lumen::internal {

// "tls://HOST:PORT" names a node on another host (or one reached as if it were).
bool IsTlsAddress(const std::string& address);
std::string TlsAddress(const std::string& host, uint16_t port);
// "HOST:PORT" (or a tls:// address already) as a tls:// address; "" if it is not one.
std::string TlsAddressOf(const std::string& address);

// What a tunnel carries, said by its first byte after the handshake.
enum class TunnelService : char { kNode = 'N', kStore = 'S' };

inline constexpr int kTunnelHandshakeMs = 5000;  // a peer slower than this is refused

// Connects to `address` (tls://HOST:PORT), shakes hands within timeout_ms and
// asks for `service`: the near end (blocking, close-on-exec), or -1 and
// *error says why.
int OpenTunnel(const std::string& address, const std::string& secret, TunnelService service, int timeout_ms,
               std::string* error);
// The same without waiting, for a caller that must not block (the node's I/O
// loop): the near end at once; the tunnel's thread connects, and if it
// cannot, logs why and closes its end (the near end reads EOF).
int OpenTunnelAsync(const std::string& address, const std::string& secret, TunnelService service);

// Listens on HOST:PORT (PORT 0: a free one) for tunnels. Each peer that holds
// the secret is handed to `serve` (its service, the near end, which `serve`
// then owns, and the peer's "ip:port"), one at a time, never after the
// entrance is destroyed; any other is refused and logged.
class TunnelEntrance {
 public:
  using Serve = std::function<void(TunnelService service, int fd, const std::string& from)>;
  // Null, and *error says why, if it cannot listen there.
  static std::unique_ptr<TunnelEntrance> Listen(const std::string& host, uint16_t port, const std::string& secret,
                                                Serve serve, std::string* error);
  ~TunnelEntrance();  // stops accepting, waits for handshakes under way (bounded); open tunnels run on
  std::string address() const;  // tls://HOST:PORT, the port bound
  uint16_t port() const;

  struct State;

 private:
  explicit TunnelEntrance(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace lumen::internal
