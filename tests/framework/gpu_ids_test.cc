// GPUs as logical ids on a node with {"GPU": 2}: a task or actor granted
// GPUs sees them as lumen::GetGpuIds() and as CUDA_VISIBLE_DEVICES (a task
// while it runs, an actor for its whole life); concurrent grants get
// distinct ids, fractions share one, and the ids come back when the task
// ends or the actor dies.
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "lumen/api.h"
#include "temp_dir.h"

namespace fs = std::filesystem;

namespace {

// What a task or actor sees: "ids=0,1 env=0,1" ("env=-" when unset).
std::string Seen() {
  std::string ids;
  for (int id : lumen::GetGpuIds()) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  const char* env = std::getenv("CUDA_VISIBLE_DEVICES");
  return "ids=" + ids + " env=" + (env ? env : "-");
}

std::string GpuSeen() { return Seen(); }

// Waits until `n` tasks have arrived in `dir` (so they run at once), then says what it sees.
std::string GpuSeenTogether(std::string dir, int n) {
  std::ofstream(dir + "/" + std::to_string(::getpid())) << 1;
  for (int i = 0; i < 4000; ++i) {
    int arrived = 0;
    for (const auto& entry : fs::directory_iterator(dir)) arrived += entry.is_regular_file();
    if (arrived >= n) return Seen();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return "only some arrived";
}

class GpuHolder {
 public:
  static GpuHolder* Make() { return new GpuHolder(Seen()); }
  std::string AtCreation() { return at_creation_; }
  std::string Now() { return Seen(); }
  explicit GpuHolder(std::string seen) : at_creation_(std::move(seen)) {}

 private:
  std::string at_creation_;
};
LUMEN_REMOTE(GpuSeen, GpuSeenTogether, GpuHolder::Make, &GpuHolder::AtCreation, &GpuHolder::Now);

class GpuIdsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::unsetenv("CUDA_VISIBLE_DEVICES");  // workers inherit the driver's environment
    lumen::Config config;
    config.num_cpus = 2;
    config.resources = {{"GPU", 2}};
    lumen::Init(config);
  }
  static void TearDownTestSuite() { lumen::Shutdown(); }

  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lumen-gpu-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(GpuIdsTest, ATaskSeesItsGpusOnlyWhileItRuns) {
  std::string one = *lumen::Task(GpuSeen).SetResource("GPU", 1).Remote().Get(30000);
  EXPECT_TRUE(one == "ids=0 env=0" || one == "ids=1 env=1") << one;
  EXPECT_EQ(*lumen::Task(GpuSeen).SetResource("GPU", 2).Remote().Get(30000), "ids=0,1 env=0,1");
  // Granted none: nothing, and the variable as the worker inherited it (unset).
  for (int i = 0; i < 4; ++i) EXPECT_EQ(*lumen::Task(GpuSeen).Remote().Get(30000), "ids= env=-");
  EXPECT_TRUE(lumen::GetGpuIds().empty());  // the driver is granted none
}

TEST_F(GpuIdsTest, ConcurrentTasksGetDistinctIdsAndFractionsShareOne) {
  auto a = lumen::Task(GpuSeenTogether).SetResource("GPU", 1).Remote(dir_.string(), 2);
  auto b = lumen::Task(GpuSeenTogether).SetResource("GPU", 1).Remote(dir_.string(), 2);
  std::string sa = *a.Get(60000), sb = *b.Get(60000);
  EXPECT_NE(sa, sb);
  EXPECT_TRUE((sa == "ids=0 env=0" && sb == "ids=1 env=1") || (sa == "ids=1 env=1" && sb == "ids=0 env=0"))
      << sa << " / " << sb;

  fs::remove_all(dir_);
  fs::create_directories(dir_);
  auto h1 = lumen::Task(GpuSeenTogether).SetResource("GPU", 0.5).Remote(dir_.string(), 2);
  auto h2 = lumen::Task(GpuSeenTogether).SetResource("GPU", 0.5).Remote(dir_.string(), 2);
  std::string s1 = *h1.Get(60000), s2 = *h2.Get(60000);
  EXPECT_EQ(s1, s2);  // two halves of one id
  EXPECT_TRUE(s1 == "ids=0 env=0" || s1 == "ids=1 env=1") << s1;
}

TEST_F(GpuIdsTest, AnActorHoldsItsGpusForItsLifeAndGivesThemBackWhenItDies) {
  auto holder = lumen::Actor(GpuHolder::Make).SetResource("GPU", 2).Remote();
  EXPECT_EQ(*holder.Task(&GpuHolder::AtCreation).Remote().Get(30000), "ids=0,1 env=0,1");
  EXPECT_EQ(*holder.Task(&GpuHolder::Now).Remote().Get(30000), "ids=0,1 env=0,1");

  // While it holds both, GPU work waits: a task, and another actor (pending).
  auto task = lumen::Task(GpuSeen).SetResource("GPU", 1).Remote();
  auto second = lumen::Actor(GpuHolder::Make).SetResource("GPU", 1).Remote();
  auto second_seen = second.Task(&GpuHolder::Now).Remote();
  EXPECT_THROW(task.Get(1000), lumen::GetTimeoutError);
  EXPECT_THROW(second_seen.Get(100), lumen::GetTimeoutError);
  EXPECT_EQ(*lumen::Task(GpuSeen).Remote().Get(30000), "ids= env=-");  // CPU-only work still runs

  holder.Kill();  // its ids go back: both waiting grants get one each
  std::string t = *task.Get(30000), s = *second_seen.Get(30000);
  EXPECT_TRUE((t == "ids=0 env=0" && s == "ids=1 env=1") || (t == "ids=1 env=1" && s == "ids=0 env=0"))
      << t << " / " << s;
  second.Kill();
  EXPECT_EQ(*lumen::Task(GpuSeen).SetResource("GPU", 2).Remote().Get(30000), "ids=0,1 env=0,1");
}

// A detached named actor holding a GPU, restored from the log onto a
// cluster without GPUs, can never be placed: dead at once, saying why.
TEST(GpuRestoreTest, AnActorRestoredOntoAClusterWithoutItsGpusDiesSayingWhy) {
  lumen::storage::testing::TempDir dir;
  lumen::Config config;
  config.num_cpus = 1;
  config.storage_dir = dir.path();
  config.ns = "gpu-restore";
  config.include_dashboard = false;
  config.resources = {{"GPU", 1}};
  lumen::Init(config);
  auto holder = lumen::Actor(GpuHolder::Make)
                    .SetName("holder")
                    .SetLifetime(lumen::ActorLifetime::DETACHED)
                    .SetResource("GPU", 1)
                    .Remote();
  EXPECT_EQ(*holder.Task(&GpuHolder::Now).Remote().Get(30000), "ids=0 env=0");
  lumen::Flush();
  lumen::Shutdown();

  config.resources.clear();
  lumen::Init(config);
  EXPECT_FALSE(lumen::GetActor<GpuHolder>("holder").has_value());
  try {
    holder.Task(&GpuHolder::Now).Remote().Get(30000);
    ADD_FAILURE() << "the restored actor ran without its GPU";
  } catch (const lumen::ActorDiedError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be placed: actor '"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("asks for {GPU: 1} but the cluster has {CPU: 1, GPU: 0} in all"),
              std::string::npos)
        << e.what();
  }
  lumen::Shutdown();
}

}  // namespace
