// Placement groups on a cluster of three daemons (the head and nodes a and
// b, 2 CPUs each), made by a joined driver: bundles reserved across the
// nodes by each strategy, tasks and actors of a bundle running where it is,
// a group that needs a node more waiting for one to join, removal ending
// what ran in it and freeing its node, and a killed node's bundle placed
// again elsewhere.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "head_daemon.h"
#include "lumen/api.h"

namespace lumen::testing {
namespace {

using namespace std::chrono_literals;
using S = lumen::PlacementStrategy;
constexpr int kBound = 20000;  // ms: a node's first worker starts within it

int BundleNode() { return static_cast<int>(::getppid()); }  // a worker's parent: its node's daemon
int BundleNodeAfter(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return BundleNode();
}
struct Tenant {
  static Tenant* Create() { return new Tenant; }
  int Node() { return BundleNode(); }
};
// Marks that it runs (a line more in `marker`), then holds what it asked for `ms`.
int HoldFor(std::string marker, int ms) {
  std::ofstream(marker, std::ios::app) << "running\n";
  return BundleNodeAfter(ms);
}
// On its node, starts a task there that its head does not see.
struct Spawner {
  static Spawner* Create() { return new Spawner; }
  int Start(std::string marker, int ms) {
    held_ = lumen::Task(HoldFor).SetResource("CPU", 2).Remote(marker, ms);
    return 0;
  }
  lumen::ObjectRef<int> held_;
};
LUMEN_REMOTE(BundleNode, BundleNodeAfter, Tenant::Create, &Tenant::Node, HoldFor, Spawner::Create, &Spawner::Start);

const std::map<std::string, double> kCpu{{"CPU", 1}};

class GroupsAcrossNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(head_.start().status, 0) << head_.start().out;
    ASSERT_EQ(a_.start().status, 0) << a_.start().out;
    ASSERT_EQ(b_.start().status, 0) << b_.start().out;
    lumen::Config config;
    config.address = head_.address();
    lumen::Init(config);
  }
  void TearDown() override { lumen::Shutdown(); }

  // The node (its daemon's pid) a task of bundle `index` runs on.
  int NodeOf(const lumen::PlacementGroup& pg, int index) {
    return *lumen::Get(lumen::Task(BundleNode).SetPlacementGroup(pg, index).Remote(), kBound);
  }
  std::set<int> Nodes() const { return {head_.pid(), a_.pid(), b_.pid()}; }

  HeadDaemon head_{"--node-name head"};
  NodeDaemon a_{head_, "--num-cpus 2 --node-name a --resources '{\"red\": 2}'"};
  NodeDaemon b_{head_, "--num-cpus 2 --node-name b"};
};

TEST_F(GroupsAcrossNodes, StrictSpreadTakesANodeABundleAndWaitsForANodeToJoin) {
  lumen::PlacementGroup spread = lumen::CreatePlacementGroup({"", {kCpu, kCpu, kCpu}, S::STRICT_SPREAD});
  ASSERT_TRUE(spread.Wait(20));
  EXPECT_EQ((std::set<int>{NodeOf(spread, 0), NodeOf(spread, 1), NodeOf(spread, 2)}), Nodes());
  for (int i = 0; i < 3; ++i)  // a task asking for nothing runs where its bundle is too
    EXPECT_EQ(*lumen::Get(lumen::Task(BundleNode).SetPlacementGroup(spread, i).SetResource("CPU", 0).Remote(), kBound),
              NodeOf(spread, i));
  // Four bundles on nodes of their own: not on three; on four once one joins.
  lumen::PlacementGroup four = lumen::CreatePlacementGroup({"", {kCpu, kCpu, kCpu, kCpu}, S::STRICT_SPREAD});
  EXPECT_FALSE(four.Wait(1));
  EXPECT_EQ(four.GetState(), lumen::PlacementGroupState::PENDING);
  NodeDaemon c(head_, "--num-cpus 2 --node-name c");
  ASSERT_EQ(c.start().status, 0) << c.start().out;
  ASSERT_TRUE(four.Wait(20));
  std::set<int> nodes;
  for (int i = 0; i < 4; ++i) nodes.insert(NodeOf(four, i));
  EXPECT_EQ(nodes.size(), 4u);
  EXPECT_TRUE(nodes.count(c.pid()));
  lumen::RemovePlacementGroup(four.GetID());  // before c goes
}

TEST_F(GroupsAcrossNodes, PackStrategiesKeepBundlesTogetherAndActorsLiveInTheirBundle) {
  lumen::PlacementGroup strict = lumen::CreatePlacementGroup({"", {kCpu, kCpu}, S::STRICT_PACK});
  ASSERT_TRUE(strict.Wait(20));
  int together = NodeOf(strict, 0);
  EXPECT_EQ(NodeOf(strict, 1), together);
  EXPECT_TRUE(Nodes().count(together));
  // Two nodes have 2 CPUs left: three bundles PACK onto both, two and one.
  lumen::PlacementGroup pack = lumen::CreatePlacementGroup({"", {kCpu, kCpu, kCpu}, S::PACK});
  ASSERT_TRUE(pack.Wait(20));
  std::multiset<int> where{NodeOf(pack, 0), NodeOf(pack, 1), NodeOf(pack, 2)};
  EXPECT_EQ(std::set<int>(where.begin(), where.end()).size(), 2u);
  EXPECT_EQ(where.count(together), 0u);
  // One CPU is left unreserved in the cluster: a group of two CPUs waits.
  lumen::PlacementGroup more = lumen::CreatePlacementGroup({"", {{{"CPU", 2}}}, S::STRICT_PACK});
  EXPECT_FALSE(more.Wait(1));
  // An actor holds its bundle's CPU (a task of that bundle would wait for it now).
  int third = NodeOf(pack, 2);
  auto tenant = lumen::Actor(Tenant::Create).SetPlacementGroup(pack, 2).SetResources(kCpu).Remote();
  EXPECT_EQ(*lumen::Get(tenant.Task(&Tenant::Node).Remote(), kBound), third);
  lumen::RemovePlacementGroup(strict.GetID());
  EXPECT_TRUE(more.Wait(20));  // the removed group's CPUs went back
}

