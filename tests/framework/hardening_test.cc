// Regression tests for what a hostile probe of lumen found: deep failure
// chains, nested fan-outs, actors that wait, work held behind a slow worker,
// bad resource amounts, retries and timeouts, file-descriptor exhaustion.
// Each failed (crashed, hung or accepted bad input) before its fix.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include <gtest/gtest.h>

#include "cluster_fixture.h"
#include "lumen/api.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int Inc(int x) { return x + 1; }
// Blocks until `path` exists (the test creates it), then returns x.
int WaitForFile(std::string path, int x) {
  while (!fs::exists(path)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return x;
}
// A task that submits one subtask and waits for it.
int Nested(int x) { return *lumen::Get(lumen::Task(Inc).Remote(x)); }
// Two levels: a subtask that itself submits and waits.
int NestedTwice(int x) { return *lumen::Get(lumen::Task(Nested).Remote(x)) + 1; }
// Runs for `ms` and reports when it started and ended (steady clock, same machine).
std::pair<int64_t, int64_t> Interval(int ms) {
  auto start = Clock::now().time_since_epoch().count();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return {start, Clock::now().time_since_epoch().count()};
}
// Appends a line to `path`, then dies as a crashed worker would.
int CrashAndCount(std::string path) {
  { std::ofstream(path, std::ios::app) << "run\n"; }
  std::_Exit(1);
}

// An actor whose methods wait: on a task's result, or on another actor.
class Relay {
 public:
  static Relay* Make() { return new Relay; }
  int ThroughTask(int x) { return order_.push_back(x), *lumen::Get(lumen::Task(Inc).Remote(x)); }
  int WaitThroughTask(int x) {
    auto r = lumen::Task(Inc).Remote(x);
    std::vector<lumen::ObjectRef<int>> refs{r};
    lumen::Wait(refs, 1, 30000);
    order_.push_back(x);
    return *lumen::Get(r);
  }
  int ThroughActor(lumen::ActorHandle<Relay> other, int x) {
    order_.push_back(x);
    return *lumen::Get(other.Task(&Relay::Echo).Remote(x));
  }
  int Echo(int x) { return x; }
  std::vector<int> Order() { return order_; }

 private:
  std::vector<int> order_;
};

LUMEN_REMOTE(Inc, WaitForFile, Nested, NestedTwice, Interval, CrashAndCount, Relay::Make, &Relay::ThroughTask,
             &Relay::WaitThroughTask, &Relay::ThroughActor, &Relay::Echo, &Relay::Order);

class HardeningTest : public ClusterTest {};

std::string TempPath(const std::string& name) {
  return (fs::temp_directory_path() / ("lumen-hardening-" + std::to_string(getpid()) + "-" + name)).string();
}

// Failure used to propagate by recursion (Complete <-> FailTask): a chain of
// 30,000 overflowed the driver's stack.
TEST_F(HardeningTest, CancellingTheHeadOfALongChainFailsItWithoutRecursion) {
  std::string gate = TempPath("gate");
  auto head = lumen::Task(WaitForFile).Remote(gate, 0);
  lumen::ObjectRef<int> last = head;
  constexpr int kDepth = 200000;
  for (int i = 0; i < kDepth; ++i) last = lumen::Task(Inc).Remote(last);
  lumen::Cancel(head);
  EXPECT_THROW(lumen::Get(last, 60000), lumen::TaskCancelledError);
  { std::ofstream(gate) << 1; }  // let the head's worker go
  EXPECT_EQ(*lumen::Get(lumen::Task(Inc).Remote(1), 30000), 2);  // still serving
  fs::remove(gate);
}

// 50 tasks that each submit and Get a subtask used to leave 49 waiting for
// good: workers blocked in Get starved the tasks they waited for.
TEST_F(HardeningTest, NestedFanOutCompletes) {
  std::vector<lumen::ObjectRef<int>> refs;
  for (int i = 0; i < 200; ++i) refs.push_back(lumen::Task(Nested).Remote(i));
  auto values = lumen::Get(refs, 120000);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(*values[i], i + 1);
}

TEST_F(HardeningTest, TwoLevelsOfNestedFanOutComplete) {
  std::vector<lumen::ObjectRef<int>> refs;
  for (int i = 0; i < 200; ++i) refs.push_back(lumen::Task(NestedTwice).Remote(i));
  auto values = lumen::Get(refs, 120000);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(*values[i], i + 2);
}

// An actor method that waited used to finish only the first queued call.
TEST_F(HardeningTest, ActorCallsThatWaitAllCompleteInOrder) {
  auto relay = lumen::Actor(Relay::Make).Remote();
  auto other = lumen::Actor(Relay::Make).Remote();
  std::vector<lumen::ObjectRef<int>> calls;
  for (int i = 0; i < 4; ++i) calls.push_back(relay.Task(&Relay::ThroughTask).Remote(i));
  for (int i = 4; i < 8; ++i) calls.push_back(relay.Task(&Relay::WaitThroughTask).Remote(i));
  for (int i = 8; i < 12; ++i) calls.push_back(relay.Task(&Relay::ThroughActor).Remote(other, i));
  auto values = lumen::Get(calls, 60000);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(*values[i], i < 8 ? i + 1 : i);
  std::vector<int> expected(12);
  for (int i = 0; i < 12; ++i) expected[i] = i;
  EXPECT_EQ(*relay.Task(&Relay::Order).Remote().Get(30000), expected);
}

// Tasks pipelined behind a slow task used to wait while another worker idled.
TEST_F(HardeningTest, IdleWorkerTakesWorkQueuedBehindASlowTask) {
  std::string gate = TempPath("slow");
  auto slow = lumen::Task(WaitForFile).Remote(gate, -1);
  std::vector<lumen::ObjectRef<int>> tiny;
  for (int i = 0; i < 200; ++i) tiny.push_back(lumen::Task(Inc).Remote(i));
  // Every tiny task finishes while the slow one still runs.
  auto values = lumen::Get(tiny, 60000);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(*values[i], i + 1);
  EXPECT_EQ(lumen::Wait(std::vector<lumen::ObjectRef<int>>{slow}, 1, 0).ready.size(), 0u);
  { std::ofstream(gate) << 1; }
  EXPECT_EQ(*lumen::Get(slow, 30000), -1);
  fs::remove(gate);
}

// Four tasks asking CPU=2 on a 2-CPU node used to run two at a time.
TEST_F(HardeningTest, TasksHoldTheResourcesTheyAskFor) {
  std::vector<lumen::ObjectRef<std::pair<int64_t, int64_t>>> refs;
  for (int i = 0; i < 4; ++i) refs.push_back(lumen::Task(Interval).SetResource("CPU", 2).Remote(300));
  auto spans = lumen::Get(refs, 60000);
  for (size_t i = 0; i < spans.size(); ++i)
    for (size_t j = i + 1; j < spans.size(); ++j) {
      bool apart = spans[i]->second <= spans[j]->first || spans[j]->second <= spans[i]->first;
      EXPECT_TRUE(apart) << "tasks " << i << " and " << j << " ran at the same time on 2 CPUs, each holding 2";
    }
}

TEST_F(HardeningTest, BadResourceAmountsAreClearErrors) {
  for (double bad : {-3.0, std::nan(""), std::numeric_limits<double>::infinity(), 1.5}) {
    try {
      lumen::Task(Inc).SetResource("GPU", bad).Remote(1);
      ADD_FAILURE() << "GPU=" << bad << " was accepted";
    } catch (const lumen::Error& e) {
      EXPECT_NE(std::string(e.what()).find("GPU"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(*lumen::Get(lumen::Task(Inc).SetResource("CPU", 0.5).Remote(1), 30000), 2);  // fractions below 1 are fine
}

TEST(HardeningConfigTest, BadResourceAmountsInConfigAreRefused) {
  for (double bad : {-3.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    lumen::Config config;
    config.resources = {{"X", bad}};
    EXPECT_THROW(lumen::Init(config), lumen::Error) << "X=" << bad;
    EXPECT_FALSE(lumen::IsInitialized());
  }
}

TEST_F(HardeningTest, OnlyMinusOneMeansRetryForever) {
  try {
    lumen::Task(Inc).SetMaxRetries(-5).Remote(1);
    ADD_FAILURE() << "SetMaxRetries(-5) was accepted";
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("-1"), std::string::npos) << e.what();
  }
}

// A task retried forever (-1) whose result nobody can reach any more stops.
TEST_F(HardeningTest, UnreachableTaskIsNotRetried) {
  std::string runs = TempPath("runs");
  fs::remove(runs);
  auto count = [&] {
    std::ifstream in(runs);
    return static_cast<int>(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
  };
  {
    auto r = lumen::Task(CrashAndCount).SetMaxRetries(-1).Remote(runs);
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (count() < 2 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_GE(count(), 2);
  }  // the only reference goes
  int at_drop = count();
  // Let several worker deaths be handled (each respawn is an event the node sees).
  for (int i = 0; i < 5; ++i) EXPECT_EQ(*lumen::Get(lumen::Task(Inc).Remote(i), 30000), i + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_LE(count(), at_drop + 1) << "the task kept being retried after its result became unreachable";
  fs::remove(runs);
}

// INT64_MAX ms used to overflow the deadline and time out at once.
TEST_F(HardeningTest, HugeTimeoutsMeanWaitLong) {
  std::string gate = TempPath("huge");
  auto r = lumen::Task(WaitForFile).Remote(gate, 5);
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::ofstream(gate) << 1;
  });
  std::vector<lumen::ObjectRef<int>> refs{r};
  auto w = lumen::Wait(refs, 1, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(w.ready.size(), 1u);
  EXPECT_EQ(*lumen::Get(r, std::numeric_limits<int64_t>::max()), 5);
  opener.join();
  fs::remove(gate);
}

TEST_F(HardeningTest, FromIdOfAnIdThatNeverExistedSaysSo) {
  auto r = lumen::ObjectRef<int>::FromID(std::string(lumen::Put(1).ID().size(), 'a'));
  try {
    lumen::Get(r, 5000);
    ADD_FAILURE() << "Get of an unknown id returned";
  } catch (const lumen::ObjectLostError& e) {
    EXPECT_NE(std::string(e.what()).find("never"), std::string::npos) << e.what();
  }
}

// Out of file descriptors, the driver used to spin and stop answering.
TEST(HardeningFdTest, ActorsBeyondTheDescriptorLimitFailClearlyAndTheRestServe) {
  rlimit limit{256, 256};
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
  lumen::Config config;
  config.num_cpus = 1;
  lumen::Init(config);
  std::vector<lumen::ActorHandle<Relay>> actors;
  std::string error;
  for (int i = 0; i < 200 && error.empty(); ++i) {
    try {
      actors.push_back(lumen::Actor(Relay::Make).Remote());
      ASSERT_EQ(*actors.back().Task(&Relay::Echo).Remote(i).Get(30000), i);
    } catch (const lumen::Error& e) {
      error = e.what();
    }
  }
  ASSERT_FALSE(error.empty()) << "200 actors fit in 256 descriptors?";
  EXPECT_NE(error.find("file descriptors"), std::string::npos) << error;
  ASSERT_FALSE(actors.empty());
  EXPECT_EQ(*actors.front().Task(&Relay::Echo).Remote(7).Get(30000), 7);
  EXPECT_EQ(*lumen::Get(lumen::Task(Inc).Remote(1), 30000), 2);
  lumen::Shutdown();
}

}  // namespace
