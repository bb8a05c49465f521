// The gateway's wire bounds a read or write by how long it goes without
// progress (transfer/gateway_wire.h), not by how long it takes: bytes that
// trickle in for longer than the bound arrive, a silence longer than it fails.
#include "transfer/gateway_wire.h"

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace lumen::internal {
namespace {

using namespace std::chrono_literals;

TEST(GatewayWire, ASlowTransferThatProgressesIsNotCut) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  constexpr size_t kBytes = 12;
  std::thread trickle([&] {  // a byte every 50 ms: 600 ms in all, three times the patience
    for (size_t i = 0; i < kBytes; ++i) {
      std::this_thread::sleep_for(50ms);
      char c = static_cast<char>('a' + i);
      ASSERT_EQ(::send(fds[1], &c, 1, MSG_NOSIGNAL), 1);
    }
  });
  char got[kBytes];
  auto start = std::chrono::steady_clock::now();
  Status s = gateway::ReadBytes(fds[0], got, kBytes, 200ms);
  trickle.join();
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_GT(std::chrono::steady_clock::now() - start, 200ms);  // it did outlast the patience
  EXPECT_EQ(std::string(got, kBytes), "abcdefghijkl");
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(GatewayWire, ASilenceLongerThanThePatienceFails) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  ASSERT_EQ(::send(fds[1], "ab", 2, MSG_NOSIGNAL), 2);
  char got[4];
  EXPECT_EQ(gateway::ReadBytes(fds[0], got, sizeof got, 100ms).code(), StatusCode::kTimedOut);
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace lumen::internal