TEST_F(GroupsAcrossNodes, RemovalEndsWhatRanInTheGroupAndFreesItsNodes) {
  lumen::PlacementGroup pg = lumen::CreatePlacementGroup({"", {{{"CPU", 2}}, {{"CPU", 2}}}, S::STRICT_SPREAD});
  ASSERT_TRUE(pg.Wait(20));
  // The long task in a bundle on a node that is not the head's (one is).
  int in_node = NodeOf(pg, 0) == head_.pid() ? 1 : 0, other = 1 - in_node;
  int node = NodeOf(pg, in_node);
  auto tenant = lumen::Actor(Tenant::Create).SetPlacementGroup(pg, other).SetResources(kCpu).Remote();
  ASSERT_EQ(*lumen::Get(tenant.Task(&Tenant::Node).Remote(), kBound), NodeOf(pg, other));
  auto long_task = lumen::Task(BundleNodeAfter).SetPlacementGroup(pg, in_node).Remote(60000);
  // A task of the same job on that node, outside the group: it runs on, once.
  std::string runs = std::filesystem::temp_directory_path() / ("lumen-runs-" + std::to_string(::getpid()));
  auto there = lumen::SchedulingStrategy::NodeAffinity(node == a_.pid() ? "a" : "b");
  auto outside = lumen::Task(HoldFor).SetResource("CPU", 0).SetSchedulingStrategy(there).Remote(runs, 1500);
  ASSERT_TRUE(Eventually([&] { return std::filesystem::exists(runs); }, 20s));
  EXPECT_THROW(lumen::Get(long_task, /*timeout_ms=*/200), lumen::GetTimeoutError);  // running
  lumen::RemovePlacementGroup(pg.GetID());
  EXPECT_THROW(lumen::Get(long_task, kBound), lumen::TaskCancelledError);
  EXPECT_THROW(lumen::Get(tenant.Task(&Tenant::Node).Remote(), kBound), lumen::ActorDiedError);
  EXPECT_THROW(lumen::Get(lumen::Task(BundleNode).SetPlacementGroup(pg, 0).Remote(), kBound), lumen::Error);
  EXPECT_EQ(*lumen::Get(outside, kBound), node);
  std::ifstream in(runs);
  std::string line;
  int started = 0;
  while (std::getline(in, line)) ++started;
  EXPECT_EQ(started, 1) << "the task outside the group ran again";
  std::filesystem::remove(runs);
  // Both bundles' nodes have their 2 CPUs again.
  lumen::PlacementGroup again = lumen::CreatePlacementGroup({"", {{{"CPU", 2}}, {{"CPU", 2}}, {{"CPU", 2}}}, S::STRICT_SPREAD});
  EXPECT_TRUE(again.Wait(20));
}

// Node a's CPUs are taken by a task of its own, which the head has not
// seen: the head plans a bundle there, a refuses to hold it, nothing is
// kept, and the group is placed once the task ends.
TEST_F(GroupsAcrossNodes, ANodeThatCannotHoldItsBundleNowRefusesAndTheGroupIsPlacedLater) {
  std::string marker = std::filesystem::temp_directory_path() / ("lumen-held-" + std::to_string(::getpid()));
  auto spawner = lumen::Actor(Spawner::Create).SetResource("red", 1).Remote();
  ASSERT_EQ(*lumen::Get(spawner.Task(&Spawner::Start).Remote(marker, 3000), kBound), 0);
  ASSERT_TRUE(Eventually([&] { return std::filesystem::exists(marker); }, 20s));
  lumen::PlacementGroup pg = lumen::CreatePlacementGroup({"", {{{"CPU", 2}, {"red", 1}}}, S::STRICT_PACK});
  EXPECT_TRUE(Eventually([&] { return head_.Log().find("could not hold its bundles") != std::string::npos; }, 20s))
      << head_.Log();
  EXPECT_TRUE(pg.Wait(30));
  EXPECT_EQ(NodeOf(pg, 0), a_.pid());
  std::filesystem::remove(marker);
}

TEST_F(GroupsAcrossNodes, AKilledNodesBundleIsPlacedAgainOnAnother) {
  lumen::PlacementGroup pg = lumen::CreatePlacementGroup({"", {kCpu, kCpu}, S::STRICT_SPREAD});
  ASSERT_TRUE(pg.Wait(20));
  int first = NodeOf(pg, 0), second = NodeOf(pg, 1);
  ASSERT_NE(first, second);
  int victim = first == head_.pid() ? second : first;  // a node, not the head
  ::kill(victim, SIGKILL);
  // Its bundle goes to the node left, the other kept where it was.
  EXPECT_TRUE(Eventually([&] { return pg.GetState() == lumen::PlacementGroupState::CREATED &&
                                      NodeOf(pg, 0) != victim && NodeOf(pg, 1) != victim; },
                         30s));
  int kept = victim == first ? second : first;
  EXPECT_EQ(NodeOf(pg, victim == first ? 1 : 0), kept);
  EXPECT_NE(NodeOf(pg, 0), NodeOf(pg, 1));
}

}  // namespace
}  // namespace lumen::testing
