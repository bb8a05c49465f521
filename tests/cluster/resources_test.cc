// Resources on a cluster a daemon serves (`lumen start --head --resources`):
// a joined driver's demand the cluster can never meet is refused at Remote,
// as an embedded cluster's is, and its GPU tasks and actors get the
// daemon's GPU ids as CUDA_VISIBLE_DEVICES.
#include <cstdlib>
#include <string>

#include "counter.h"
#include "head_daemon.h"

namespace lumen::testing {
namespace {

std::string DaemonGpusSeen() {
  std::string ids;
  for (int id : lumen::GetGpuIds()) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  const char* env = std::getenv("CUDA_VISIBLE_DEVICES");
  return "ids=" + ids + " env=" + (env ? env : "-");
}
LUMEN_REMOTE(DaemonGpusSeen);

TEST(DaemonResourcesTest, AJoinedDriverIsRefusedAtRemoteAndGetsGpuIds) {
  ::unsetenv("CUDA_VISIBLE_DEVICES");  // the daemon and its workers inherit this environment
  HeadDaemon head("--resources '{\"GPU\": 2}'");
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  lumen::Config config;
  config.address = head.address();
  lumen::Init(config);
  try {
    lumen::Task(Square).SetName("square").SetResource("GPU", 3).Remote(2);
    ADD_FAILURE() << "an infeasible task was accepted";
  } catch (const lumen::InfeasibleError& e) {
    EXPECT_EQ(std::string(e.what()),
              "task 'square' asks for {CPU: 1, GPU: 3} but the cluster has {CPU: 2, GPU: 2} in all, and this "
              "one-node cluster cannot grow");
  }
  EXPECT_THROW(lumen::Actor(Counter::Create).SetResource("TPU", 1).Remote(0), lumen::InfeasibleError);
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
