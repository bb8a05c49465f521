// Actors on the nodes of a cluster: an actor that needs what only a node
// has (here a custom resource) lives on that node, the head its caller; its
// calls from drivers and workers go there and their results come back; it
// holds its resources there until it is killed or its job ends; its name is
// known cluster-wide; and when its node is killed it restarts on another
// (retrying, replaying), or dies naming why. Where an actor runs is its
// process's parent: the node daemon that started it.
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "counter.h"
#include "head_daemon.h"
#include "second_driver.h"

namespace lumen::testing {
namespace {

using namespace std::chrono_literals;

class Roamer {
 public:
  static Roamer* Create(int start) { return new Roamer(start); }
  static Roamer* Restore(int state) {
    Roamer* r = new Roamer(state);
    r->restored_ = true;
    return r;
  }
  int Snapshot() const { return value_; }
  bool Restored() { return restored_; }
  int Add(int x) { return value_ += x; }
  int Pid() { return static_cast<int>(::getpid()); }
  int NodePid() { return static_cast<int>(::getppid()); }
  // Says it started (creates `marker`), then runs for `ms`.
  int NodePidAfterStarting(std::string marker, int ms) {
    std::ofstream(marker).put('x');
    ::usleep(static_cast<useconds_t>(ms) * 1000);
    return NodePid();
  }
  std::string Gpus() {
    std::string ids;
    for (int id : lumen::GetGpuIds()) ids += (ids.empty() ? "" : ",") + std::to_string(id);
    const char* env = std::getenv("CUDA_VISIBLE_DEVICES");
    return "ids=" + ids + " env=" + (env ? env : "-");
  }
  double Sum(std::vector<double> v) { return ::Sum(std::move(v)) + value_; }
  std::vector<double> Halves(int n) { return ::Halves(n); }

 private:
  explicit Roamer(int start) : value_(start) {}
  int value_;
  bool restored_ = false;  // made from a checkpoint
};

int AddThroughTask(lumen::ActorHandle<Roamer> roamer, int x) { return *roamer.Task(&Roamer::Add).Remote(x).Get(); }

LUMEN_REMOTE(Roamer::Create, Roamer::Restore, &Roamer::Snapshot, &Roamer::Restored, &Roamer::Add, &Roamer::Pid, &Roamer::NodePid, &Roamer::NodePidAfterStarting,
             &Roamer::Gpus, &Roamer::Sum, &Roamer::Halves, AddThroughTask);

pid_t ParentOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  auto close = line.rfind(')');
  return close == std::string::npos ? -1 : std::atoi(line.c_str() + close + 4);  // ") S PPID"
}

constexpr int64_t kBound = 30000;  // ms: a call that takes longer is a hang

class ActorsOnNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(head_.start().status, 0) << head_.start().out;
    ASSERT_EQ(red_.start().status, 0) << red_.start().out;
    lumen::Config config;
    config.address = head_.address();
    lumen::Init(config);
  }
  void TearDown() override {
    lumen::Shutdown();
    for (pid_t pid : {red_.pid(), head_.pid()})  // both at once; each destructor then waits
      if (pid > 0) ::kill(pid, SIGTERM);
  }

  HeadDaemon head_;  // 2 CPUs, no "red", no GPU
  NodeDaemon red_{head_, "--num-cpus 1 --resources '{\"red\": 2, \"GPU\": 1}'"};
};

