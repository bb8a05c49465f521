// A cluster of three nodes on this machine: the head's and two more
// (`lumen start --address`), each its own daemon, store and workers. Tasks
// go where their resources are, arguments and results move between the
// stores, and a node killed mid-task has its task run again elsewhere.
#include <signal.h>

#include <map>
#include <set>
#include <vector>

#include "counter.h"
#include "head_daemon.h"

namespace lumen::testing {
namespace {

using namespace std::chrono_literals;

// Refs nested in an argument (not resolved before the task runs): the task gets them itself.
int SumOfRefs(std::vector<lumen::ObjectRef<int>> refs) {
  int sum = 0;
  for (const auto& ref : refs) sum += *lumen::Get(ref, 10000);
  return sum;
}
double SumOfNested(std::vector<lumen::ObjectRef<std::vector<double>>> refs) {
  double sum = 0;
  for (const auto& ref : refs) {
    auto values = lumen::Get(ref, 10000);  // held: the loop reads the store's bytes in place
    for (double x : *values) sum += x;
  }
  return sum;
}
int NodeThatRead(std::vector<double> values) { return values.empty() ? -1 : NodePid(); }
LUMEN_REMOTE(SumOfRefs, SumOfNested, NodeThatRead);

class ThreeNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(head_.start().status, 0) << head_.start().out;
    ASSERT_EQ(red_.start().status, 0) << red_.start().out;
    ASSERT_EQ(blue_.start().status, 0) << blue_.start().out;
    lumen::Config config;
    config.address = head_.address();
    lumen::Init(config);
  }
  void TearDown() override {
    lumen::Shutdown();
    for (pid_t pid : {red_.pid(), blue_.pid(), head_.pid()})  // all at once; each destructor then waits
      if (pid > 0) ::kill(pid, SIGTERM);
  }

  HeadDaemon head_;  // 2 CPUs
  NodeDaemon red_{head_, "--node-name red --num-cpus 2 --resources '{\"red\": 2}'"};
  NodeDaemon blue_{head_, "--node-name blue --num-cpus 1 --resources '{\"blue\": 1}'"};
};

TEST_F(ThreeNodes, TasksRunWhereTheirResourcesAre) {
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).Remote()), head_.pid());
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).SetResource("red", 1).Remote()), red_.pid());
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).SetResource("blue", 1).Remote()), blue_.pid());
  // Many at once: every red task on the red node, every result exact.
  std::vector<lumen::ObjectRef<int>> reds, squares;
  for (int i = 0; i < 20; ++i) reds.push_back(lumen::Task(NodePid).SetResource("red", 1).Remote());
  for (int i = 0; i < 20; ++i) squares.push_back(lumen::Task(Square).SetResource("red", 0.5).Remote(i));
  for (auto& r : reds) EXPECT_EQ(*lumen::Get(r), red_.pid());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(*lumen::Get(squares[i]), i * i);
}

TEST_F(ThreeNodes, NodeAffinityNamesANodeHardOrSoft) {
  auto on = [](const std::string& node, bool soft = false) {
    return lumen::Task(NodePid).SetSchedulingStrategy(lumen::SchedulingStrategy::NodeAffinity(node, soft)).Remote();
  };
  EXPECT_EQ(*lumen::Get(on("blue")), blue_.pid());
  EXPECT_EQ(*lumen::Get(on("red", /*soft=*/true)), red_.pid());
  EXPECT_EQ(*lumen::Get(on(lumen::GetClusterInfo().node_name)), head_.pid());
  // A name no node has: refused (hard), or anywhere (soft).
  EXPECT_THROW(on("violet"), lumen::Error);
  EXPECT_GT(*lumen::Get(on("violet", /*soft=*/true)), 0);
  // Hard affinity waits for room on its node: 6 tasks on blue's 1 CPU, all there.
  std::vector<lumen::ObjectRef<int>> refs;
  for (int i = 0; i < 6; ++i)
    refs.push_back(lumen::Task(NodePidAfter)
                       .SetSchedulingStrategy(lumen::SchedulingStrategy::NodeAffinity("blue"))
                       .Remote(50));
  for (auto& r : refs) EXPECT_EQ(*lumen::Get(r), blue_.pid());
  // A second node by a name taken is refused.
  NodeDaemon twin{head_, "--node-name blue --num-cpus 1"};
  EXPECT_NE(twin.start().status, 0);
  EXPECT_NE(twin.start().out.find("named 'blue' already"), std::string::npos) << twin.start().out;
}

