// Tasks and objects across real worker processes of an embedded cluster.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <thread>

#include <gtest/gtest.h>

#include "cluster_fixture.h"
#include "lumen/api.h"

namespace {

int Return1() { return 1; }
int Plus(int x, int y) { return x + y; }
std::string Greet(const std::string& name) { return "hello " + name; }
int Fail(int x) { throw std::invalid_argument("bad x: " + std::to_string(x)); }
int Pid() { return getpid(); }
int SlowPlus(int x, int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return x + 1;
}
int SumRefs(std::vector<lumen::ObjectRef<int>> refs) {
  int sum = 0;
  for (auto& r : refs) sum += *lumen::Get(r);
  return sum;
}
// A task that submits tasks and waits for them.
int Fib(int n) {
  if (n < 2) return n;
  auto a = lumen::Task(Fib).Remote(n - 1);
  auto b = lumen::Task(Fib).Remote(n - 2);
  return *lumen::Get(a) + *lumen::Get(b);
}
lumen::ObjectRef<int> MakeRef(int x) { return lumen::Put(x * 2); }
// Writes its pid to `path`, then sleeps: a test kills it meanwhile.
int PidThenSleep(std::string path, int ms) {
  { std::ofstream(path + ".tmp") << getpid(); }
  std::filesystem::rename(path + ".tmp", path);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return 7;
}
// Throws until it has run `failures` times (counted in a file).
int FlakyUntil(std::string path, int failures) {
  int runs = 0;
  { std::ifstream in(path); in >> runs; }
  { std::ofstream(path) << runs + 1; }
  if (runs < failures) throw std::runtime_error("flaky run " + std::to_string(runs));
  return runs;
}
std::vector<double> Ramp(int n) {
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = i;
  return v;
}
double SumVec(std::vector<double> v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

struct Person {
  std::string name;
  int age;
  LUMEN_FIELDS(name, age);
};
Person Older(Person p, int years) { return {p.name, p.age + years}; }

LUMEN_REMOTE(Return1, Plus, Greet, Fail, Pid, SlowPlus, SumRefs, Fib, MakeRef, PidThenSleep, FlakyUntil, Ramp,
             SumVec, Older);

int Unregistered(int x) { return x; }

using TasksTest = ClusterTest;

TEST(BeforeInitTest, CallsBeforeInitSayWhatToDo) {
  try {
    lumen::Task(Return1).Remote();
    FAIL() << "expected lumen::Error";
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("lumen::Init()"), std::string::npos) << e.what();
  }
}

TEST_F(TasksTest, ArgumentsByValueAndByRef) {
  auto r = lumen::Task(Plus).Remote(1, 2);
  EXPECT_EQ(*lumen::Get(r), 3);
  auto r2 = lumen::Task(Plus).Remote(r, 10);
  EXPECT_EQ(*r2.Get(), 13);
  EXPECT_EQ(*lumen::Task(Greet).Remote(std::string("lumen")).Get(), "hello lumen");
  EXPECT_EQ(*lumen::Task(Return1).Remote().Get(), 1);
}

TEST_F(TasksTest, TasksRunInWorkerProcesses) {
  int pid = *lumen::Task(Pid).Remote().Get();
  EXPECT_NE(pid, getpid());
  EXPECT_EQ(kill(pid, 0), 0);
}

TEST_F(TasksTest, UserStructsAndLargeObjects) {
  auto p = lumen::Task(Older).Remote(Person{"ada", 36}, 1);
  EXPECT_EQ(p.Get()->name, "ada");
  EXPECT_EQ(p.Get()->age, 37);
  // 8 MiB: travels through the shared-memory store both ways.
  auto ramp = lumen::Task(Ramp).Remote(1 << 20);
  auto sum = lumen::Task(SumVec).Remote(ramp);
  EXPECT_DOUBLE_EQ(*sum.Get(), (double(1 << 20) - 1) * (1 << 20) / 2);
  EXPECT_EQ(ramp.Get()->size(), size_t{1} << 20);
}

TEST_F(TasksTest, PutGetAndIds) {
  auto o = lumen::Put(std::string("x"));
  EXPECT_EQ(*lumen::Get(o), "x");
  std::string id = o.ID();
  EXPECT_EQ(id.size(), 40u);
  auto same = lumen::ObjectRef<std::string>::FromID(id);
  EXPECT_EQ(*same.Get(), "x");
  EXPECT_THROW(lumen::ObjectRef<int>::FromID("zz"), lumen::Error);
  // Asking for the wrong type is a clear error, not garbage.
  auto wrong = lumen::ObjectRef<int>::FromID(id);
  try {
    wrong.Get();
    FAIL() << "expected lumen::Error";
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("str"), std::string::npos) << e.what();
  }
}