TEST_F(ActorsOnNodes, AnActorNeedingANodesResourceLivesThereAndServesCallsFromAnywhere) {
  auto roamer = lumen::Actor(Roamer::Create).SetResource("red", 1).Remote(10);
  EXPECT_EQ(*lumen::Get(roamer.Task(&Roamer::NodePid).Remote(), kBound), red_.pid());
  auto fifteen = roamer.Task(&Roamer::Add).Remote(5);
  EXPECT_EQ(*lumen::Get(lumen::Task(Square).Remote(fifteen), kBound), 225);                      // an argument here
  EXPECT_EQ(*lumen::Get(lumen::Task(Square).SetResource("red", 0.5).Remote(fifteen), kBound), 225);  // and there
  EXPECT_EQ(*lumen::Get(lumen::Task(AddThroughTask).Remote(roamer, 1), kBound), 16);  // from a worker of the head
  // Objects through the stores, both ways: a 4 MiB argument, an 8 MiB result.
  std::vector<double> big(size_t{1} << 19, 0.25);
  EXPECT_EQ(*lumen::Get(roamer.Task(&Roamer::Sum).Remote(lumen::Put(big)), kBound), 0.25 * (1 << 19) + 16);
  // One object for an actor call and a task on its node at once: both wait for its one copy there.
  for (int i = 0; i < 3; ++i) {
    auto shared = lumen::Put(big);
    auto by_task = lumen::Task(Sum).SetResource("red", 1).Remote(shared);
    auto by_actor = roamer.Task(&Roamer::Sum).Remote(shared);
    EXPECT_EQ(*lumen::Get(by_task, kBound), 0.25 * (1 << 19));
    EXPECT_EQ(*lumen::Get(by_actor, kBound), 0.25 * (1 << 19) + 16);
  }
  auto halves = roamer.Task(&Roamer::Halves).Remote(1 << 20);
  EXPECT_EQ(*lumen::Get(lumen::Task(Sum).Remote(halves), kBound), 0.5 * (1 << 20));
  // Calls run in submission order.
  std::vector<lumen::ObjectRef<int>> adds;
  for (int i = 0; i < 50; ++i) adds.push_back(roamer.Task(&Roamer::Add).Remote(1));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(*lumen::Get(adds[i], kBound), 17 + i);
  EXPECT_NE(head_.Log().find("is placed on node"), std::string::npos) << head_.Log();
}

TEST_F(ActorsOnNodes, ActorsUseTheCpusOfOtherNodesOnceTheHeadsAreHeld) {
  auto first = lumen::Actor(Roamer::Create).SetResource("CPU", 1).Remote(0);
  auto second = lumen::Actor(Roamer::Create).SetResource("CPU", 1).Remote(0);
  auto third = lumen::Actor(Roamer::Create).SetResource("CPU", 1).Remote(0);
  EXPECT_EQ(*lumen::Get(first.Task(&Roamer::NodePid).Remote(), kBound), head_.pid());
  EXPECT_EQ(*lumen::Get(second.Task(&Roamer::NodePid).Remote(), kBound), head_.pid());
  EXPECT_EQ(*lumen::Get(third.Task(&Roamer::NodePid).Remote(), kBound), red_.pid());
}

TEST_F(ActorsOnNodes, SpreadActorsTakeTheNodesInTurn) {
  std::vector<lumen::ActorHandle<Roamer>> roamers;
  for (int i = 0; i < 4; ++i)
    roamers.push_back(
        lumen::Actor(Roamer::Create).SetSchedulingStrategy(lumen::SchedulingStrategy::Spread()).Remote(i));
  std::multiset<int> nodes;
  for (auto& roamer : roamers) nodes.insert(*lumen::Get(roamer.Task(&Roamer::NodePid).Remote(), kBound));
  EXPECT_EQ(nodes.count(head_.pid()), 2u);
  EXPECT_EQ(nodes.count(red_.pid()), 2u);
}

TEST_F(ActorsOnNodes, AGpuActorLivesOnTheNodeWithTheGpuAndGetsItsId) {
  auto gpu = lumen::Actor(Roamer::Create).SetResource("GPU", 1).Remote(0);
  EXPECT_EQ(*lumen::Get(gpu.Task(&Roamer::Gpus).Remote(), kBound), "ids=0 env=0");
  EXPECT_EQ(*lumen::Get(gpu.Task(&Roamer::NodePid).Remote(), kBound), red_.pid());
}

// A bundle holds its node's GPU id; an actor of the bundle gets it, and the
// next one gets it back once the first is gone.
TEST_F(ActorsOnNodes, AnActorInABundleWithAGpuGetsTheBundlesId) {
  auto pg = lumen::CreatePlacementGroup({"", {{{"GPU", 1}}}, lumen::PlacementStrategy::STRICT_PACK});
  ASSERT_TRUE(pg.Wait(20));
  auto first = lumen::Actor(Roamer::Create).SetPlacementGroup(pg, 0).SetResource("GPU", 1).Remote(0);
  EXPECT_EQ(*lumen::Get(first.Task(&Roamer::Gpus).Remote(), kBound), "ids=0 env=0");
  EXPECT_EQ(*lumen::Get(first.Task(&Roamer::NodePid).Remote(), kBound), red_.pid());
  first.Kill();
  auto second = lumen::Actor(Roamer::Create).SetPlacementGroup(pg, -1).SetResource("GPU", 1).Remote(0);
  EXPECT_EQ(*lumen::Get(second.Task(&Roamer::Gpus).Remote(), kBound), "ids=0 env=0");
  lumen::RemovePlacementGroup(pg.GetID());
}

