// Actors across real processes: order, handles, names, kills and restarts.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "cluster_fixture.h"
#include "lumen/api.h"

namespace {

class Counter {
 public:
  explicit Counter(int start) : value_(start) {}
  static Counter* FactoryCreate() { return new Counter(0); }
  static Counter* FactoryCreate(int start) { return new Counter(start); }
  static Counter* Broken(int) { throw std::runtime_error("no counter today"); }
  int Add(int x) { return value_ += x; }
  int Get() const { return value_; }
  int Pid() { return getpid(); }
  int Fail(int) { throw std::logic_error("method failed"); }
  int SlowAdd(int x, int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return value_ += x;
  }
  bool Restarted() { return lumen::WasCurrentActorRestarted(); }
  int Quit() { lumen::ExitActor(); }
  // Records how many calls run at once (max_concurrency).
  int Overlap(int ms) {
    int now = ++running_;
    int seen = max_seen_.load();
    while (now > seen && !max_seen_.compare_exchange_weak(seen, now)) {}
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    --running_;
    return max_seen_;
  }

 private:
  int value_;
  std::atomic<int> running_{0};
  std::atomic<int> max_seen_{0};
};

LUMEN_REMOTE(LUMEN_FUNC(Counter::FactoryCreate), LUMEN_FUNC(Counter::FactoryCreate, int), Counter::Broken,
             &Counter::Add, &Counter::Get, &Counter::Pid, &Counter::Fail, &Counter::SlowAdd, &Counter::Restarted,
             &Counter::Quit, &Counter::Overlap);

// Tasks that use actor handles.
int AddThroughTask(lumen::ActorHandle<Counter> counter, int x) { return *counter.Task(&Counter::Add).Remote(x).Get(); }
lumen::ActorHandle<Counter> MakeCounter(int start) {
  return lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).Remote(start);
}
// Creates an actor from inside a task; returns it with the creating worker's pid.
std::pair<lumen::ActorHandle<Counter>, int> MakeOwnedCounter(bool detached) {
  auto creator = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int));
  if (detached) creator.SetLifetime(lumen::ActorLifetime::DETACHED);
  return {creator.Remote(1), getpid()};
}
LUMEN_REMOTE(AddThroughTask, MakeCounter, MakeOwnedCounter);

// Waits (bounded) until the node has noticed one more worker death.
void AwaitDeathNoticed(uint64_t before) {
  for (int i = 0; i < 5000 && lumen::GetClusterInfo().worker_deaths_seen_by_caf <= before; ++i) usleep(1000);
}

using ActorsTest = ClusterTest;

TEST_F(ActorsTest, CallsFromOneCallerRunInOrder) {
  auto counter = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).Remote(10);
  std::vector<lumen::ObjectRef<int>> sums;
  for (int i = 1; i <= 50; ++i) sums.push_back(counter.Task(&Counter::Add).Remote(i));
  int expected = 10;
  for (int i = 1; i <= 50; ++i) EXPECT_EQ(*sums[i - 1].Get(), expected += i);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), expected);
  int pid = *counter.Task(&Counter::Pid).Remote().Get();
  EXPECT_NE(pid, getpid());
  EXPECT_EQ(counter.ID().size(), 32u);
  auto zero = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate)).Remote();
  EXPECT_EQ(*zero.Task(&Counter::Add).Remote(1).Get(), 1);
}

TEST_F(ActorsTest, ArgumentsByRefAndHandlesPassedAndReturned) {
  auto start = lumen::Put(100);
  auto counter = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).Remote(start);
  auto delta = lumen::Put(5);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(delta).Get(), 105);
  EXPECT_EQ(*lumen::Task(AddThroughTask).Remote(counter, 1).Get(), 106);  // a handle as an argument
  lumen::ActorHandle<Counter> made = *lumen::Task(MakeCounter).Remote(7).Get();  // returned from a task
  EXPECT_EQ(*made.Task(&Counter::Add).Remote(1).Get(), 8);
}

TEST_F(ActorsTest, NamedActorsAndNamespaces) {
  auto a = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).SetName("named").Remote(1);
  auto found = lumen::GetActor<Counter>("named");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->ID(), a.ID());
  EXPECT_EQ(*found->Task(&Counter::Get).Remote().Get(), 1);
  try {
    lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).SetName("named").Remote(2);
    FAIL() << "expected lumen::Error";
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
  }
  auto other = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).SetName("named", "elsewhere").Remote(2);
  EXPECT_EQ(lumen::GetActor<Counter>("named", "elsewhere")->ID(), other.ID());
  EXPECT_EQ(lumen::GetActor<Counter>("named")->ID(), a.ID());
  EXPECT_FALSE(lumen::GetActor<Counter>("nobody").has_value());
  a.Kill();
  EXPECT_FALSE(lumen::GetActor<Counter>("named").has_value());
}

