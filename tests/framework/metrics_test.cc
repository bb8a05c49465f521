// /metrics of a real embedded cluster counts what it did: spills (and their
// bytes) through a small store, rebuilds, and lineage appends.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "head/dashboard_client.h"
#include "lumen/api.h"

namespace {

int Plus1(int x) { return x + 1; }
LUMEN_REMOTE(Plus1);

// The value of the Prometheus sample `name` (no labels) in `text`; -1 if absent.
double Sample(const std::string& text, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("\n" + name + " ([0-9.e+]+)\n"))) return -1;
  return std::stod(m[1]);
}

TEST(MetricsTest, CountSpillsRebuildsAndLineageAppends) {
  lumen::Config config;
  config.num_cpus = 1;
  config.object_store_bytes = size_t{16} << 20;
  config.include_dashboard = true;
  config.dashboard_port = 0;  // any free port
  lumen::Init(config);
  std::string url = lumen::GetClusterInfo().dashboard_url;
  if (url.empty()) {
    lumen::Shutdown();
    GTEST_SKIP() << "the dashboard is switched off here (LUMEN_INCLUDE_DASHBOARD=0)";
  }
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

}  // namespace