TEST_F(ActorsOnNodes, AnActorNeedingWhatNoNodeHasWaitsForANodeThatHasIt) {
  auto purple = lumen::Actor(Roamer::Create).SetResource("purple", 1).Remote(0);
  auto where = purple.Task(&Roamer::NodePid).Remote();
  EXPECT_THROW(lumen::Get(where, /*timeout_ms=*/300), lumen::GetTimeoutError);
  NodeDaemon late{head_, "--num-cpus 1 --resources '{\"purple\": 1}'"};
  ASSERT_EQ(late.start().status, 0) << late.start().out;
  EXPECT_EQ(*lumen::Get(where, kBound), late.pid());
}

TEST_F(ActorsOnNodes, ItsNodeRestartsItsProcessWithinItsRestartsThenItIsDeadAndFreed) {
  auto roamer = lumen::Actor(Roamer::Create).SetResource("red", 1).SetMaxRestarts(2).SetMaxTaskRetries(1).Remote(0);
  pid_t first = *lumen::Get(roamer.Task(&Roamer::Pid).Remote(), kBound);
  ASSERT_EQ(ParentOf(first), red_.pid());
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  pid_t second = *lumen::Get(roamer.Task(&Roamer::Pid).Remote(), kBound);
  EXPECT_NE(second, first);
  EXPECT_EQ(ParentOf(second), red_.pid());
  roamer.Kill(/*no_restart=*/false);  // killed there, and restarted there
  EXPECT_TRUE(Eventually([&] { return !Alive(second); }, 10s));
  pid_t third = *lumen::Get(roamer.Task(&Roamer::Pid).Remote(), kBound);
  EXPECT_NE(third, second);
  EXPECT_EQ(ParentOf(third), red_.pid());
  ASSERT_EQ(::kill(third, SIGKILL), 0);
  try {
    lumen::Get(roamer.Task(&Roamer::Pid).Remote(), kBound);
    ADD_FAILURE() << "an actor whose restarts are spent answered";
  } catch (const lumen::ActorDiedError& e) {
    EXPECT_NE(std::string(e.what()).find("restarts are spent"), std::string::npos) << e.what();
  }
  // Dead here too: what it held on its node is free for the next one.
  auto whole = lumen::Actor(Roamer::Create).SetResource("red", 2).Remote(0);
  EXPECT_EQ(*lumen::Get(whole.Task(&Roamer::NodePid).Remote(), kBound), red_.pid());
}

TEST_F(ActorsOnNodes, ItHoldsItsResourcesThereUntilKilledAndThenItsProcessGoes) {
  auto whole = lumen::Actor(Roamer::Create).SetResource("red", 2).Remote(0);
  pid_t whole_pid = *lumen::Get(whole.Task(&Roamer::Pid).Remote(), kBound);
  EXPECT_EQ(ParentOf(whole_pid), red_.pid());
  auto second = lumen::Actor(Roamer::Create).SetResource("red", 1).Remote(0);
  auto where = second.Task(&Roamer::NodePid).Remote();
  EXPECT_THROW(lumen::Get(where, /*timeout_ms=*/500), lumen::GetTimeoutError);  // "red" is all held
  whole.Kill();
  EXPECT_EQ(*lumen::Get(where, kBound), red_.pid());  // freed for it
  EXPECT_TRUE(Eventually([&] { return !Alive(whole_pid); }, 10s));
  try {
    lumen::Get(whole.Task(&Roamer::Add).Remote(1), kBound);
    ADD_FAILURE() << "a killed actor answered";
  } catch (const lumen::ActorDiedError& e) {
    EXPECT_NE(std::string(e.what()).find("Kill"), std::string::npos) << e.what();
  }
}

TEST_F(ActorsOnNodes, TheEndOfItsJobEndsItOnItsNodeAndFreesWhatItHeld) {
  auto mine = lumen::Actor(Roamer::Create).SetResource("red", 2).Remote(0);
  pid_t pid = *lumen::Get(mine.Task(&Roamer::Pid).Remote(), kBound);
  EXPECT_EQ(ParentOf(pid), red_.pid());
  lumen::Shutdown();
  EXPECT_TRUE(Eventually([&] { return !Alive(pid); }, 10s)) << "its process outlived its job";
  lumen::Config config;
  config.address = head_.address();
  lumen::Init(config);  // a new job: all of "red" is free again
  auto next = lumen::Actor(Roamer::Create).SetResource("red", 2).Remote(0);
  EXPECT_EQ(*lumen::Get(next.Task(&Roamer::NodePid).Remote(), kBound), red_.pid());
}

