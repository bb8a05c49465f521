// A tunnel's pump (protocol/tls_session.h) with a window smaller than a TLS
// record, over a socket pair in this process: every record is then read in
// part, its rest held by OpenSSL and not on the socket, which the pump must
// pass on without waiting for the socket (the peer has nothing more to send).
#include "protocol/tls_session.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace lumen::internal {
namespace {

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";
using Clock = std::chrono::steady_clock;

// Exactly `size` bytes from `fd` within `ms`; false if they did not all come.
bool ReadWithin(int fd, void* data, size_t size, int ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd w{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&w, 1, static_cast<int>(left)) <= 0) return false;
    ssize_t n = ::read(fd, p, size);
    if (n <= 0) return false;
    p += n, size -= static_cast<size_t>(n);
  }
  return true;
}

std::vector<char> RandomBytes(size_t size, unsigned seed) {
  std::vector<char> bytes(size);
  std::mt19937 random(seed);
  for (char& b : bytes) b = static_cast<char>(random());
  return bytes;
}

TEST(TlsPump, AWindowSmallerThanARecordLosesNoBytesEitherWay) {
  int transport[2], near[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, transport), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, near), 0);
  std::string why, server_why;
  auto client = TlsSession::Make(transport[0], kSecret, /*server=*/false, &why);
  auto server = TlsSession::Make(transport[1], kSecret, /*server=*/true, &why);
  ASSERT_TRUE(client && server) << why;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  bool server_up = false;
  std::thread handshake([&] { server_up = server->Handshake(deadline, &server_why); });
  ASSERT_TRUE(client->Handshake(deadline, &why)) << why;
  handshake.join();
  ASSERT_TRUE(server_up) << server_why;
  std::thread pump([s = std::move(client), fd = near[1]]() mutable { s->Pump(fd, /*window=*/100); });

  // One record of 1000 bytes, then nothing: 900 of them wait in OpenSSL.
  std::vector<char> small = RandomBytes(1000, 1), got(small.size());
  ASSERT_TRUE(server->Write(small.data(), small.size(), deadline, &why)) << why;
  EXPECT_TRUE(ReadWithin(near[0], got.data(), got.size(), 5000)) << "the rest of a record stayed in the pump";
  EXPECT_TRUE(got == small);

  // Many records each way.
  std::vector<char> down = RandomBytes(300 << 10, 2), up = RandomBytes(300 << 10, 3);
  std::vector<char> got_down(down.size()), got_up(up.size());
  bool wrote = false, read = false;
  std::thread far([&] {
    wrote = server->Write(down.data(), down.size(), deadline, &server_why);
    read = wrote && server->Read(got_up.data(), got_up.size(), deadline, &server_why);
  });
  std::thread writer([&] {
    for (size_t done = 0; done < up.size();) {
      ssize_t n = ::send(near[0], up.data() + done, up.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  });
  EXPECT_TRUE(ReadWithin(near[0], got_down.data(), got_down.size(), 10000));
  writer.join();
  far.join();
  EXPECT_TRUE(wrote && read) << server_why;
  EXPECT_TRUE(got_down == down);
  EXPECT_TRUE(got_up == up);

  ::close(near[0]);  // the pump reads EOF and ends
  pump.join();
}

}  // namespace
}  // namespace lumen::internal
