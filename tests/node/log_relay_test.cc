// The log relay over real pipes and a temporary directory: what a worker
// writes reaches its own file, and its log is marked closed at end of file.
#include "node/log_relay.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "../storage/lineage/temp_dir.h"

namespace lumen::internal {
namespace {

std::string Contents(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Until worker `number`'s log is closed (its pipe at end of file), 10 s at most.
LogRelay::Log ClosedLog(const LogRelay& relay, int number) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    for (const LogRelay::Log& log : relay.Logs())
      if (log.worker == number && (!log.open || std::chrono::steady_clock::now() > deadline)) return log;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

TEST(LogRelayTest, EachWorkersOutputReachesItsOwnFile) {
  storage::testing::TempDir dir;
  LogRelay relay(dir.path() + "/logs", /*echo_fd=*/-1);
  int a = relay.Open(1), b = relay.Open(2);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  relay.SetPid(1, 4242);
  ASSERT_EQ(::write(a, "one\n", 4), 4);
  ASSERT_EQ(::write(b, "two\n", 4), 4);
  ASSERT_EQ(::write(a, "uno\n", 4), 4);
  ::close(a);
  ::close(b);
  LogRelay::Log one = ClosedLog(relay, 1), two = ClosedLog(relay, 2);
  EXPECT_FALSE(one.open);
  EXPECT_EQ(one.pid, 4242);
  EXPECT_EQ(one.path, dir.path() + "/logs/worker-1.log");
  EXPECT_EQ(Contents(one.path), "one\nuno\n");
  EXPECT_EQ(Contents(two.path), "two\n");
}

TEST(LogRelayTest, EverythingWrittenIsInTheFileOnceTheRelayStops) {
  storage::testing::TempDir dir;
  std::string path;
  int fd = -1;
  {
    LogRelay relay(dir.path() + "/logs", /*echo_fd=*/-1);
    fd = relay.Open(7);
    ASSERT_GE(fd, 0);
    std::string big(200 << 10, 'x');  // more than a pipe holds: the relay must read while it is written
    std::thread writer([&] {
      for (size_t done = 0; done < big.size();) {
        ssize_t n = ::write(fd, big.data() + done, big.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
      ::close(fd);
    });
    writer.join();
    path = relay.Logs().at(0).path;
  }
  EXPECT_EQ(Contents(path).size(), size_t{200} << 10);
}

}  // namespace
}  // namespace lumen::internal
