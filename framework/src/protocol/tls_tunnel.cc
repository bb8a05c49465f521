#include "protocol/tls_tunnel.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "protocol/tls_session.h"
#include "runtime/poll_until.h"

namespace lumen::internal {

namespace {

constexpr char kScheme[] = "tls://";
constexpr int kMaxHandshakes = 32;  // under way at once; more are refused, so a flood cannot pile up threads

using Clock = std::chrono::steady_clock;

bool SplitHostPort(const std::string& address, std::string* host, std::string* port) {
  std::string rest = IsTlsAddress(address) ? address.substr(sizeof kScheme - 1) : address;
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return false;
  *host = rest.substr(0, colon);
  *port = rest.substr(colon + 1);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  return true;
}

// Frames are small: no Nagle delay. And a peer whose host vanished without
// a word (power, a partition) is noticed by the kernel within about a
// minute (30 s idle, then 3 probes 10 s apart), so an idle tunnel's pump
// and what it serves end instead of waiting for it forever.
void TuneTcp(int fd) {
  int one = 1, idle = 30, interval = 10, probes = 3;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
}

// A TCP connection to `address` before the deadline, or -1 (*error says why).
int ConnectTcp(const std::string& address, Clock::time_point deadline, std::string* error) {
  std::string host, port;
  if (!SplitHostPort(address, &host, &port)) {
    *error = "'" + address + "' is not HOST:PORT";
    return -1;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int e = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); e != 0) {
    *error = "cannot resolve " + host + ": " + ::gai_strerror(e);
    return -1;
  }
  int fd = -1;
  *error = "no address to connect to";
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int r = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      int err = ETIMEDOUT;
      socklen_t len = sizeof err;
      if (PollUntil(fd, POLLOUT, deadline) == PollResult::kReady) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      r = err == 0 ? 0 : -1;
      errno = err;
    }
    if (r != 0) {
      *error = std::string("cannot connect: ") + std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd >= 0) TuneTcp(fd);
  return fd;
}

// Connects, shakes hands and asks for the service: the session, or null.
std::unique_ptr<TlsSession> Dial(const std::string& address, const std::string& secret, TunnelService service,
                                 Clock::time_point deadline, std::string* error) {
  int tcp = ConnectTcp(address, deadline, error);
  if (tcp < 0) return nullptr;
  auto session = TlsSession::Make(tcp, secret, /*server=*/false, error);
  if (!session) return nullptr;
  if (!session->Handshake(deadline, error)) {
    *error = "the TLS handshake failed (is it the same cluster's secret?): " + *error;
    return nullptr;
  }
  char byte = static_cast<char>(service);
  if (!session->Write(&byte, 1, deadline, error)) return nullptr;
  return session;
}

// A socket pair: [0] the near end, [1] the pump's.
bool Pair(int fds[2], std::string* error) {
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0) return true;
  *error = std::string("socketpair: ") + std::strerror(errno);
  return false;
}

std::string PeerOf(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace

bool IsTlsAddress(const std::string& address) { return address.rfind(kScheme, 0) == 0; }

std::string TlsAddress(const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return kScheme + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string TlsAddressOf(const std::string& address) {
  std::string host, port;
  if (!SplitHostPort(address, &host, &port) || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos)
    return "";
  int number = std::stoi(port);
  return number > 0 && number <= 65535 ? TlsAddress(host, static_cast<uint16_t>(number)) : "";
}

int OpenTunnel(const std::string& address, const std::string& secret, TunnelService service, int timeout_ms,
               std::string* error) {
  auto session = Dial(address, secret, service, Clock::now() + std::chrono::milliseconds(timeout_ms), error);
  int fds[2];
  if (!session || !Pair(fds, error)) return -1;
  std::thread([s = std::move(session), pump_end = fds[1]]() mutable { s->Pump(pump_end); }).detach();
  return fds[0];
}

int OpenTunnelAsync(const std::string& address, const std::string& secret, TunnelService service) {
  int fds[2];
  std::string error;
  if (!Pair(fds, &error)) return -1;
  std::thread([=] {
    std::string why;
    auto session = Dial(address, secret, service, Clock::now() + std::chrono::milliseconds(kTunnelHandshakeMs), &why);
    if (!session) {
      std::fprintf(stderr, "lumen: cannot reach %s: %s\n", address.c_str(), why.c_str());
      ::close(fds[1]);
      return;
    }
    session->Pump(fds[1]);
  }).detach();
  return fds[0];
}

// ---- the entrance ------------------------------------------------------------

struct TunnelEntrance::State {
  std::string host;
  uint16_t port = 0;
  std::string secret;
  Serve serve;
  int listen_fd = -1;
  int stop_fd = -1;
  std::thread acceptor;
  std::mutex mu;  // guards handshakes, stopping; held while `serve` runs
  std::condition_variable cv;
  int handshakes = 0;
  bool stopping = false;

  void Accept();
  void Admit(int tcp, const std::string& from);
};

std::unique_ptr<TunnelEntrance> TunnelEntrance::Listen(const std::string& host, uint16_t port,
                                                       const std::string& secret, Serve serve, std::string* error) {
  auto state = std::make_shared<State>();
  state->host = host;
  state->secret = secret;
  state->serve = std::move(serve);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string port_text = std::to_string(port);
  if (int e = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &found); e != 0) {
    *error = "cannot resolve " + host + ": " + ::gai_strerror(e);
    return nullptr;
  }
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  // A head restarted on its port binds it again at once (its old connections may linger in TIME_WAIT).
  if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
    *error = "cannot listen on " + host + ":" + port_text + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    ::freeaddrinfo(found);
    return nullptr;
  }
  ::freeaddrinfo(found);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  std::string self = PeerOf(bound);
  state->port = static_cast<uint16_t>(std::stoi(self.substr(self.rfind(':') + 1)));
  state->listen_fd = fd;
  state->stop_fd = ::eventfd(0, EFD_CLOEXEC);
  state->acceptor = std::thread([s = state.get()] { s->Accept(); });
  return std::unique_ptr<TunnelEntrance>(new TunnelEntrance(std::move(state)));
}

