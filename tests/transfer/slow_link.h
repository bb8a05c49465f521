// A slow network link for tests: a TCP forwarder on the loopback that takes
// all a client sends at once (as the buffers of a long, slow path would) and
// passes it on to the target at `bytes_per_second`; the other way at once.
// Pause() stops it passing anything on: a path that stalls. It carries the
// first connection it accepts, until either side closes or it is destroyed.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <string>
#include <thread>

namespace lumen::internal::testing {

class SlowLink {
 public:
  SlowLink(uint16_t target_port, double bytes_per_second) : target_(target_port), rate_(bytes_per_second) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(0);
    socklen_t len = sizeof a;
    ::bind(listen_, reinterpret_cast<sockaddr*>(&a), len);
    ::listen(listen_, 1);
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    stop_ = ::eventfd(0, EFD_CLOEXEC);
    thread_ = std::thread([this] { Run(); });
  }
  ~SlowLink() {
    uint64_t one = 1;
    (void)!::write(stop_, &one, sizeof one);
    thread_.join();
    ::close(stop_);
    ::close(listen_);
  }
  SlowLink(const SlowLink&) = delete;
  SlowLink& operator=(const SlowLink&) = delete;

  uint16_t port() const { return port_; }
  void Pause() { paused_ = true; }

 private:
  static sockaddr_in Loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }

  void Run() {
    pollfd first[2] = {{listen_, POLLIN, 0}, {stop_, POLLIN, 0}};
    if (::poll(first, 2, -1) <= 0 || first[1].revents) return;
    int near = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
    int far = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(target_);
    if (near >= 0 && ::connect(far, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) Forward(near, far);
    if (near >= 0) ::close(near);
    ::close(far);
  }

  // Until either side closes or the link is destroyed.
  void Forward(int near, int far) {
    std::string held;  // from the client; held[from..] not yet passed on
    size_t from = 0;
    uint64_t passed = 0;
    const auto start = std::chrono::steady_clock::now();
    char buf[64 << 10];
    for (;;) {
      pollfd p[3] = {{near, POLLIN, 0}, {far, POLLIN, 0}, {stop_, POLLIN, 0}};
      if (::poll(p, 3, from == held.size() || paused_ ? -1 : 2) < 0) return;
      if (p[2].revents) return;
      if (p[0].revents) {
        ssize_t n = ::recv(near, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) return;
        held.append(buf, static_cast<size_t>(n));
      }
      if (p[1].revents) {
        ssize_t n = ::recv(far, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0 || ::send(near, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) return;
      }
      double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      auto allowed = static_cast<uint64_t>(elapsed * rate_);
      if (paused_ || from == held.size() || allowed <= passed) continue;
      size_t n = std::min<uint64_t>(held.size() - from, allowed - passed);
      ssize_t sent = ::send(far, held.data() + from, n, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (sent < 0 && errno != EAGAIN) return;
      if (sent > 0) from += static_cast<size_t>(sent), passed += static_cast<uint64_t>(sent);
      if (from == held.size()) held.clear(), from = 0;
    }
  }

  const uint16_t target_;
  const double rate_;
  int listen_ = -1, stop_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> paused_{false};
  std::thread thread_;
};

}  // namespace lumen::internal::testing
