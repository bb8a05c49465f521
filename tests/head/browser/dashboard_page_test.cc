// The real page in headless Chromium. What runs behind it here is a
// DashboardServer over a FAKE StateSource that this test changes while the
// page is open: the harness for the browser test. The cluster version (a
// driver's embedded cluster filling the StateSource) replaces the fake once
// the node is wired; the page, the waits and the clicks stay the same.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "fake_state_source.h"
#include "head/dashboard_server.h"
#include "webdriver.h"

namespace lumen::head {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using testing::WebDriver;

class DashboardPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string chromium, chromedriver;
    if (!WebDriver::Find(&chromium, &chromedriver)) {
      GTEST_SKIP() << "chromium or chromedriver is not installed (apt-get install chromium chromium-driver); "
                      "the dashboard's browser test needs both";
    }
    source_ = std::make_shared<testing::FakeStateSource>();
    cluster_ = testing::SampleCluster();
    cluster_.tasks.resize(20);
    source_->Set(cluster_);
    testing::SampleLineage(*source_, 12);
    std::string error;
    server_ = testing::StartFakeDashboard(source_, &error);
    ASSERT_TRUE(server_) << error;
    ASSERT_TRUE(browser_.Start(chromium, chromedriver, &error)) << error;
    std::filesystem::create_directories(LUMEN_SCREENSHOT_DIR);
  }

  void Shot(const std::string& name) {
    EXPECT_TRUE(browser_.Screenshot(std::string(LUMEN_SCREENSHOT_DIR) + "/" + name + ".png")) << browser_.last_error();
  }

  std::shared_ptr<testing::FakeStateSource> source_;
  ClusterSnapshot cluster_;
  std::unique_ptr<DashboardServer> server_;
  WebDriver browser_;
};