TEST_F(TasksTest, ManyGetsAndWaitKeepOrder) {
  std::vector<lumen::ObjectRef<int>> refs;
  for (int i = 0; i < 100; ++i) refs.push_back(lumen::Task(Plus).Remote(i, 1));
  auto values = lumen::Get(refs);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(*values[i], i + 1);

  std::vector<lumen::ObjectRef<int>> mixed = {lumen::Task(SlowPlus).Remote(0, 3000), lumen::Task(Plus).Remote(1, 1),
                                              lumen::Task(Plus).Remote(2, 2)};
  auto w = lumen::Wait(mixed, 2, 10000);
  ASSERT_EQ(w.ready.size(), 2u);
  ASSERT_EQ(w.unready.size(), 1u);
  EXPECT_EQ(w.ready[0], mixed[1]);
  EXPECT_EQ(w.ready[1], mixed[2]);
  EXPECT_EQ(w.unready[0], mixed[0]);
  auto none = lumen::Wait(mixed, 3, 10);  // times out: returns what is ready
  EXPECT_EQ(none.ready.size(), 2u);
}

TEST_F(TasksTest, GetTimesOut) {
  auto slow = lumen::Task(SlowPlus).Remote(1, 2000);
  EXPECT_THROW(lumen::Get(slow, 50), lumen::GetTimeoutError);
  EXPECT_EQ(*lumen::Get(slow), 2);
}

TEST_F(TasksTest, UserExceptionsBecomeTaskErrorsAndFlow) {
  auto bad = lumen::Task(Fail).Remote(5);
  try {
    bad.Get();
    FAIL() << "expected TaskError";
  } catch (const lumen::TaskError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("Fail"), std::string::npos) << what;
    EXPECT_NE(what.find("std::invalid_argument"), std::string::npos) << what;
    EXPECT_NE(what.find("bad x: 5"), std::string::npos) << what;
  }
  auto dependent = lumen::Task(Plus).Remote(bad, 1);
  EXPECT_THROW(dependent.Get(), lumen::TaskError);
}

TEST_F(TasksTest, UnregisteredFunctionIsAClearError) {
  try {
    lumen::Task(Unregistered).Remote(1);
    FAIL() << "expected lumen::Error";
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("LUMEN_REMOTE"), std::string::npos) << e.what();
  }
}

TEST_F(TasksTest, InfeasibleResourcesAreRefusedAtRemote) {
  try {
    lumen::Task(Return1).SetResource("GPU", 1).Remote();
    FAIL() << "expected lumen::InfeasibleError";
  } catch (const lumen::InfeasibleError& e) {
    EXPECT_NE(std::string(e.what()).find("GPU: 1"), std::string::npos) << e.what();
  }
}

TEST_F(TasksTest, SchedulingStrategies) {
  std::string node = lumen::GetClusterInfo().node_name;
  using S = lumen::SchedulingStrategy;
  EXPECT_EQ(*lumen::Task(Return1).SetSchedulingStrategy(S::Default()).Remote().Get(), 1);
  EXPECT_EQ(*lumen::Task(Return1).SetSchedulingStrategy(S::Spread()).Remote().Get(), 1);
  EXPECT_EQ(*lumen::Task(Return1).SetSchedulingStrategy(S::NodeAffinity(node)).Remote().Get(), 1);
  EXPECT_EQ(*lumen::Task(Return1).SetSchedulingStrategy(S::NodeAffinity("elsewhere", true)).Remote().Get(), 1);
  try {
    lumen::Task(Return1).SetSchedulingStrategy(S::NodeAffinity("elsewhere")).Remote().Get(5000);
    FAIL() << "expected lumen::Error";
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("elsewhere"), std::string::npos) << e.what();
  }
}

TEST_F(TasksTest, TasksSubmitTasks) {
  // Fib(8) blocks workers in Get while their children run: the node must
  // start workers beyond the two CPUs rather than deadlock.
  EXPECT_EQ(*lumen::Task(Fib).Remote(8).Get(30000), 21);
}

TEST_F(TasksTest, RefsNestedInArgumentsAndResults) {
  std::vector<lumen::ObjectRef<int>> refs;
  for (int i = 0; i < 10; ++i) refs.push_back(lumen::Put(i));
  EXPECT_EQ(*lumen::Task(SumRefs).Remote(refs).Get(), 45);
  auto outer = lumen::Task(MakeRef).Remote(21);
  lumen::ObjectRef<int> inner = *outer.Get();
  EXPECT_EQ(*inner.Get(), 42);
}

