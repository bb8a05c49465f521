// The cluster page in headless Chromium over a real 3-node cluster of
// daemons started with the lumen CLI: a head serving its dashboard, nodes
// "red" and "blue" with resources of their own, and this test binary as a
// joined driver whose tasks hold resources on every node. Then red is
// SIGKILLed (the page shows it dead, its connection closed, and its task
// runs again on the head), blue is SIGSTOPped (declared dead after the
// liveness timeout) and continued (it registers again: alive, its death
// still listed). `lumen status` and `lumen list nodes` say the same.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "../../storage/lineage/temp_dir.h"
#include "head_daemon.h"
#include "lumen/api.h"
#include "webdriver.h"

namespace {

using namespace std::chrono_literals;
using lumen::head::testing::WebDriver;
using lumen::testing::Daemon;
using lumen::testing::HeadDaemon;
using lumen::testing::NodeDaemon;

// Holds its resources until the file `release` exists (at most 60 s), then
// says where it ran: a worker's parent is its node's daemon.
int HoldUntil(std::string release) {
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!std::filesystem::exists(release) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  return static_cast<int>(::getppid());
}
// The same, holding an object too (a copy of it in its node's store).
int HoldWith(std::vector<double> data, std::string release) { return data.empty() ? -1 : HoldUntil(std::move(release)); }
LUMEN_REMOTE(HoldUntil, HoldWith);

// Short enough to see a stopped node declared dead within the test, long
// enough that a node busy on a loaded machine is not.
constexpr const char* kLivenessMs = "3000";

class NodesPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string chromium, chromedriver;
    if (!WebDriver::Find(&chromium, &chromedriver))
      GTEST_SKIP() << "chromium or chromedriver is not installed (apt-get install chromium chromium-driver)";
    ::setenv("LUMEN_NODE_LIVENESS_MS", kLivenessMs, 1);  // the daemons' (they inherit it), not the driver's
    head_ = std::make_unique<HeadDaemon>("", /*dashboard=*/true);
    red_ = std::make_unique<NodeDaemon>(*head_, "--node-name red --num-cpus 2 --resources '{\"red\": 2}'");
    blue_ = std::make_unique<NodeDaemon>(*head_, "--node-name blue --num-cpus 2 --resources '{\"blue\": 1}'");
    ::unsetenv("LUMEN_NODE_LIVENESS_MS");
    for (Daemon* d : Daemons()) ASSERT_EQ(d->start().status, 0) << d->start().out;
    ASSERT_FALSE(head_->dashboard_url().empty()) << head_->start().out;
    lumen::Config config;
    config.address = head_->address();
    lumen::Init(config);
    joined_ = true;
    head_name_ = lumen::GetClusterInfo().node_name;
    std::string error;
    ASSERT_TRUE(browser_.Start(chromium, chromedriver, &error)) << error;
    std::filesystem::create_directories(LUMEN_SCREENSHOT_DIR);
  }

  void TearDown() override {
    for (const char* name : {"a", "b", "c", "d", "e"}) Release(name);  // no task holds on
    if (joined_) lumen::Shutdown();
    browser_.Quit();
    if (stopped_ > 0) ::kill(stopped_, SIGCONT);  // a stopped daemon cannot take SIGTERM
    for (Daemon* d : Daemons())
      if (d->pid() > 0) ::kill(d->pid(), SIGTERM);  // all at once; each destructor then waits
    blue_.reset();
    red_.reset();
    head_.reset();
    std::error_code ec;
    if (!killed_session_.empty()) std::filesystem::remove_all(killed_session_, ec);  // SIGKILLed: nobody else will
  }

  std::vector<Daemon*> Daemons() const {
    std::vector<Daemon*> all;
    for (Daemon* d : std::initializer_list<Daemon*>{head_.get(), red_.get(), blue_.get()})
      if (d) all.push_back(d);
    return all;
  }
  std::string ReleaseFile(const std::string& name) { return releases_.path() + "/" + name; }
  void Release(const std::string& name) { std::ofstream(ReleaseFile(name)) << "go\n"; }

  // A node's row on the cluster page, alive or dead.
  static std::string Row(const std::string& node, const std::string& state) {
    return "#nodes-table tr.node-row.node-" + state + "[data-id='" + node + "']";
  }
  bool PageShows(const std::string& css, const std::string& text, std::chrono::milliseconds bound = 20s) {
    return WebDriver::WaitFor([&] { return browser_.Text(css).find(text) != std::string::npos; }, bound);
  }
  void Shot(const std::string& name) {
    EXPECT_TRUE(browser_.Screenshot(std::string(LUMEN_SCREENSHOT_DIR) + "/nodes-" + name + ".png"))
        << browser_.last_error();
  }
  // `lumen ARGS` against the head's dashboard.
  lumen::testing::ShellRun Lumen(const std::string& args) {
    return lumen::testing::Shell(std::string(LUMEN_CLI_PATH) + " " + args + " --address " +
                                 head_->dashboard_url().substr(std::string("http://").size()));
  }

  lumen::storage::testing::TempDir releases_;
  std::unique_ptr<HeadDaemon> head_;
  std::unique_ptr<NodeDaemon> red_, blue_;
  bool joined_ = false;
  std::string head_name_;
  pid_t stopped_ = -1;
  std::string killed_session_;
  WebDriver browser_;
};

