// A worker that stops answering (SIGSTOP) is declared dead within the
// liveness bound, killed, and its task retried; a worker busy computing for
// longer than the bound is left alone.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "lumen/api.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kLivenessMs = 2000;

// On its first run writes its pid to `path` and sleeps for a minute (a test
// stops it meanwhile); a retry, finding the file, returns at once.
int StallFirstTime(std::string path) {
  pid_t earlier = 0;
  if (std::ifstream(path) >> earlier) return 7;
  { std::ofstream(path + ".tmp") << getpid(); }
  std::filesystem::rename(path + ".tmp", path);
  std::this_thread::sleep_for(std::chrono::minutes(1));
  return 7;
}

// Computes for `ms` without a system call.
int Spin(int64_t ms) {
  auto end = Clock::now() + std::chrono::milliseconds(ms);
  volatile uint64_t x = 0;
  while (Clock::now() < end) x = x + 1;
  return 1;
}
LUMEN_REMOTE(StallFirstTime, Spin);

pid_t WaitForPidFile(const std::string& path) {
  for (int i = 0; i < 10000; ++i) {  // bounded: 10 s
    pid_t pid = 0;
    if (std::ifstream(path) >> pid && pid > 0) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return -1;
}

// True once `pid` no longer exists (killed and reaped), false after `ms`.
bool GoneWithin(pid_t pid, int ms) {
  for (int i = 0; i < ms; ++i) {
    if (::kill(pid, 0) != 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

lumen::Config LivenessConfig() {
  lumen::Config config;
  config.num_cpus = 2;
  config.worker_liveness_timeout_ms = kLivenessMs;
  return config;
}

TEST(WorkerLivenessTest, StoppedWorkerIsDeclaredDeadKilledAndItsTaskRetried) {
  lumen::Init(LivenessConfig());
  std::string path = (std::filesystem::temp_directory_path() / ("lumen-stop-" + std::to_string(getpid()))).string();
  std::filesystem::remove(path);
  auto r = lumen::Task(StallFirstTime).SetMaxRetries(1).Remote(path);
  pid_t victim = WaitForPidFile(path);
  ASSERT_GT(victim, 0);
  uint64_t deaths = lumen::GetClusterInfo().worker_deaths_seen_by_caf;
  ASSERT_EQ(::kill(victim, SIGSTOP), 0);
  auto stopped_at = Clock::now();
  // The bound (1.1x the timeout) plus slack for the retry on a busy machine.
  const int64_t bound_ms = kLivenessMs * 11 / 10 + 3000;
  try {
    EXPECT_EQ(*r.Get(bound_ms), 7);
  } catch (const lumen::GetTimeoutError&) {
    ADD_FAILURE() << "the stopped worker still blocks the task after " << bound_ms << " ms";
  }
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - stopped_at).count();
  EXPECT_GE(waited, kLivenessMs * 9 / 10);  // declared dead by the timeout, not by something else
  EXPECT_TRUE(GoneWithin(victim, 5000)) << "the stopped worker " << victim << " still exists";
  EXPECT_EQ(lumen::GetClusterInfo().worker_deaths_seen_by_caf, deaths + 1);
  EXPECT_EQ(*lumen::Task(Spin).Remote(1).Get(30000), 1);  // the pool is whole again
  std::filesystem::remove(path);
  lumen::Shutdown();  // also ends the victim if the runtime did not
}

TEST(WorkerLivenessTest, WorkerComputingLongerThanTheTimeoutIsNotKilled) {
  lumen::Init(LivenessConfig());
  lumen::ClusterInfo before = lumen::GetClusterInfo();
  auto r = lumen::Task(Spin).SetMaxRetries(0).Remote(2 * kLivenessMs);
  EXPECT_EQ(*r.Get(2 * kLivenessMs + 30000), 1);  // WorkerCrashedError had it been killed
  lumen::ClusterInfo after = lumen::GetClusterInfo();
  EXPECT_EQ(after.worker_deaths_seen_by_caf, before.worker_deaths_seen_by_caf);
  EXPECT_EQ(after.worker_deaths_seen_by_reaping, before.worker_deaths_seen_by_reaping);
  lumen::Shutdown();
}

}  // namespace