TEST_F(TasksTest, CancelQueuedTask) {
  // Occupy both workers, then cancel a task still in the queue.
  std::vector<lumen::ObjectRef<int>> busy;
  for (int i = 0; i < 2 * 8; ++i) busy.push_back(lumen::Task(SlowPlus).Remote(i, 100));
  auto victim = lumen::Task(SlowPlus).Remote(0, 100);
  lumen::Cancel(victim);
  EXPECT_THROW(victim.Get(), lumen::TaskCancelledError);
  lumen::Get(busy);
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "-" + std::to_string(getpid()))).string();
}

pid_t WaitForPidFile(const std::string& path) {
  for (int i = 0; i < 10000; ++i) {  // bounded: 10 s
    std::ifstream in(path);
    pid_t pid = 0;
    if (in >> pid && pid > 0) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return -1;
}

TEST_F(TasksTest, KilledWorkerIsReplacedAndTaskRetried) {
  std::string path = TempPath("lumen-kill");
  std::filesystem::remove(path);
  auto r = lumen::Task(PidThenSleep).Remote(path, 500);
  pid_t victim = WaitForPidFile(path);
  ASSERT_GT(victim, 0);
  std::filesystem::remove(path);
  uint64_t noticed_by_caf = lumen::GetClusterInfo().worker_deaths_seen_by_caf;
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  EXPECT_EQ(*r.Get(30000), 7);  // the retry ran elsewhere
  EXPECT_EQ(lumen::GetClusterInfo().worker_deaths_seen_by_caf, noticed_by_caf + 1);
  pid_t second = WaitForPidFile(path);
  EXPECT_NE(second, victim);
  std::filesystem::remove(path);
  // The pool is whole again.
  EXPECT_EQ(*lumen::Task(Plus).Remote(2, 2).Get(10000), 4);
}

TEST_F(TasksTest, KilledWorkerWithoutRetriesGivesWorkerCrashedError) {
  std::string path = TempPath("lumen-kill0");
  std::filesystem::remove(path);
  auto r = lumen::Task(PidThenSleep).SetMaxRetries(0).Remote(path, 5000);
  pid_t victim = WaitForPidFile(path);
  ASSERT_GT(victim, 0);
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  EXPECT_THROW(r.Get(30000), lumen::WorkerCrashedError);
  std::filesystem::remove(path);
}

TEST_F(TasksTest, ExceptionsRetriedOnlyWhenAsked) {
  std::string path = TempPath("lumen-flaky");
  std::filesystem::remove(path);
  EXPECT_THROW(lumen::Task(FlakyUntil).Remote(path, 2).Get(), lumen::TaskError);
  std::filesystem::remove(path);
  EXPECT_EQ(*lumen::Task(FlakyUntil).SetRetryExceptions(true).SetMaxRetries(3).Remote(path, 2).Get(), 2);
  std::filesystem::remove(path);
}

}  // namespace

namespace {

double SumView(std::vector<lumen::ObjectRef<std::vector<double>>> refs) {
  // Inside a worker: a view of an object in the shared store, no copy.
  auto view = lumen::GetView(refs[0]);
  double s = 0;
  for (double x : view.span()) s += x;
  return s;
}
LUMEN_REMOTE(SumView);

TEST_F(TasksTest, GetViewReadsInPlace) {
  std::vector<double> values(1 << 20);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i % 7);
  auto ref = lumen::Put(values);
  auto a = lumen::GetView(ref);
  auto b = lumen::GetView(ref);
  ASSERT_EQ(a.span().size(), values.size());
  EXPECT_EQ(a.span().data(), b.span().data());  // both read the same bytes: no copy
  EXPECT_TRUE(std::equal(values.begin(), values.end(), a.span().begin()));
  double expected = std::accumulate(values.begin(), values.end(), 0.0);
  EXPECT_DOUBLE_EQ(*lumen::Task(SumView).Remote(std::vector{ref}).Get(), expected);
  // Small objects live inline; views work the same.
  auto small = lumen::Put(std::vector<int>{1, 2, 3});
  EXPECT_EQ(lumen::GetView(small).span()[2], 3);
  // A view of the wrong kind of object is a clear error.
  auto text = lumen::Put(std::vector<int>{1});
  EXPECT_THROW(lumen::GetView(lumen::ObjectRef<std::vector<double>>::FromID(text.ID())).span(), lumen::Error);
}

}  // namespace
