// The real page in headless Chromium over a real cluster: this test binary is
// a driver whose embedded cluster serves the dashboard. Its tasks run in
// worker processes, its actor's process is killed with SIGKILL and restarted,
// and the lineage graph is drawn from the lineage log.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "lumen/api.h"
#include "webdriver.h"

namespace {

using std::chrono::seconds;
using lumen::head::testing::WebDriver;

int Slowly(int x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return x;
}
int AddOne(int x) { return x + 1; }

class Tally {
 public:
  static Tally* Make() { return new Tally; }
  int Pid() { return static_cast<int>(getpid()); }
};

LUMEN_REMOTE(Slowly, AddOne, Tally::Make, &Tally::Pid);

class ClusterPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string chromium, chromedriver;
    if (!WebDriver::Find(&chromium, &chromedriver))
      GTEST_SKIP() << "chromium or chromedriver is not installed (apt-get install chromium chromium-driver)";
    lumen::Config config;
    config.num_cpus = 2;
    config.dashboard_port = 0;  // any free port: tests run side by side
    lumen::Init(config);
    url_ = lumen::GetClusterInfo().dashboard_url;
    ASSERT_FALSE(url_.empty()) << "the cluster serves no dashboard";
    std::string error;
    ASSERT_TRUE(browser_.Start(chromium, chromedriver, &error)) << error;
    std::filesystem::create_directories(LUMEN_SCREENSHOT_DIR);
  }
  void TearDown() override {
    stop_ = true;
    if (load_.joinable()) load_.join();
    lumen::Shutdown();
  }

  void Shot(const std::string& name) {
    EXPECT_TRUE(browser_.Screenshot(std::string(LUMEN_SCREENSHOT_DIR) + "/cluster-" + name + ".png"))
        << browser_.last_error();
  }

  std::string url_;
  WebDriver browser_;
  std::atomic<bool> stop_{false};
  std::thread load_;
};

TEST_F(ClusterPageTest, LiveTasksAKilledActorAndAnObjectsLineage) {
  // Work that keeps running while the page is open.
  load_ = std::thread([this] {
    while (!stop_) {
      std::vector<lumen::ObjectRef<int>> refs;
      for (int i = 0; i < 4; ++i) refs.push_back(lumen::Task(Slowly).Remote(i));
      lumen::Get(refs);
    }
  });
  ASSERT_TRUE(browser_.Navigate(url_ + "/#tasks")) << browser_.last_error();
  const std::string running = "#tasks-table tr.task-row td.col-state";
  ASSERT_TRUE(WebDriver::WaitFor(
      [&] {
        auto states = browser_.Execute(
            "return [...document.querySelectorAll(arguments[0])].filter(e => e.textContent == 'running').length",
            {running});
        return states.is_number() && states.get<int>() > 0;
      },
      seconds(20)))
      << "the page never showed a running task";
  EXPECT_NE(browser_.Text("#tasks-table").find("Slowly"), std::string::npos);
  Shot("tasks");

  // An actor whose process is killed comes back, and the page says why it died.
  auto tally = lumen::Actor(Tally::Make).SetMaxRestarts(1).SetMaxTaskRetries(1).Remote();
  int pid = *tally.Task(&Tally::Pid).Remote().Get();
  ASSERT_TRUE(browser_.ClickWhenThere("#nav-actors"));
  const std::string actor = "#actors-table tr.actor-row[data-id='" + tally.ID() + "']";
  ASSERT_TRUE(WebDriver::WaitFor([&] { return browser_.Text(actor + " td.col-state") == "alive"; }, seconds(15)));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_NE(*tally.Task(&Tally::Pid).Remote().Get(), pid);  // answered by the new process
  // The page refreshes from a snapshot: one taken while the actor restarted
  // shows the restart counted and the state still "restarting".
  ASSERT_TRUE(WebDriver::WaitFor(
      [&] {
        return browser_.Text(actor + " td.col-restarts") == "1 / 1" && browser_.Text(actor + " td.col-state") == "alive";
      },
      seconds(15)))
      << "restarts shown: " << browser_.Text(actor + " td.col-restarts")
      << ", state: " << browser_.Text(actor + " td.col-state");
  EXPECT_NE(browser_.Text(actor + " td.col-death_cause").find("died"), std::string::npos) << browser_.Text(actor + " td.col-death_cause");
  Shot("actor-restarted");

  // A chain put -> AddOne -> AddOne: clicking its end draws the whole chain.
  auto start = lumen::Put(1);
  auto middle = lumen::Task(AddOne).Remote(start);
  auto end = lumen::Task(AddOne).Remote(middle);
  ASSERT_EQ(*end.Get(), 3);
  lumen::Flush();  // lineage records are read once durable
  ASSERT_TRUE(browser_.ClickWhenThere("#nav-objects"));
  ASSERT_TRUE(browser_.ClickWhenThere("#objects-table a.object-link[data-id='" + end.ID() + "']")) << browser_.last_error();
  const std::string middle_node = "#lineage-svg g.lineage-node[data-id='" + middle.ID() + "']";
  ASSERT_TRUE(WebDriver::WaitFor([&] { return browser_.Count(middle_node) == 1; }, seconds(15)))
      << "the lineage graph of the chain's end does not show its middle; title: " << browser_.Text("#lineage-title");
  EXPECT_EQ(browser_.Count("#lineage-svg g.lineage-node[data-id='" + start.ID() + "']"), 1);
  EXPECT_GE(browser_.Count("#lineage-svg path.lineage-edge"), 4);
  Shot("lineage");
  ASSERT_TRUE(browser_.ClickWhenThere(middle_node + " rect")) << browser_.last_error();
  ASSERT_TRUE(WebDriver::WaitFor(
      [&] { return browser_.Count("#lineage-svg g.lineage-root[data-id='" + middle.ID() + "']") == 1; }, seconds(15)))
      << "clicking the middle object did not make it the graph's root";
  EXPECT_EQ(browser_.Count("#lineage-svg g.lineage-node[data-id='" + end.ID() + "']"), 0);
  Shot("lineage-followed");
}

}  // namespace
