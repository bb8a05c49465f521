// The dashboard of a real embedded cluster: /metrics counts what it did
// (spills and their bytes through a small store, rebuilds, lineage
// appends), and each worker's log holds what it printed.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "head/dashboard_client.h"
#include "lumen/api.h"

namespace {

int Plus1(int x) { return x + 1; }
int SayHello(std::string word) {
  std::cout << "hello " << word << " from " << ::getpid() << std::endl;
  std::cerr << "and to stderr: " << word << std::endl;
  return static_cast<int>(::getpid());
}
class Printer {
 public:
  static Printer* Make() { return new Printer; }
  int Print(std::string word) { return SayHello(word); }
};
LUMEN_REMOTE(Plus1, SayHello, Printer::Make, &Printer::Print);

// The dashboard's url, or "" (then the test skips) where it is switched off.
std::string StartWithDashboard(size_t store_bytes) {
  lumen::Config config;
  config.num_cpus = 1;
  config.object_store_bytes = store_bytes;
  config.include_dashboard = true;
  config.dashboard_port = 0;  // any free port
  lumen::Init(config);
  std::string url = lumen::GetClusterInfo().dashboard_url;
  if (url.empty()) lumen::Shutdown();
  return url;
}

// The value of the Prometheus sample `name` (no labels) in `text`; -1 if absent.
double Sample(const std::string& text, const std::string& name) {
  size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

TEST(MetricsTest, CountSpillsRebuildsAndLineageAppends) {
  std::string url = StartWithDashboard(size_t{16} << 20);
  if (url.empty()) GTEST_SKIP() << "the dashboard is switched off here (LUMEN_INCLUDE_DASHBOARD=0)";
  // 24 MiB of Puts kept referenced through a 16 MiB store: some spill.
  std::vector<lumen::ObjectRef<std::vector<double>>> held;
  for (int i = 0; i < 6; ++i) held.push_back(lumen::Put(std::vector<double>(size_t{1} << 19, i)));
  std::string id;
  {
    auto r = lumen::Task(Plus1).Remote(1);
    EXPECT_EQ(*lumen::Get(r, 30000), 2);
    id = r.ID();
  }
  EXPECT_EQ(*lumen::Get(lumen::ObjectRef<int>::FromID(id), 30000), 2);  // rebuilt

  lumen::head::HttpResult r = lumen::head::HttpCall(url, "GET", "/metrics");
  ASSERT_TRUE(r.ok && r.status == 200) << r.error;
  EXPECT_GE(Sample(r.body, "lumen_object_spills_total"), 1) << r.body;
  EXPECT_GE(Sample(r.body, "lumen_spilled_bytes_total"), 4 << 20) << r.body;
  EXPECT_GE(Sample(r.body, "lumen_object_rebuilds_total"), 1) << r.body;
  EXPECT_GE(Sample(r.body, "lumen_lineage_appends_total"), 8) << "6 Puts, a task and its result: " << r.body;
  EXPECT_GE(Sample(r.body, "lumen_lineage_queue_depth"), 0) << r.body;
  lumen::Shutdown();
}

// Until the log of `key` holds `text` (the relay copies it behind the
// worker), 10 s at most; the last text seen.
std::string LogHolding(const std::string& url, const std::string& key, const std::string& text) {
  std::string seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    lumen::head::HttpResult r = lumen::head::HttpCall(url, "GET", "/api/logs/" + key);
    seen = r.body;
    if (r.ok && r.status == 200 && seen.find(text) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return seen;
}

TEST(WorkerLogsTest, EachWorkersLogHoldsWhatItPrinted) {
  std::string url = StartWithDashboard(size_t{64} << 20);
  if (url.empty()) GTEST_SKIP() << "the dashboard is switched off here (LUMEN_INCLUDE_DASHBOARD=0)";
  int pid = *lumen::Get(lumen::Task(SayHello).Remote(std::string("tasks")), 30000);
  std::string log = LogHolding(url, std::to_string(pid), "and to stderr: tasks");
  EXPECT_NE(log.find("hello tasks from " + std::to_string(pid)), std::string::npos) << log;
  EXPECT_NE(log.find("and to stderr: tasks"), std::string::npos) << log;

  auto printer = lumen::Actor(Printer::Make).SetName("printer").Remote();
  int actor_pid = *lumen::Get(printer.Task(&Printer::Print).Remote(std::string("actors")), 30000);
  log = LogHolding(url, "printer", "hello actors");  // by the actor's name
  EXPECT_NE(log.find("hello actors from " + std::to_string(actor_pid)), std::string::npos) << log;
  EXPECT_EQ(log.find("hello tasks"), std::string::npos) << "one log per worker: " << log;

  lumen::head::HttpResult list = lumen::head::HttpCall(url, "GET", "/api/logs");
  EXPECT_NE(list.body.find("worker-"), std::string::npos) << list.body;
  lumen::Shutdown();
}

}  // namespace