TEST_F(ActorsOnNodes, ANamedDetachedActorOnANodeOutlivesItsCreatorAndAnotherDriverFindsIt) {
  SecondDriver other = SecondDriver::Start(head_.address(), {"KEEPER_RESOURCE=red"});
  ASSERT_GT(other.actor_pid, 0) << "the second driver did not report READY";
  ASSERT_EQ(::kill(other.pid, SIGKILL), 0);
  ::waitpid(other.pid, nullptr, 0);
  ::close(other.stdin_fd);
  EXPECT_TRUE(Eventually([&] { return !Alive(other.actor_pid); }, 10s));  // its own actor goes, not the keeper
  auto keeper = lumen::GetActor<Counter>("keeper", "shared");
  ASSERT_TRUE(keeper.has_value());
  EXPECT_EQ(*lumen::Get(keeper->Task(&Counter::Add).Remote(1), kBound), 106);  // state and all
  pid_t keeper_pid = *lumen::Get(keeper->Task(&Counter::Pid).Remote(), kBound);
  EXPECT_EQ(ParentOf(keeper_pid), red_.pid());
  keeper->Kill();
  EXPECT_TRUE(Eventually([&] { return !Alive(keeper_pid); }, 10s));
  EXPECT_FALSE(lumen::GetActor<Counter>("keeper", "shared").has_value());
}

TEST(ActorListTest, LumenListActorsNamesTheNodeEachActorLivesOn) {
  HeadDaemon head("", /*dashboard=*/true);
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  NodeDaemon red(head, "--num-cpus 1 --resources '{\"red\": 1}'");
  ASSERT_EQ(red.start().status, 0) << red.start().out;
  lumen::Config config;
  config.address = head.address();
  lumen::Init(config);
  auto there = lumen::Actor(Roamer::Create).SetName("lives-there").SetResource("red", 1).Remote(0);
  auto here = lumen::Actor(Roamer::Create).SetName("lives-here").Remote(0);
  ASSERT_EQ(*lumen::Get(there.Task(&Roamer::NodePid).Remote(), kBound), red.pid());
  ASSERT_EQ(*lumen::Get(here.Task(&Roamer::NodePid).Remote(), kBound), head.pid());
  ASSERT_FALSE(head.dashboard_url().empty()) << head.start().out;
  ShellRun list = Shell(std::string(LUMEN_CLI_PATH) + " list actors --address " + head.dashboard_url());
  ASSERT_EQ(list.status, 0) << list.out;
  auto line_of = [&](const std::string& name) {
    size_t at = list.out.find(name);
    if (at == std::string::npos) return std::string();
    size_t begin = list.out.rfind('\n', at) + 1, end = list.out.find('\n', at);
    return list.out.substr(begin, end - begin);
  };
  EXPECT_NE(line_of("lives-there").find(red.name()), std::string::npos) << list.out;
  EXPECT_EQ(line_of("lives-here").find(red.name()), std::string::npos) << list.out;
  lumen::Shutdown();
}

// Two nodes that both have "green": an actor on one, which is killed.
class ActorsWhoseNodeDies : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(head_.start().status, 0) << head_.start().out;
    ASSERT_EQ(green_.start().status, 0) << green_.start().out;
    ASSERT_EQ(green2_.start().status, 0) << green2_.start().out;
    lumen::Config config;
    config.address = head_.address();
    lumen::Init(config);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    lumen::Shutdown();
    for (pid_t pid : {green_.pid(), green2_.pid(), head_.pid()})
      if (pid > 0 && Alive(pid)) ::kill(pid, SIGTERM);
    std::filesystem::remove_all(dir_);
  }
  // Kills the node that hosts the actor whose node pid is `host`; the other's pid.
  pid_t KillHost(pid_t host) {
    EXPECT_TRUE(host == green_.pid() || host == green2_.pid()) << host;
    EXPECT_EQ(::kill(host, SIGKILL), 0);
    return host == green_.pid() ? green2_.pid() : green_.pid();
  }

  HeadDaemon head_;
  NodeDaemon green_{head_, "--num-cpus 1 --resources '{\"green\": 1}'"};
  NodeDaemon green2_{head_, "--num-cpus 1 --resources '{\"green\": 1}'"};
  std::string dir_ = "/tmp/lumen-actors-test-" + std::to_string(::getpid());
};