TunnelEntrance::~TunnelEntrance() {
  uint64_t one = 1;
  (void)!::write(state_->stop_fd, &one, sizeof one);
  state_->acceptor.join();
  std::unique_lock lock(state_->mu);
  state_->stopping = true;  // handshakes that finish now are closed, not served
  state_->cv.wait(lock, [&] { return state_->handshakes == 0; });  // each ends within kTunnelHandshakeMs
  ::close(state_->listen_fd);
  ::close(state_->stop_fd);
}

std::string TunnelEntrance::address() const { return TlsAddress(state_->host, state_->port); }
uint16_t TunnelEntrance::port() const { return state_->port; }

void TunnelEntrance::State::Accept() {
  for (;;) {
    pollfd p[2] = {{listen_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0 && errno != EINTR) return;
    if (p[1].revents) return;
    if (!(p[0].revents & POLLIN)) continue;
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int tcp = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (tcp < 0) {
      if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    std::string from = PeerOf(peer);
    std::lock_guard lock(mu);
    if (handshakes >= kMaxHandshakes) {
      std::fprintf(stderr, "lumen: refused a connection from %s: %d handshakes under way already\n", from.c_str(),
                   kMaxHandshakes);
      ::close(tcp);
      continue;
    }
    ++handshakes;
    TuneTcp(tcp);
    // Detached: it touches this state only until it is counted out, which the destructor waits for.
    std::thread([this, tcp, from] { Admit(tcp, from); }).detach();
  }
}

namespace {

// The server's side of Dial: the session once the peer proved the secret
// and asked for a service we have, else null and *why says what failed.
std::unique_ptr<TlsSession> Greet(int tcp, const std::string& secret, TunnelService* service, std::string* why) {
  auto deadline = Clock::now() + std::chrono::milliseconds(kTunnelHandshakeMs);
  std::unique_ptr<TlsSession> session = TlsSession::Make(tcp, secret, /*server=*/true, why);
  if (!session) return nullptr;
  if (!session->Handshake(deadline, why)) {
    *why = "the TLS handshake failed (it does not hold the cluster's secret?): " + *why;
    return nullptr;
  }
  char byte = 0;
  if (!session->Read(&byte, 1, deadline, why)) return nullptr;
  if (byte != static_cast<char>(TunnelService::kNode) && byte != static_cast<char>(TunnelService::kStore)) {
    *why = "it asked for an unknown service";
    return nullptr;
  }
  *service = static_cast<TunnelService>(byte);
  return session;
}

}  // namespace

void TunnelEntrance::State::Admit(int tcp, const std::string& from) {
  std::string why;
  TunnelService service{};
  int fds[2] = {-1, -1};
  std::unique_ptr<TlsSession> session = Greet(tcp, secret, &service, &why);
  if (session && !Pair(fds, &why)) session.reset();
  {
    std::lock_guard lock(mu);
    if (session && !stopping) {
      serve(service, fds[0], from);
    } else if (session) {
      ::close(fds[0]);
    } else {
      std::fprintf(stderr, "lumen: refused a connection from %s: %s\n", from.c_str(), why.c_str());
    }
    --handshakes;
    cv.notify_all();
  }  // from here on, nothing of this state: it may be gone
  if (session) session->Pump(fds[1]);
}

}  // namespace lumen::internal
