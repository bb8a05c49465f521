// Tunnels between hosts (protocol/tls_tunnel.h), over real TCP on the
// loopback, in this process: bytes cross intact both ways, a peer without
// the cluster's secret or speaking anything but TLS is refused and the
// entrance serves on, and an end that closes ends the other.
#include "protocol/tls_tunnel.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace lumen::internal {
namespace {

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";

bool WriteAll(int fd, const void* data, size_t size) {
  auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    p += n, size -= static_cast<size_t>(n);
  }
  return true;
}
bool ReadAll(int fd, void* data, size_t size) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = ::read(fd, p, size);
    if (n <= 0) return false;
    p += n, size -= static_cast<size_t>(n);
  }
  return true;
}

// An entrance whose every tunnel echoes what it reads, and counts services.
class Echo : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    entrance_ = TunnelEntrance::Listen("127.0.0.1", 0, kSecret,
                                       [this](TunnelService service, int fd, const std::string&) {
                                         {
                                           std::lock_guard lock(mu_);
                                           services_.push_back(service);
                                         }
                                         cv_.notify_all();
                                         echoes_.emplace_back([fd] {
                                           char buf[65536];
                                           for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
                                             if (!WriteAll(fd, buf, static_cast<size_t>(n))) break;
                                           ::close(fd);
                                         });
                                       },
                                       &why);
    ASSERT_TRUE(entrance_) << why;
  }
  void TearDown() override {
    entrance_.reset();
    for (auto& t : echoes_) t.join();  // each ends when its tunnel's far end closes
  }
  bool AwaitServices(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return services_.size() >= n; });
  }
  int RawTcp() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(entrance_->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  }

  std::unique_ptr<TunnelEntrance> entrance_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<TunnelService> services_;
  std::vector<std::thread> echoes_;  // touched by the entrance's serve only, one at a time
};

TEST_F(Echo, BytesCrossIntactBothWaysAndTheServiceIsSaid) {
  EXPECT_EQ(entrance_->address(), "tls://127.0.0.1:" + std::to_string(entrance_->port()));
  std::string why;
  int fd = OpenTunnel(entrance_->address(), kSecret, TunnelService::kStore, 5000, &why);
  ASSERT_GE(fd, 0) << why;
  ASSERT_TRUE(AwaitServices(1));
  {
    std::lock_guard lock(mu_);
    EXPECT_EQ(services_[0], TunnelService::kStore);
  }
  // 24 MiB of random bytes, written while they are read back (both windows fill).
  std::vector<uint8_t> sent(24 << 20), got(sent.size());
  std::mt19937_64 random(7);
  for (auto& b : sent) b = static_cast<uint8_t>(random());
  std::thread writer([&] { EXPECT_TRUE(WriteAll(fd, sent.data(), sent.size())); });
  EXPECT_TRUE(ReadAll(fd, got.data(), got.size()));
  writer.join();
  EXPECT_TRUE(sent == got);
  ::close(fd);
}

TEST_F(Echo, AnEndThatClosesEndsTheOther) {
  std::string why;
  int fd = OpenTunnel(entrance_->address(), kSecret, TunnelService::kNode, 5000, &why);
  ASSERT_GE(fd, 0) << why;
  ASSERT_TRUE(AwaitServices(1));
  ::shutdown(fd, SHUT_WR);  // the echo reads EOF, closes; the EOF comes back here
  char c;
  EXPECT_EQ(::read(fd, &c, 1), 0);
  ::close(fd);
}

TEST_F(Echo, APeerWithoutTheSecretIsRefusedAndTheEntranceServesOn) {
  std::string why;
  EXPECT_LT(OpenTunnel(entrance_->address(), "another cluster's secret", TunnelService::kNode, 5000, &why), 0);
  EXPECT_NE(why.find("handshake"), std::string::npos) << why;
  // Not TLS at all: garbage, then an empty connection, then one that says nothing.
  int garbage = RawTcp();
  std::vector<char> junk(4096);
  std::mt19937 random(3);
  for (char& c : junk) c = static_cast<char>(random());
  (void)WriteAll(garbage, junk.data(), junk.size());
  char c;
  EXPECT_LE(::read(garbage, &c, 1), 0);  // refused: closed (or reset) without a byte of ours
  ::close(garbage);
  ::close(RawTcp());
  // Still serving, and none of those reached `serve`.
  int fd = OpenTunnel(entrance_->address(), kSecret, TunnelService::kNode, 5000, &why);
  ASSERT_GE(fd, 0) << why;
  ASSERT_TRUE(AwaitServices(1));
  std::lock_guard lock(mu_);
  EXPECT_EQ(services_.size(), 1u);
  ::close(fd);
}

TEST_F(Echo, AnAsyncTunnelCarriesWhatWasWrittenBeforeItConnected) {
  int fd = OpenTunnelAsync(entrance_->address(), kSecret, TunnelService::kNode);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteAll(fd, "hello", 5));  // buffered in the pair while the thread connects
  char got[5];
  ASSERT_TRUE(ReadAll(fd, got, 5));
  EXPECT_EQ(std::string(got, 5), "hello");
  ::close(fd);
}

TEST(Tunnel, AnAsyncTunnelToNobodyEndsInEof) {
  // A port nothing listens on: bind one, then close it.
  int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(probe);
  int fd = OpenTunnelAsync(TlsAddress("127.0.0.1", ntohs(addr.sin_port)), kSecret, TunnelService::kNode);
  ASSERT_GE(fd, 0);
  char c;
  EXPECT_EQ(::read(fd, &c, 1), 0);
  ::close(fd);
  std::string why;
  EXPECT_LT(OpenTunnel(TlsAddress("127.0.0.1", ntohs(addr.sin_port)), kSecret, TunnelService::kNode, 2000, &why), 0);
  EXPECT_NE(why.find("connect"), std::string::npos) << why;
}

TEST(Tunnel, ListeningOnAPortInUseSaysSo) {
  std::string why;
  auto first = TunnelEntrance::Listen("127.0.0.1", 0, kSecret, [](TunnelService, int fd, const std::string&) { ::close(fd); }, &why);
  ASSERT_TRUE(first) << why;
  auto second = TunnelEntrance::Listen("127.0.0.1", first->port(), kSecret,
                                       [](TunnelService, int fd, const std::string&) { ::close(fd); }, &why);
  EXPECT_FALSE(second);
  EXPECT_NE(why.find("in use"), std::string::npos) << why;
}

}  // namespace
}  // namespace lumen::internal