TEST_F(NodesPageTest, ThreeNodesThenOneKilledAndOneStoppedUnderLoad) {
  using lumen::SchedulingStrategy;
  auto on = [&](const std::string& node, bool soft, const char* release) {
    return lumen::Task(HoldUntil).SetSchedulingStrategy(SchedulingStrategy::NodeAffinity(node, soft)).Remote(
        ReleaseFile(release));
  };
  // Every node busy: the head 1 of 2 CPUs (a); red 2 of 2 CPUs and 1 of 2
  // red (b, c); blue 2 of 2 CPUs and its blue (d, e). c and e prefer their
  // node (soft affinity): when it goes they run elsewhere; b and d need it.
  auto a = on(head_name_, /*soft=*/false, "a");
  auto big = lumen::Put(std::vector<double>(size_t{1} << 19, 0.5));  // 4 MiB: in the head's store, copied to red's
  auto b = lumen::Task(HoldWith).SetResource("red", 1).Remote(big, ReleaseFile("b"));
  auto c = on("red", /*soft=*/true, "c");
  auto d = lumen::Task(HoldUntil).SetResource("blue", 1).Remote(ReleaseFile("d"));
  auto e = on("blue", /*soft=*/true, "e");

  ASSERT_TRUE(browser_.Navigate(head_->dashboard_url() + "/#cluster")) << browser_.last_error();
  ASSERT_TRUE(PageShows(Row("red", "alive") + " td.col-resources", "CPU 2/2, red 1/2"))
      << "red: " << browser_.Text(Row("red", "alive")) << "\n" << browser_.Text("#nodes-table");
  ASSERT_TRUE(PageShows(Row("blue", "alive") + " td.col-resources", "CPU 2/2, blue 1/1")) << browser_.Text("#nodes-table");
  ASSERT_TRUE(PageShows(Row(head_name_, "alive") + " td.col-resources", "CPU 1/2")) << browser_.Text("#nodes-table");
  EXPECT_TRUE(PageShows(Row("red", "alive") + " td.col-store", "4.0 MiB /")) << browser_.Text("#nodes-table");
  EXPECT_TRUE(PageShows(Row(head_name_, "alive") + " td.col-store", "4.0 MiB /")) << browser_.Text("#nodes-table");
  // Each node's running tasks, as it reports them with its heartbeat (the head its own).
  EXPECT_TRUE(PageShows(Row("red", "alive") + " td.col-running_tasks", "2")) << browser_.Text("#nodes-table");
  EXPECT_TRUE(PageShows(Row("blue", "alive") + " td.col-running_tasks", "2")) << browser_.Text("#nodes-table");
  EXPECT_TRUE(PageShows(Row(head_name_, "alive") + " td.col-running_tasks", "1")) << browser_.Text("#nodes-table");
  for (const std::string& node : {std::string("red"), std::string("blue")}) {
    std::string workers = browser_.Text(Row(node, "alive") + " td.col-workers");
    EXPECT_TRUE(workers != "" && workers != "0") << node << " shows " << workers << " workers";
  }
  EXPECT_EQ(browser_.Count("#nodes-table tr.node-alive"), 3);
  EXPECT_EQ(browser_.Count("#nodes-table tr.node-dead"), 0);
  EXPECT_TRUE(PageShows("#card-nodes", "3 alive")) << browser_.Text("#card-nodes");
  EXPECT_TRUE(PageShows("#card-resources", "CPU 5/6")) << browser_.Text("#card-resources");
  Shot("3-alive-resources-used");
  auto status = Lumen("status");
  EXPECT_NE(status.out.find("nodes      3 alive, 0 dead"), std::string::npos) << status.out;

  // red SIGKILLed: its registration closes at once. b (needs red) is done
  // first; c runs again where there is room: the head's second CPU.
  Release("b");
  ASSERT_EQ(*lumen::Get(b, 20000), red_->pid());
  ASSERT_EQ(::kill(red_->pid(), SIGKILL), 0);
  killed_session_ = red_->session_dir();
  ASSERT_TRUE(PageShows(Row("red", "dead") + " td.col-death_cause", "its connection to the head closed"))
      << browser_.Text("#nodes-table");
  EXPECT_NE(browser_.Text(Row("red", "dead") + " td.col-death_cause").find(" s ago)"), std::string::npos);
  EXPECT_EQ(browser_.Text(Row("red", "dead") + " td.col-state"), "dead");
  EXPECT_EQ(browser_.Text(Row("red", "dead") + " td.col-resources"), "had CPU 2, red 2");
  EXPECT_EQ(browser_.Text(Row("red", "dead") + " td.col-workers"), "");  // a dead node has none
  EXPECT_TRUE(PageShows(Row(head_name_, "alive") + " td.col-resources", "CPU 2/2"))
      << "c did not run again on the head: " << browser_.Text("#nodes-table");
  EXPECT_TRUE(PageShows("#card-nodes", "2 alive, 1 dead")) << browser_.Text("#card-nodes");
  Shot("red-killed-dead-with-cause");
  ASSERT_TRUE(browser_.ClickWhenThere("#nav-tasks")) << browser_.last_error();
  // Running tasks by node and attempt: c's second attempt on the head, d and e on blue.
  auto running = [&](const std::string& node, int attempt) {
    auto n = browser_.Execute(
        "return [...document.querySelectorAll('#tasks-table tr.task-row')].filter(r => "
        "r.querySelector('td.col-state').textContent == 'running' && r.querySelector('td.col-node_id').textContent == "
        "arguments[0] && r.querySelector('td.col-attempt').textContent == arguments[1]).length",
        {node, std::to_string(attempt)});
    return n.is_number() ? n.get<int>() : -1;
  };
  EXPECT_TRUE(WebDriver::WaitFor([&] { return running(head_name_, 1) == 1 && running("blue", 0) == 2; }, 20s))
      << browser_.Text("#tasks-table");
  // b ran on red, which is gone: its row still names red.
  auto finished_on_red = browser_.Execute(
      "return [...document.querySelectorAll('#tasks-table tr.task-row')].filter(r => "
      "r.querySelector('td.col-state').textContent == 'finished' && "
      "r.querySelector('td.col-node_id').textContent == 'red').length");
  EXPECT_EQ(finished_on_red, 1) << browser_.Text("#tasks-table");
  Shot("red-killed-task-rerun");
  Release("c");
  EXPECT_EQ(*lumen::Get(c, 20000), head_->pid());

  // blue SIGSTOPped: silent, declared dead after the liveness timeout; e runs again on the head.
  Release("d");
  ASSERT_EQ(*lumen::Get(d, 20000), blue_->pid());
  ASSERT_TRUE(browser_.ClickWhenThere("#nav-cluster")) << browser_.last_error();
  stopped_ = blue_->pid();  // first: TearDown continues it whatever fails from here
  ASSERT_EQ(::kill(blue_->pid(), SIGSTOP), 0);
  ASSERT_TRUE(PageShows(Row("blue", "dead") + " td.col-death_cause",
                        std::string("declared dead: the head heard nothing from it for ") + kLivenessMs + " ms"))
      << browser_.Text("#nodes-table");
  EXPECT_TRUE(PageShows(Row(head_name_, "alive") + " td.col-resources", "CPU 2/2")) << browser_.Text("#nodes-table");
  EXPECT_TRUE(PageShows("#card-nodes", "1 alive, 2 dead")) << browser_.Text("#card-nodes");
  Shot("blue-stopped-declared-dead");
  status = Lumen("status");
  EXPECT_NE(status.out.find("nodes      1 alive, 2 dead"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("dead     red, left "), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("dead     blue, left "), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("declared dead: the head heard nothing"), std::string::npos) << status.out;
  auto list = Lumen("list nodes -f state=dead");
  EXPECT_NE(list.out.find("its connection to the head closed"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("(2 of 2)"), std::string::npos) << list.out;

  // blue continued: it finds its registration gone and registers again,
  // alive under its name; its death stays listed.
  ASSERT_EQ(::kill(blue_->pid(), SIGCONT), 0);
  stopped_ = -1;
  ASSERT_TRUE(PageShows(Row("blue", "alive") + " td.col-state", "alive")) << browser_.Text("#nodes-table");
  EXPECT_EQ(browser_.Count(Row("blue", "dead")), 1);
  EXPECT_TRUE(PageShows("#card-nodes", "2 alive, 2 dead")) << browser_.Text("#card-nodes");
  Shot("blue-continued-registered-again");
  Release("e");
  EXPECT_EQ(*lumen::Get(e, 20000), head_->pid());
  Release("a");
  EXPECT_EQ(*lumen::Get(a, 20000), head_->pid());
}

}  // namespace