TEST_F(ThreeNodes, AnActorWithNodeAffinityLivesOnThatNode) {
  auto on = [](const std::string& node, bool soft = false) {
    return lumen::Actor(Counter::Create)
        .SetSchedulingStrategy(lumen::SchedulingStrategy::NodeAffinity(node, soft))
        .Remote(0);
  };
  auto blue = on("blue");
  pid_t pid = *lumen::Get(blue.Task(&Counter::Pid).Remote(), /*timeout_ms=*/20000);
  EXPECT_EQ(ChildrenOf(blue_.pid()).count(pid), 1u) << "the actor's process is not the blue node's child";
  EXPECT_EQ(*lumen::Get(blue.Task(&Counter::Add).Remote(5)), 5);
  auto here = on(lumen::GetClusterInfo().node_name);
  EXPECT_EQ(ChildrenOf(head_.pid()).count(*lumen::Get(here.Task(&Counter::Pid).Remote(), 20000)), 1u);
  EXPECT_THROW(on("violet"), lumen::Error);  // hard, and no such node
  EXPECT_EQ(*lumen::Get(on("violet", /*soft=*/true).Task(&Counter::Add).Remote(2), 20000), 2);
}

TEST_F(ThreeNodes, SpreadPutsConsecutiveTasksOnDifferentNodes) {
  std::vector<lumen::ObjectRef<int>> refs;
  for (int i = 0; i < 3; ++i)
    refs.push_back(lumen::Task(NodePidAfter).SetSchedulingStrategy(lumen::SchedulingStrategy::Spread()).Remote(200));
  std::set<int> nodes;
  for (auto& r : refs) nodes.insert(*lumen::Get(r));
  EXPECT_EQ(nodes, (std::set<int>{head_.pid(), red_.pid(), blue_.pid()}));
}

TEST_F(ThreeNodes, ABusyHeadSpillsTasksToNodesWithRoom) {
  // Four slow tasks on 2 + 2 + 1 CPUs: some run beside the head.
  std::vector<lumen::ObjectRef<int>> refs;
  for (int i = 0; i < 5; ++i) refs.push_back(lumen::Task(NodePidAfter).Remote(300));
  std::map<int, int> where;
  for (auto& r : refs) ++where[*lumen::Get(r)];
  EXPECT_GT(where.size(), 1u) << "every task ran on one node";
}

// A task the busy head spills goes where its argument was copied already
// (blue, 1 CPU), not to the node with the most free CPU (red, 2).
TEST_F(ThreeNodes, ASpilledTaskGoesWhereItsArgumentIsAlready) {
  std::vector<double> big(size_t{1} << 20, 0.5);  // 8 MiB
  auto ref = lumen::Put(big);
  ASSERT_EQ(*lumen::Get(lumen::Task(NodeThatRead).SetResource("blue", 1).Remote(ref), 20000), blue_.pid());
  auto on_head = lumen::SchedulingStrategy::NodeAffinity(lumen::GetClusterInfo().node_name);
  std::vector<lumen::ObjectRef<int>> busy;
  for (int i = 0; i < 2; ++i) busy.push_back(lumen::Task(NodePidAfter).SetSchedulingStrategy(on_head).Remote(3000));
  EXPECT_EQ(*lumen::Get(lumen::Task(NodeThatRead).Remote(ref), 20000), blue_.pid());
  for (auto& b : busy) EXPECT_EQ(*lumen::Get(b, 20000), head_.pid());
}

TEST_F(ThreeNodes, ArgumentsAndResultsMoveBetweenTheStores) {
  std::vector<double> big(size_t{1} << 19, 0.25);  // 4 MiB: through the stores, not inline
  auto ref = lumen::Put(big);
  EXPECT_EQ(*lumen::Get(lumen::Task(Sum).SetResource("red", 1).Remote(ref)), 0.25 * (1 << 19));
  EXPECT_EQ(*lumen::Get(lumen::Task(Sum).SetResource("blue", 1).Remote(ref)), 0.25 * (1 << 19));
  // A large result made on the red node, read here and passed on to blue.
  auto halves = lumen::Task(Halves).SetResource("red", 1).Remote(1 << 20);
  EXPECT_EQ(lumen::Get(halves)->size(), size_t{1} << 20);
  EXPECT_EQ(*lumen::Get(lumen::Task(Sum).SetResource("blue", 1).Remote(halves)), 0.5 * (1 << 20));
}

