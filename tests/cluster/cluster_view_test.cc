// What the head's dashboard and `lumen list` say of a cluster of daemons:
// each node's worker processes and running tasks (reported by the node with
// its heartbeat), the node a task was sent to (also once that node died),
// and the nodes that died, listed again by a head restarted on its storage
// dir, with those alive when it died that never came back.
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "counter.h"
#include "dashboard_view.h"
#include "head_daemon.h"

namespace lumen::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class ClusterView : public ::testing::Test {
 protected:
  void Join(const HeadDaemon& head) {
    lumen::Config config;
    config.address = head.address();
    lumen::Init(config);
  }
  void TearDown() override {
    lumen::Shutdown();
    ::unsetenv("LUMEN_REJOIN_WAIT_MS");
  }

  static std::string Dump(const std::optional<json>& row) { return row ? row->dump() : "(not listed)"; }
};

TEST_F(ClusterView, ANodesWorkersAndRunningTasksAreShownWhileItLivesAndNotOnceDead) {
  HeadDaemon head("", /*dashboard=*/true);
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  ASSERT_FALSE(head.dashboard_url().empty()) << head.start().out;
  NodeDaemon red(head, "--node-name red --num-cpus 2 --resources '{\"red\": 2}'");
  ASSERT_EQ(red.start().status, 0) << red.start().out;
  Join(head);
  auto slow = lumen::Task(NodePidAfter).SetResource("red", 1).Remote(4000);
  // While it runs there: red's worker processes (its daemon's children) and its one task.
  std::optional<json> row;
  EXPECT_TRUE(Eventually([&] {
    row = NodeRow(head, "red");
    size_t children = ChildrenOf(red.pid()).size();
    return row && children > 0 && (*row)["workers"] == children && (*row)["running_tasks"] == 1;
  }, 20s)) << Dump(row) << " with " << ChildrenOf(red.pid()).size() << " children of red";
  // The head runs nothing itself: the task it sent is red's.
  auto here = NodeRow(head, lumen::GetClusterInfo().node_name);
  ASSERT_TRUE(here) << Dump(here);
  EXPECT_EQ((*here)["running_tasks"], 0) << here->dump();
  EXPECT_EQ(*lumen::Get(slow, /*timeout_ms=*/20000), red.pid());
  EXPECT_TRUE(Eventually([&] {
    row = NodeRow(head, "red");
    return row && (*row)["running_tasks"] == 0;
  }, 20s)) << Dump(row);

  ASSERT_EQ(::kill(red.pid(), SIGKILL), 0);
  std::optional<json> dead;
  ASSERT_TRUE(Eventually([&] { return (dead = NodeRow(head, "red", "dead")).has_value(); }, 20s));
  EXPECT_EQ((*dead)["workers"], 0) << dead->dump();
  EXPECT_EQ((*dead)["running_tasks"], 0) << dead->dump();
  // The table leaves a dead node's figures blank rather than print 0 workers.
  ShellRun table = Shell(std::string(LUMEN_CLI_PATH) + " list nodes -f state=dead --address " +
                         head.dashboard_url().substr(7));
  EXPECT_NE(table.out.find("RUNNING_TASKS"), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find("  0  "), std::string::npos) << table.out;
  EXPECT_EQ(head.Log().find("unknown message"), std::string::npos) << head.Log();
}

TEST_F(ClusterView, ATaskSentToANodeIsListedOnThatNodeAlsoOnceItDied) {
  HeadDaemon head("", /*dashboard=*/true);
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  NodeDaemon red(head, "--node-name red --num-cpus 1 --resources '{\"red\": 1}'");
  ASSERT_EQ(red.start().status, 0) << red.start().out;
  Join(head);
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).SetResource("red", 1).SetName("ran-on-red").Remote()), red.pid());
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).SetName("ran-here").Remote()), head.pid());
  std::optional<json> task;
  ASSERT_TRUE(Eventually([&] {
    task = TaskNamed(head, "ran-on-red");
    return task && (*task)["state"] == "finished";
  }, 20s)) << Dump(task);
  EXPECT_EQ((*task)["node_id"], "red") << task->dump();
  auto here = TaskNamed(head, "ran-here");
  ASSERT_TRUE(here);
  EXPECT_EQ((*here)["node_id"], lumen::GetClusterInfo().node_name) << here->dump();

  ASSERT_EQ(::kill(red.pid(), SIGKILL), 0);
  ASSERT_TRUE(Eventually([&] { return NodeRow(head, "red", "dead").has_value(); }, 20s));
  // The link it went over is gone with red: the task's record still names red.
  EXPECT_TRUE(Eventually([&] {
    task = TaskNamed(head, "ran-on-red");
    return task && (*task)["node_id"] == "red" && (*task)["state"] == "finished";
  }, 5s)) << Dump(task);
  // Past the head's next reaping of closed connections (1 s and more), still red.
  std::this_thread::sleep_for(1500ms);
  task = TaskNamed(head, "ran-on-red");
  ASSERT_TRUE(task);
  EXPECT_EQ((*task)["node_id"], "red") << task->dump();
}

