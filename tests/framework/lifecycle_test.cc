// Starting, stopping and cleaning up an embedded cluster; reference counting
// that frees what nobody can reach.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "lumen/api.h"

namespace {

int Twice(int x) { return 2 * x; }
double Sum(std::vector<double> v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}
// From inside a task: a large argument by value to a nested task.
double SumNested(int n) { return *lumen::Task(Sum).Remote(std::vector<double>(n, 1.0)).Get(); }
LUMEN_REMOTE(Twice, Sum, SumNested);

// Files this process's clusters leave in /dev/shm or /tmp (named after the pid).
std::vector<std::string> LeftoverFiles() {
  std::vector<std::string> found;
  std::string prefix = "lumen-" + std::to_string(getpid()) + "-";
  for (const char* dir : {"/dev/shm", "/tmp"})
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.path().filename().string().rfind(prefix, 0) == 0) found.push_back(entry.path());
  return found;
}

bool ProcessGone(pid_t pid) {
  // A worker is our grandchild? No: our child, reaped by Shutdown. kill(0) then fails.
  return kill(pid, 0) != 0;
}

TEST(LifecycleTest, ShutdownLeavesNothingBehindAndInitWorksAgain) {
  for (int round = 0; round < 2; ++round) {
    lumen::Config config;
    config.num_cpus = 2;
    lumen::Init(config);
    EXPECT_TRUE(lumen::IsInitialized());
    EXPECT_EQ(*lumen::Task(Twice).Remote(21).Get(), 42);
    auto big = lumen::Put(std::vector<double>(1 << 20, 1.0));  // in the shared store
    lumen::ClusterInfo info = lumen::GetClusterInfo();
    for (int i = 0; i < 5000 && info.worker_pids.size() < 2; ++i) {  // both started: bounded wait
      usleep(2000);
      info = lumen::GetClusterInfo();
    }
    EXPECT_EQ(info.worker_pids.size(), 2u);
    EXPECT_GT(info.store_used_bytes, size_t{8} << 20);
    EXPECT_FALSE(LeftoverFiles().empty());  // the session dir exists
    lumen::Shutdown();
    lumen::Shutdown();  // twice is fine
    EXPECT_FALSE(lumen::IsInitialized());
    for (pid_t pid : info.worker_pids) EXPECT_TRUE(ProcessGone(pid)) << pid;
    EXPECT_EQ(LeftoverFiles(), std::vector<std::string>{});
    EXPECT_THROW(lumen::Task(Twice).Remote(1), lumen::Error);
  }
}

TEST(LifecycleTest, InitTwiceIsAnError) {
  lumen::Config config;
  config.num_cpus = 1;
  lumen::Init(config);
  EXPECT_THROW(lumen::Init(config), lumen::Error);
  lumen::Shutdown();
}

TEST(LifecycleTest, JoiningAnAddressNothingServesSaysSo) {
  lumen::Config config;
  config.address = "127.0.0.1:1";  // no lumen cluster serves port 1
  try {
    lumen::Init(config);
    FAIL() << "expected lumen::Error";
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no lumen cluster serves 127.0.0.1:1"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(lumen::IsInitialized());
}

TEST(ReferenceCountingTest, DroppedObjectsAreFreed) {
  lumen::Config config;
  config.num_cpus = 1;
  config.object_store_bytes = size_t{512} << 20;
  lumen::Init(config);
  // 10,000 MiB through a 512 MiB store: only works if each is freed once its
  // last ref goes away.
  std::vector<uint8_t> mib(1 << 20, 7);
  for (int i = 0; i < 10000; ++i) {
    auto ref = lumen::Put(mib);
    if (i % 1000 == 0) {
      EXPECT_EQ(lumen::Get(ref)->at(12345), 7);
    }
  }
  EXPECT_LT(lumen::GetClusterInfo().store_used_bytes, size_t{4} << 20);
  EXPECT_EQ(lumen::GetClusterInfo().store_spilled_objects, 0u);
  lumen::Shutdown();
}

TEST(ReferenceCountingTest, TaskResultsAndNestedRefsAreFreed) {
  lumen::Config config;
  config.num_cpus = 2;
  lumen::Init(config);
  size_t before = lumen::GetClusterInfo().num_objects;
  {
    std::vector<lumen::ObjectRef<int>> refs;
    for (int i = 0; i < 100; ++i) refs.push_back(lumen::Task(Twice).Remote(i));
    auto outer = lumen::Put(refs);  // an object holding 100 refs keeps them alive
    refs.clear();
    auto inner = lumen::Get(outer);
    EXPECT_EQ(*lumen::Get((*inner)[99]), 198);
  }
  // Everything above is unreachable now; the node forgets it (workers
  // report their dropped refs asynchronously: wait for that, bounded).
  for (int i = 0; i < 1000 && lumen::GetClusterInfo().num_objects > before; ++i) usleep(2000);
  EXPECT_EQ(lumen::GetClusterInfo().num_objects, before);
  lumen::Shutdown();
}

}  // namespace

namespace {

TEST(ReferenceCountingTest, LargeArgumentsByValueGoThroughTheStoreAndAreFreed) {
  lumen::Config config;
  config.num_cpus = 2;
  lumen::Init(config);
  size_t before = lumen::GetClusterInfo().num_objects;
  {
    std::vector<double> big(1 << 20, 0.5);  // 8 MiB: travels as an object in the store, not inline
    EXPECT_DOUBLE_EQ(*lumen::Task(Sum).Remote(big).Get(), 0.5 * (1 << 20));
    EXPECT_DOUBLE_EQ(*lumen::Task(SumNested).Remote(1 << 20).Get(), double(1 << 20));
  }
  for (int i = 0; i < 1000 && lumen::GetClusterInfo().num_objects > before; ++i) usleep(2000);
  EXPECT_EQ(lumen::GetClusterInfo().num_objects, before);  // the argument objects were freed
  EXPECT_LT(lumen::GetClusterInfo().store_used_bytes, size_t{1} << 20);
  lumen::Shutdown();
}

}  // namespace
