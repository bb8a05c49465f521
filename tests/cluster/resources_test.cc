// Resources on a cluster a daemon serves (`lumen start --head --resources`):
// a joined driver's demand no node has waits (a node that has it may join:
// nodes_test.cc), and its GPU tasks get the daemon's GPU ids as
// CUDA_VISIBLE_DEVICES.
#include <cstdlib>
#include <string>

#include "counter.h"
#include "head_daemon.h"

namespace lumen::testing {
namespace {

using namespace std::chrono_literals;

std::string DaemonGpusSeen() {
  std::string ids;
  for (int id : lumen::GetGpuIds()) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  const char* env = std::getenv("CUDA_VISIBLE_DEVICES");
  return "ids=" + ids + " env=" + (env ? env : "-");
}
LUMEN_REMOTE(DaemonGpusSeen);

TEST(DaemonResourcesTest, AJoinedDriversDemandNoNodeHasWaitsAndGpuTasksGetIds) {
  ::unsetenv("CUDA_VISIBLE_DEVICES");  // the daemon and its workers inherit this environment
  HeadDaemon head("--resources '{\"GPU\": 2}'");
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  lumen::Config config;
  config.address = head.address();
  lumen::Init(config);
  auto waiting = lumen::Task(Square).SetName("square").SetResource("GPU", 3).Remote(2);
  EXPECT_THROW(lumen::Get(waiting, /*timeout_ms=*/300), lumen::GetTimeoutError);
  EXPECT_TRUE(Eventually([&] { return head.Log().find("task 'square' waits") != std::string::npos; }, 5s))
      << head.Log();
  EXPECT_EQ(*lumen::Get(lumen::Task(DaemonGpusSeen).SetResource("GPU", 2).Remote()), "ids=0,1 env=0,1");
  EXPECT_EQ(*lumen::Get(lumen::Task(DaemonGpusSeen).Remote()), "ids= env=-");
  lumen::Shutdown();
}

TEST(DaemonResourcesTest, FractionalGpusOnTheCommandLineAreRefused) {
  HeadDaemon head("--resources '{\"GPU\": 1.5}'");
  EXPECT_NE(head.start().status, 0) << head.start().out;
  EXPECT_NE(head.start().out.find("GPU=1.5"), std::string::npos) << head.start().out;
}

}  // namespace
}  // namespace lumen::testing