TEST_F(DashboardPageTest, LiveTasksActorRestartAndLineageByClicks) {
  // The cluster page, then the tasks page: 20 tasks are listed.
  ASSERT_TRUE(browser_.Navigate(server_->url() + "/#cluster")) << browser_.last_error();
  ASSERT_TRUE(WebDriver::WaitFor([&] { return browser_.Count("#nodes-table tr.node-row") == 2; }, seconds(15)))
      << "the cluster page never listed the nodes";
  EXPECT_NE(browser_.Text("#card-tasks"), "");
  Shot("cluster");
  ASSERT_TRUE(browser_.ClickWhenThere("#nav-tasks")) << browser_.last_error();
  ASSERT_TRUE(WebDriver::WaitFor([&] { return browser_.Count("#tasks-table tr.task-row") == 20; }, seconds(10)));

  // Live: tasks submitted now appear without a reload, running.
  for (int i = 0; i < 3; ++i) {
    TaskState t;
    t.task_id = testing::TaskId(900 + i);
    t.function = "LiveWork";
    t.state = "running";
    t.node_id = "node1";
    t.worker = i;
    t.submit_ms = t.start_ms = 1'800'000'000'000 + static_cast<uint64_t>(i);
    cluster_.tasks.push_back(t);
  }
  source_->Set(cluster_);
  const std::string live_row = "#tasks-table tr.task-row[data-id='" + testing::TaskId(902) + "'] td.col-state";
  ASSERT_TRUE(WebDriver::WaitFor([&] { return browser_.Text(live_row) == "running"; }, seconds(10)))
      << "the page did not refresh with the new tasks";
  EXPECT_EQ(browser_.Count("#tasks-table tr.task-row"), 23);
  EXPECT_NE(browser_.Text("#tasks-count").find("of 23"), std::string::npos) << browser_.Text("#tasks-count");
  Shot("tasks");

  // An actor killed, then restarted: the page shows the cause, then the restart.
  ASSERT_TRUE(browser_.ClickWhenThere("#nav-actors"));
  const std::string actor = "#actors-table tr.actor-row[data-id='" + cluster_.actors[0].actor_id + "']";
  ASSERT_TRUE(WebDriver::WaitFor([&] { return browser_.Text(actor + " td.col-state") == "alive"; }, seconds(10)));
  cluster_.actors[0].state = "restarting";
  cluster_.actors[0].death_cause = "worker process 2000 killed by SIGKILL";
  source_->Set(cluster_);
  ASSERT_TRUE(WebDriver::WaitFor([&] { return browser_.Text(actor + " td.col-state") == "restarting"; }, seconds(10)));
  EXPECT_EQ(browser_.Text(actor + " td.col-death_cause"), "worker process 2000 killed by SIGKILL");
  Shot("actor-killed");
  cluster_.actors[0].state = "alive";
  cluster_.actors[0].restarts = 1;
  cluster_.actors[0].pid = 2100;
  source_->Set(cluster_);
  ASSERT_TRUE(WebDriver::WaitFor([&] { return browser_.Text(actor + " td.col-restarts") == "1 / 1"; }, seconds(10)));
  EXPECT_EQ(browser_.Text(actor + " td.col-state"), "alive");
  EXPECT_EQ(browser_.Text(actor + " td.col-pid"), "2100");
  EXPECT_EQ(browser_.Text(actor + " td.col-death_cause"), "worker process 2000 killed by SIGKILL");  // kept after the restart
  Shot("actor-restarted");

  // Objects: click object 3 into its lineage graph: objects 3..0 and tasks 3..1.
  ASSERT_TRUE(browser_.ClickWhenThere("#nav-objects"));
  const std::string id3 = testing::ObjectId(3), id1 = testing::ObjectId(1);
  ASSERT_TRUE(browser_.ClickWhenThere("#objects-table a.object-link[data-id='" + id3 + "']")) << browser_.last_error();
  ASSERT_TRUE(WebDriver::WaitFor([&] { return browser_.Count("#lineage-svg g.lineage-node") == 7; }, seconds(10)))
      << "lineage graph of object 3 not drawn; title: " << browser_.Text("#lineage-title");
  EXPECT_EQ(browser_.Attribute("#lineage-title", "data-id"), id3);
  EXPECT_EQ(browser_.Count("#lineage-svg path.lineage-edge"), 6);
  EXPECT_EQ(browser_.Attribute("#lineage-svg g.lineage-node[data-id='" + testing::TaskId(1) + "']", "data-state"), "running");
  EXPECT_EQ(browser_.Count("#lineage-svg g.lineage-root[data-id='" + id3 + "']"), 1);
  Shot("lineage");

  // Click through: object 1 in the graph becomes the graph's root.
  ASSERT_TRUE(browser_.ClickWhenThere("#lineage-svg g.lineage-node[data-id='" + id1 + "'] rect")) << browser_.last_error();
  ASSERT_TRUE(WebDriver::WaitFor([&] { return browser_.Attribute("#lineage-title", "data-id") == id1; }, seconds(10)));
  ASSERT_TRUE(WebDriver::WaitFor([&] { return browser_.Count("#lineage-svg g.lineage-node") == 3; }, seconds(10)));
  EXPECT_EQ(browser_.Count("#lineage-svg g.lineage-root[data-id='" + id1 + "']"), 1);
  Shot("lineage-followed");

  // The timeline draws the started tasks per worker.
  ASSERT_TRUE(browser_.ClickWhenThere("#nav-timeline"));
  ASSERT_TRUE(WebDriver::WaitFor([&] { return browser_.Count("#timeline-svg rect.timeline-task") == 23; }, seconds(10)));
  Shot("timeline");
  EXPECT_TRUE(browser_.Attribute("#error-banner", "hidden").size() || browser_.Count("#error-banner[hidden]") == 1)
      << browser_.Text("#error-banner");
}

// A member before the head restarted, not back yet: its row says so and
// when it is listed dead; the card counts it apart.
TEST_F(DashboardPageTest, AnAwaitedNodeIsShownWithWhenItIsListedDead) {
  uint64_t now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch()).count());
  cluster_.nodes.push_back(testing::AwaitedNode("red", now + 30'000));
  source_->Set(cluster_);
  ASSERT_TRUE(browser_.Navigate(server_->url() + "/#cluster")) << browser_.last_error();
  const std::string row = "#nodes-table tr.node-awaited[data-id='red']";
  ASSERT_TRUE(WebDriver::WaitFor([&] { return browser_.Count(row) == 1; }, seconds(15)))
      << browser_.Text("#nodes-table");
  EXPECT_EQ(browser_.Text(row + " td.col-state"), "awaited");
  EXPECT_NE(browser_.Text(row + " td.col-death_cause").find("listed dead in "), std::string::npos)
      << browser_.Text(row);
  EXPECT_EQ(browser_.Text(row + " td.col-workers"), "");
  EXPECT_EQ(browser_.Text(row + " td.col-resources"), "had CPU 2, red 1");
  EXPECT_NE(browser_.Text("#card-nodes").find("2 alive, 1 awaited"), std::string::npos) << browser_.Text("#card-nodes");
  Shot("cluster-awaited");
}

}  // namespace
}  // namespace lumen::head