TEST_F(ActorsWhoseNodeDies, ItRestartsOnAnotherAndItsCallInFlightIsRetried) {
  auto roamer =
      lumen::Actor(Roamer::Create).SetResource("green", 1).SetMaxRestarts(1).SetMaxTaskRetries(1).Remote(0);
  pid_t host = *lumen::Get(roamer.Task(&Roamer::NodePid).Remote(), kBound);
  std::string marker = dir_ + "/started";
  auto slow = roamer.Task(&Roamer::NodePidAfterStarting).Remote(marker, 2000);
  ASSERT_TRUE(Eventually([&] { return std::filesystem::exists(marker); }, 20s));
  pid_t other = KillHost(host);
  EXPECT_EQ(*lumen::Get(slow, kBound), other);  // run again there
  EXPECT_EQ(*lumen::Get(roamer.Task(&Roamer::Add).Remote(2), kBound), 2);  // a new instance: no replay asked
}

TEST_F(ActorsWhoseNodeDies, ReplayBringsItsStateToTheNewNodeFromItsCheckpointToo) {
  // Half of "green" each, so both live on one node and move to the other.
  auto replayed = lumen::Actor(Roamer::Create)
                      .SetResource("green", 0.5)
                      .SetMaxRestarts(1)
                      .SetMaxTaskRetries(1)  // the next call may leave before the head sees the node go
                      .SetReplayOnRestart(true)
                      .Remote(100);
  auto saved = lumen::Actor(Roamer::Create)
                   .SetResource("green", 0.5)
                   .SetMaxRestarts(1)
                   .SetMaxTaskRetries(1)
                   .SetCheckpoint(&Roamer::Snapshot, Roamer::Restore, 2)
                   .Remote(200);
  for (int i = 1; i <= 5; ++i) {
    lumen::Get(replayed.Task(&Roamer::Add).Remote(i), kBound);
    lumen::Get(saved.Task(&Roamer::Add).Remote(i), kBound);
  }
  pid_t host = *lumen::Get(replayed.Task(&Roamer::NodePid).Remote(), kBound);
  ASSERT_EQ(*lumen::Get(saved.Task(&Roamer::NodePid).Remote(), kBound), host);
  pid_t other = KillHost(host);
  EXPECT_EQ(*lumen::Get(replayed.Task(&Roamer::Add).Remote(0), kBound), 115);  // 100 + 1 + ... + 5, replayed there
  EXPECT_EQ(*lumen::Get(saved.Task(&Roamer::Add).Remote(0), kBound), 215);     // its state, then the calls after it
  EXPECT_TRUE(*lumen::Get(saved.Task(&Roamer::Restored).Remote(), kBound));
  EXPECT_FALSE(*lumen::Get(replayed.Task(&Roamer::Restored).Remote(), kBound));
  EXPECT_EQ(*lumen::Get(replayed.Task(&Roamer::NodePid).Remote(), kBound), other);
  EXPECT_EQ(*lumen::Get(saved.Task(&Roamer::NodePid).Remote(), kBound), other);
}

TEST_F(ActorsWhoseNodeDies, WithoutRestartsLeftItDiesNamingItsNodeAndItsCallsFail) {
  auto roamer = lumen::Actor(Roamer::Create).SetResource("green", 1).Remote(0);
  pid_t host = *lumen::Get(roamer.Task(&Roamer::NodePid).Remote(), kBound);
  std::string marker = dir_ + "/started";
  auto in_flight = roamer.Task(&Roamer::NodePidAfterStarting).Remote(marker, 5000);
  ASSERT_TRUE(Eventually([&] { return std::filesystem::exists(marker); }, 20s));
  KillHost(host);
  for (auto call : {in_flight, roamer.Task(&Roamer::NodePid).Remote()}) {
    try {
      lumen::Get(call, kBound);
      ADD_FAILURE() << "a call of an actor whose node died answered";
    } catch (const lumen::ActorDiedError& e) {
      EXPECT_NE(std::string(e.what()).find("is gone"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace lumen::testing