TEST_F(ClusterView, AHeadRestartedOnItsStorageDirListsTheNodesThatDiedBeforeMarkedAsSuch) {
  StorageDir storage;  // removed after the daemons below stopped
  auto head = std::make_unique<HeadDaemon>("--storage " + storage.path(), /*dashboard=*/true);
  ASSERT_EQ(head->start().status, 0) << head->start().out;
  auto red = std::make_unique<NodeDaemon>(*head, "--node-name red --num-cpus 1");
  auto blue = std::make_unique<NodeDaemon>(*head, "--node-name blue --num-cpus 1");
  ASSERT_EQ(red->start().status, 0) << red->start().out;
  ASSERT_EQ(blue->start().status, 0) << blue->start().out;
  ASSERT_EQ(::kill(red->pid(), SIGKILL), 0);
  std::optional<json> before;
  ASSERT_TRUE(Eventually([&] { return (before = NodeRow(*head, "red", "dead")).has_value(); }, 20s));
  EXPECT_EQ((*before)["earlier_run"], false) << before->dump();

  pid_t first = head->pid();
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(Eventually([&] { return !Alive(first); }, 10s));
  head = std::make_unique<HeadDaemon>("--storage " + storage.path(), /*dashboard=*/true);
  ASSERT_EQ(head->start().status, 0) << head->start().out;
  std::optional<json> after;
  ASSERT_TRUE(Eventually([&] { return (after = NodeRow(*head, "red", "dead")).has_value(); }, 20s))
      << "the restarted head does not list red as dead: " << ListJson(*head, "nodes").dump();
  EXPECT_EQ((*after)["earlier_run"], true) << after->dump();
  EXPECT_EQ((*after)["left_ms"], (*before)["left_ms"]);
  EXPECT_EQ((*after)["death_cause"], (*before)["death_cause"]);
  EXPECT_EQ((*after)["resources_total"], (*before)["resources_total"]);
  // blue outlived the head: it registers again, alive; it never died.
  EXPECT_TRUE(Eventually([&] { return NodeRow(*head, "blue").has_value(); }, 20s)) << blue->Log();
  EXPECT_FALSE(NodeRow(*head, "blue", "dead").has_value());
  ShellRun status = Shell(std::string(LUMEN_CLI_PATH) + " status --address " + head->dashboard_url().substr(7));
  EXPECT_NE(status.out.find("dead     red, left"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("before the head restarted"), std::string::npos) << status.out;
  blue.reset();  // nodes first, then the head
  red.reset();
  head.reset();
}

// A node alive when the head died that never comes back: the head restarted
// on its storage dir lists it as awaited, with when it is listed dead, until
// the nodes' bound to register again passes (LUMEN_REJOIN_WAIT_MS, shortened
// here), then as dead; one that comes back is alive, never dead. Another
// daemon under the awaited node's name (here: as if that node's daemon was
// started again, which keeps nothing of the one before) is a new node: the
// member it is not stays awaited, then dead.
TEST_F(ClusterView, AHeadRestartedOnItsStorageDirListsTheNodesThatDidNotComeBackAsAwaitedThenDead) {
  StorageDir storage;  // removed after the daemons below stopped
  constexpr int64_t kWaitMs = 10000;
  // The daemons inherit it; only the head reads it.
  ::setenv("LUMEN_REJOIN_WAIT_MS", std::to_string(kWaitMs).c_str(), 1);
  auto head = std::make_unique<HeadDaemon>("--storage " + storage.path(), /*dashboard=*/true);
  ASSERT_EQ(head->start().status, 0) << head->start().out;
  auto red = std::make_unique<NodeDaemon>(*head, "--node-name red --num-cpus 1");
  auto blue = std::make_unique<NodeDaemon>(*head, "--node-name blue --num-cpus 1");
  ASSERT_EQ(red->start().status, 0) << red->start().out;
  ASSERT_EQ(blue->start().status, 0) << blue->start().out;
  // The head's file names both as members, each with its daemon's instance
  // (it is written off the head's lock, soon after they joined).
  auto members = [&] {
    std::ifstream in(storage.path() + "/dead_nodes.json");
    std::stringstream text;
    text << in.rdbuf();
    std::map<std::string, std::string> instances;  // name -> instance
    json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j["members"].is_array())
      for (const json& m : j["members"]) instances[m.value("name", "")] = m.value("instance", "");
    return instances;
  };
  auto names = [](const std::map<std::string, std::string>& instances) {
    std::set<std::string> out;
    for (const auto& [name, instance] : instances) out.insert(name);
    return out;
  };
  ASSERT_TRUE(Eventually([&] { return names(members()) == std::set<std::string>{"red", "blue"}; }, 20s));
  const std::string red_instance = members()["red"];
  EXPECT_FALSE(red_instance.empty());
  EXPECT_NE(red_instance, members()["blue"]);

  pid_t first = head->pid();
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(Eventually([&] { return !Alive(first); }, 10s));
  ASSERT_EQ(::kill(red->pid(), SIGKILL), 0);  // it never comes back
  ASSERT_TRUE(Eventually([&] { return !Alive(red->pid()); }, 10s));
  head = std::make_unique<HeadDaemon>("--storage " + storage.path(), /*dashboard=*/true);
  ASSERT_EQ(head->start().status, 0) << head->start().out;
  auto now_ms = [] {
    return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch()).count());
  };
  // Before the bound: red is awaited (`lumen list nodes -f state=awaited`), with when it is listed dead.
  int64_t started = now_ms();
  std::optional<json> awaited;
  for (const json& n : ListJson(*head, "nodes", "state=awaited"))
    if (n.value("node_id", "") == "red") awaited = n;
  ASSERT_TRUE(awaited) << "the restarted head does not list red as awaited: " << ListJson(*head, "nodes").dump();
  EXPECT_EQ((*awaited)["state"], "awaited") << awaited->dump();
  EXPECT_EQ((*awaited)["earlier_run"], true) << awaited->dump();
  EXPECT_EQ((*awaited)["resources_total"]["CPU"], 1) << awaited->dump();
  int64_t until = (*awaited)["awaited_until_ms"].get<int64_t>();
  EXPECT_GT(until, started) << awaited->dump();
  EXPECT_LE(until, started + kWaitMs) << awaited->dump();
  EXPECT_FALSE(NodeRow(*head, "red", "dead").has_value());
  ShellRun status = Shell(std::string(LUMEN_CLI_PATH) + " status --address " + head->dashboard_url().substr(7));
  EXPECT_NE(status.out.find("awaited  red, a member before the head restarted: listed dead in "), std::string::npos)
      << status.out;

  // Another daemon named red registers: a new node, alive; red's daemon is still awaited.
  auto stranger = std::make_unique<NodeDaemon>(*head, "--node-name red --num-cpus 1");
  ASSERT_EQ(stranger->start().status, 0) << stranger->start().out;
  EXPECT_TRUE(Eventually([&] { return NodeRow(*head, "red").has_value(); }, 20s)) << ListJson(*head, "nodes").dump();
  ASSERT_LT(now_ms(), until) << "too slow to tell: the bound passed before the other daemon registered";
  EXPECT_TRUE(NodeRow(*head, "red", "awaited").has_value()) << ListJson(*head, "nodes").dump();
  EXPECT_NE(head->Log().find("node 'red' is another daemon than the member of that name the head awaits"),
            std::string::npos)
      << head->Log();

  std::optional<json> dead;
  ASSERT_TRUE(Eventually([&] { return (dead = NodeRow(*head, "red", "dead")).has_value(); }, 30s))
      << "the restarted head does not list red as dead: " << ListJson(*head, "nodes").dump() << head->Log();
  EXPECT_GE(now_ms(), until);
  EXPECT_EQ((*dead)["death_cause"], "did not register again after the head restarted") << dead->dump();
  EXPECT_EQ((*dead)["earlier_run"], true) << dead->dump();
  EXPECT_EQ((*dead)["resources_total"]["CPU"], 1) << dead->dump();
  EXPECT_NE(head->Log().find("node 'red' did not register again"), std::string::npos) << head->Log();
  EXPECT_TRUE(ListJson(*head, "nodes", "state=awaited").empty()) << ListJson(*head, "nodes").dump();
  // blue came back within the bound: alive, and not listed as dead; the other red alive beside the dead one.
  EXPECT_TRUE(Eventually([&] { return NodeRow(*head, "blue").has_value(); }, 20s)) << blue->Log();
  EXPECT_FALSE(NodeRow(*head, "blue", "dead").has_value()) << ListJson(*head, "nodes").dump();
  EXPECT_TRUE(NodeRow(*head, "red").has_value()) << ListJson(*head, "nodes").dump();
  // The file says so too: blue and the other red members, red's earlier daemon not.
  EXPECT_TRUE(Eventually([&] {
    auto now = members();
    return names(now) == std::set<std::string>{"blue", "red"} && now["red"] != red_instance;
  }, 20s));
  stranger.reset();  // nodes first, then the head
  blue.reset();
  red.reset();
  head.reset();
}

}  // namespace
}  // namespace lumen::testing