TEST_F(ActorsTest, ExceptionsDoNotKillTheActor) {
  auto counter = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).Remote(1);
  EXPECT_THROW(counter.Task(&Counter::Fail).Remote(0).Get(), lumen::TaskError);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(), 2);  // state kept
}

TEST_F(ActorsTest, FactoryThatThrowsMakesADeadActor) {
  auto broken = lumen::Actor(Counter::Broken).Remote(1);
  try {
    broken.Task(&Counter::Get).Remote().Get(10000);
    FAIL() << "expected ActorDiedError";
  } catch (const lumen::ActorDiedError& e) {
    EXPECT_NE(std::string(e.what()).find("no counter today"), std::string::npos) << e.what();
  }
}

TEST_F(ActorsTest, KillEndsItForGood) {
  auto counter = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).SetMaxRestarts(5).Remote(1);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), 1);
  counter.Kill();
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(counter.Task(&Counter::Get).Remote().Get(10000), lumen::ActorDiedError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));  // at once, not a stall
}

TEST_F(ActorsTest, ExitActorEndsTheActor) {
  auto counter = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).SetMaxRestarts(3).Remote(1);
  EXPECT_THROW(counter.Task(&Counter::Quit).Remote().Get(10000), lumen::ActorDiedError);
  EXPECT_THROW(counter.Task(&Counter::Get).Remote().Get(10000), lumen::ActorDiedError);
  EXPECT_THROW(lumen::ExitActor(), lumen::Error);  // not in an actor
}

TEST_F(ActorsTest, SigkillRestartsTheActor) {
  auto counter = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).SetMaxRestarts(1).Remote(10);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(5).Get(), 15);
  EXPECT_FALSE(*counter.Task(&Counter::Restarted).Remote().Get());
  int pid = *counter.Task(&Counter::Pid).Remote().Get();
  uint64_t caf_before = lumen::GetClusterInfo().worker_deaths_seen_by_caf;
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  AwaitDeathNoticed(caf_before);  // a call sent before that would be lost with the process
  // The factory runs again with its original argument: the state starts over.
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(10000), 11);
  EXPECT_TRUE(*counter.Task(&Counter::Restarted).Remote().Get());
  EXPECT_NE(*counter.Task(&Counter::Pid).Remote().Get(), pid);
  EXPECT_EQ(lumen::GetClusterInfo().worker_deaths_seen_by_caf, caf_before + 1);
  // Restarts spent: the next death is final, and calls fail at once.
  ASSERT_EQ(kill(*counter.Task(&Counter::Pid).Remote().Get(), SIGKILL), 0);
  EXPECT_THROW(counter.Task(&Counter::Get).Remote().Get(10000), lumen::ActorDiedError);
}

TEST_F(ActorsTest, InFlightCallsAreRetriedOnlyWhenAsked) {
  auto retried = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).SetMaxRestarts(1).SetMaxTaskRetries(1).Remote(0);
  auto plain = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).SetMaxRestarts(1).Remote(0);
  for (auto* actor : {&retried, &plain}) {
    int pid = *actor->Task(&Counter::Pid).Remote().Get();
    auto slow = actor->Task(&Counter::SlowAdd).Remote(1, 1000);
    auto after = actor->Task(&Counter::Add).Remote(10);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the slow call start
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    if (actor == &retried) {
      EXPECT_EQ(*slow.Get(10000), 1);  // re-sent to the new incarnation, in order
      EXPECT_EQ(*after.Get(10000), 11);
    } else {  // both calls were sent to the process that died
      EXPECT_THROW(slow.Get(10000), lumen::ActorDiedError);
      EXPECT_THROW(after.Get(10000), lumen::ActorDiedError);
      EXPECT_EQ(*actor->Task(&Counter::Add).Remote(10).Get(10000), 10);  // the new incarnation answers
    }
  }
}

TEST_F(ActorsTest, KillWithRestartAllowed) {
  auto counter = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).SetMaxRestarts(1).Remote(3);
  int pid = *counter.Task(&Counter::Pid).Remote().Get();
  counter.Kill(/*no_restart=*/false);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(10000), 3);
  EXPECT_NE(*counter.Task(&Counter::Pid).Remote().Get(), pid);
}

