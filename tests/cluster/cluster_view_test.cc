// What the head's dashboard and `lumen list` say of a cluster of daemons:
// each node's worker processes and running tasks (reported by the node with
// its heartbeat), the node a task was sent to (also once that node died),
// and the nodes that died, listed again by a head restarted on its storage
// dir, with those alive when it died that never came back.
#include <signal.h>
#include <stdlib.h>

#include <fstream>
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
  void TearDown() override { lumen::Shutdown(); }

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
  struct RemovedAtEnd {  // after the daemons below stopped
    std::string path = std::filesystem::temp_directory_path() / ("lumen-test-dead-" + std::to_string(::getpid()));
    ~RemovedAtEnd() {
      std::error_code ignore;
      std::filesystem::remove_all(path, ignore);
    }
  } storage;
  auto head = std::make_unique<HeadDaemon>("--storage " + storage.path, /*dashboard=*/true);
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
  head = std::make_unique<HeadDaemon>("--storage " + storage.path, /*dashboard=*/true);
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
// on its storage dir lists it as dead once the nodes' bound to register
// again passes (LUMEN_REJOIN_WAIT_MS, shortened here); one that comes back
// is alive, never dead.
TEST_F(ClusterView, AHeadRestartedOnItsStorageDirListsTheNodesThatDidNotComeBackAsDead) {
  struct RemovedAtEnd {  // after the daemons below stopped
    std::string path = std::filesystem::temp_directory_path() / ("lumen-test-absent-" + std::to_string(::getpid()));
    ~RemovedAtEnd() {
      ::unsetenv("LUMEN_REJOIN_WAIT_MS");
      std::error_code ignore;
      std::filesystem::remove_all(path, ignore);
    }
  } storage;
  ::setenv("LUMEN_REJOIN_WAIT_MS", "6000", 1);  // the daemons inherit it; only the head reads it
  auto head = std::make_unique<HeadDaemon>("--storage " + storage.path, /*dashboard=*/true);
  ASSERT_EQ(head->start().status, 0) << head->start().out;
  auto red = std::make_unique<NodeDaemon>(*head, "--node-name red --num-cpus 1");
  auto blue = std::make_unique<NodeDaemon>(*head, "--node-name blue --num-cpus 1");
  ASSERT_EQ(red->start().status, 0) << red->start().out;
  ASSERT_EQ(blue->start().status, 0) << blue->start().out;
  // The head's file names both as members (it is written off the head's lock, soon after they joined).
  auto members = [&] {
    std::ifstream in(storage.path + "/dead_nodes.json");
    std::stringstream text;
    text << in.rdbuf();
    std::set<std::string> names;
    json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j["members"].is_array())
      for (const json& m : j["members"]) names.insert(m.value("name", ""));
    return names;
  };
  ASSERT_TRUE(Eventually([&] { return members() == std::set<std::string>{"red", "blue"}; }, 20s));

  pid_t first = head->pid();
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(Eventually([&] { return !Alive(first); }, 10s));
  ASSERT_EQ(::kill(red->pid(), SIGKILL), 0);  // it never comes back
  ASSERT_TRUE(Eventually([&] { return !Alive(red->pid()); }, 10s));
  head = std::make_unique<HeadDaemon>("--storage " + storage.path, /*dashboard=*/true);
  ASSERT_EQ(head->start().status, 0) << head->start().out;
  std::optional<json> dead;
  ASSERT_TRUE(Eventually([&] { return (dead = NodeRow(*head, "red", "dead")).has_value(); }, 30s))
      << "the restarted head does not list red as dead: " << ListJson(*head, "nodes").dump() << head->Log();
  EXPECT_EQ((*dead)["death_cause"], "did not register again after the head restarted") << dead->dump();
  EXPECT_EQ((*dead)["earlier_run"], true) << dead->dump();
  EXPECT_EQ((*dead)["resources_total"]["CPU"], 1) << dead->dump();
  EXPECT_NE(head->Log().find("node 'red' did not register again"), std::string::npos) << head->Log();
  // blue came back within the bound: alive, and not listed as dead.
  EXPECT_TRUE(Eventually([&] { return NodeRow(*head, "blue").has_value(); }, 20s)) << blue->Log();
  EXPECT_FALSE(NodeRow(*head, "blue", "dead").has_value()) << ListJson(*head, "nodes").dump();
  EXPECT_FALSE(NodeRow(*head, "red").has_value());
  // The file says so too: blue a member, red not.
  EXPECT_TRUE(Eventually([&] { return members() == std::set<std::string>{"blue"}; }, 20s));
  blue.reset();  // nodes first, then the head
  red.reset();
  head.reset();
}

}  // namespace
}  // namespace lumen::testing