TEST_F(ThreeNodes, ATaskWhoseNodeIsKilledRunsAgainOnAnother) {
  // Both extra nodes have "any"; the task starts on one, which is killed.
  NodeDaemon green{head_, "--num-cpus 1 --resources '{\"green\": 1}'"};
  NodeDaemon green2{head_, "--num-cpus 1 --resources '{\"green\": 1}'"};
  ASSERT_EQ(green.start().status, 0) << green.start().out;
  ASSERT_EQ(green2.start().status, 0) << green2.start().out;
  auto first = lumen::Task(NodePidAfter).SetResource("green", 1).Remote(3000);
  // Wait until it runs on one of them (its worker is that node's child), then kill that node.
  pid_t victim = -1;
  ASSERT_TRUE(Eventually([&] {
    if (!ChildrenOf(green.pid()).empty()) victim = green.pid();
    if (!ChildrenOf(green2.pid()).empty()) victim = green2.pid();
    return victim > 0;
  }, 10s));
  std::this_thread::sleep_for(200ms);  // its worker has the task by now
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  int ran_on = *lumen::Get(first, /*timeout_ms=*/30000);
  EXPECT_NE(ran_on, victim);
  EXPECT_TRUE(ran_on == green.pid() || ran_on == green2.pid()) << ran_on;
}

TEST_F(ThreeNodes, NodesStayPastTheBoundWithinWhichADriverMustJoin) {
  // A node registers instead of joining as a driver does; the head cut
  // every node off 10 s after it registered (the node then stopped).
  std::this_thread::sleep_for(11s);
  EXPECT_TRUE(Alive(red_.pid()));
  EXPECT_TRUE(Alive(blue_.pid()));
  EXPECT_EQ(head_.Log().find("did not join"), std::string::npos) << head_.Log();
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).SetResource("red", 1).Remote(), /*timeout_ms=*/10000), red_.pid());
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).SetResource("blue", 1).Remote(), /*timeout_ms=*/10000), blue_.pid());
}

TEST_F(ThreeNodes, DemandNoNodeHasWaitsUntilANodeThatHasItJoins) {
  auto purple = lumen::Task(NodePid).SetResource("purple", 1).Remote();
  EXPECT_THROW(lumen::Get(purple, /*timeout_ms=*/300), lumen::GetTimeoutError);
  NodeDaemon late{head_, "--num-cpus 1 --resources '{\"purple\": 1}'"};
  ASSERT_EQ(late.start().status, 0) << late.start().out;
  EXPECT_EQ(*lumen::Get(purple, /*timeout_ms=*/20000), late.pid());
}

// A task sent to another node gets what its arguments hold too: refs
// nested in an argument (and in those objects) are handed to that node.
TEST_F(ThreeNodes, RefsNestedInAnArgumentReachTheNodeThatRunsTheTask) {
  std::vector<lumen::ObjectRef<int>> refs;
  for (int i = 1; i <= 4; ++i) refs.push_back(lumen::Put(i));
  EXPECT_EQ(*lumen::Get(lumen::Task(SumOfRefs).SetResource("red", 1).Remote(refs), /*timeout_ms=*/20000), 10);
  // A large one (through the stores), nested in an object passed by reference.
  std::vector<double> big(size_t{1} << 18, 1.0);
  std::vector<lumen::ObjectRef<std::vector<double>>> inner{lumen::Put(big)};
  auto outer = lumen::Put(inner);
  EXPECT_EQ(*lumen::Get(lumen::Task(SumOfNested).SetResource("blue", 1).Remote(outer), /*timeout_ms=*/20000),
            double(1 << 18));
  // The same objects again on the same node: handed over once, still right.
  EXPECT_EQ(*lumen::Get(lumen::Task(SumOfRefs).SetResource("red", 1).Remote(refs), /*timeout_ms=*/20000), 10);
}

}  // namespace
}  // namespace lumen::testing