TEST_F(ActorsTest, MaxConcurrencyRunsCallsAtOnce) {
  auto serial = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).Remote(0);
  auto parallel = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).SetMaxConcurrency(4).Remote(0);
  std::vector<lumen::ObjectRef<int>> a, b;
  for (int i = 0; i < 4; ++i) {
    a.push_back(serial.Task(&Counter::Overlap).Remote(100));
    b.push_back(parallel.Task(&Counter::Overlap).Remote(100));
  }
  int max_serial = 0, max_parallel = 0;
  for (auto& r : lumen::Get(a)) max_serial = std::max(max_serial, *r);
  for (auto& r : lumen::Get(b)) max_parallel = std::max(max_parallel, *r);
  EXPECT_EQ(max_serial, 1);
  EXPECT_GE(max_parallel, 2);
}

}  // namespace

namespace {

TEST_F(ActorsTest, NonDetachedActorsDieWithTheirCreator) {
  auto owned = *lumen::Task(MakeOwnedCounter).Remote(false).Get();
  auto detached = *lumen::Task(MakeOwnedCounter).Remote(true).Get();
  EXPECT_EQ(*owned.first.Task(&Counter::Get).Remote().Get(), 1);
  EXPECT_EQ(*detached.first.Task(&Counter::Get).Remote().Get(), 1);
  uint64_t before = lumen::GetClusterInfo().worker_deaths_seen_by_caf;
  ASSERT_EQ(kill(owned.second, SIGKILL), 0);
  uint64_t kills = 1;
  if (detached.second != owned.second) {
    ASSERT_EQ(kill(detached.second, SIGKILL), 0);
    ++kills;
  }
  AwaitDeathNoticed(before + kills - 1);
  EXPECT_THROW(owned.first.Task(&Counter::Get).Remote().Get(10000), lumen::ActorDiedError);
  EXPECT_EQ(*detached.first.Task(&Counter::Get).Remote().Get(10000), 1);  // outlives its creator
}

}  // namespace

namespace {

TEST_F(ActorsTest, ActorsOutliveTheThreadThatCreatedThem) {
  // Workers are forked by the node manager's own thread: a parent-death
  // signal tied to this short-lived thread would kill the actor on its exit.
  lumen::ActorHandle<Counter> counter;
  int pid = 0;
  std::thread creator([&] {
    counter = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).Remote(5);
    pid = *counter.Task(&Counter::Pid).Remote().Get();
  });
  creator.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a death signal would have landed by now
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(10000), 5);
  EXPECT_EQ(*counter.Task(&Counter::Pid).Remote().Get(), pid);
}

}  // namespace

namespace {

// replay_on_restart: the new incarnation re-runs every call it had run, in
// order, before new ones (failed before its fix: the state was reset).
class Ledger {
 public:
  static Ledger* Make(int start) { return new Ledger{start, {}}; }
  int Add(int x) {
    entries_.push_back(x);
    return total_ += x;
  }
  std::vector<int> Entries() { return entries_; }
  int Pid() { return getpid(); }
  int total_;
  std::vector<int> entries_;
};
LUMEN_REMOTE(Ledger::Make, &Ledger::Add, &Ledger::Entries, &Ledger::Pid);

class ReplayTest : public ClusterTest {};

TEST_F(ReplayTest, ARestartedActorReplaysItsCallsInOrder) {
  auto ledger = lumen::Actor(Ledger::Make).SetMaxRestarts(1).SetReplayOnRestart(true).Remote(100);
  for (int x : {1, 2, 3, 4}) ledger.Task(&Ledger::Add).Remote(x).Get(30000);
  int pid = *ledger.Task(&Ledger::Pid).Remote().Get(30000);
  KillAndAwaitDeath(pid);
  EXPECT_EQ(*ledger.Task(&Ledger::Add).Remote(5).Get(30000), 115);
  EXPECT_EQ(*ledger.Task(&Ledger::Entries).Remote().Get(30000), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_NE(*ledger.Task(&Ledger::Pid).Remote().Get(30000), pid);
}

TEST_F(ReplayTest, WithoutReplayARestartedActorStartsAfresh) {
  auto ledger = lumen::Actor(Ledger::Make).SetMaxRestarts(1).Remote(100);
  ledger.Task(&Ledger::Add).Remote(1).Get(30000);
  int pid = *ledger.Task(&Ledger::Pid).Remote().Get(30000);
  KillAndAwaitDeath(pid);
  EXPECT_EQ(*ledger.Task(&Ledger::Add).Remote(5).Get(30000), 105);
}

}  // namespace
