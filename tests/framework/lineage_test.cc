// The lineage log in use: objects whose bytes are gone are rebuilt from it
// (evicted, every reference dropped, in a later Init on the same storage
// dir), inputs first and each task once; what cannot be rebuilt says why.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <thread>

#include <gtest/gtest.h>

#include "lumen/api.h"
#include "lumen/storage/lineage_log.h"

namespace {

namespace fs = std::filesystem;

std::string Scratch(const std::string& name) {
  return (fs::temp_directory_path() / ("lumen-lineage-" + std::to_string(getpid()) + "-" + name)).string();
}
int Runs(const std::string& path) {
  std::ifstream in(path);
  return static_cast<int>(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
}
void CountRun(const std::string& path) { std::ofstream(path, std::ios::app) << "run\n"; }

int Square(int x) { return x * x; }
int CountedAdd(std::string path, int x, int y) {
  CountRun(path);
  return x + y;
}
// About `mib` MiB of doubles, each equal to `seed`.
std::vector<double> Block(int seed, int mib) { return std::vector<double>(size_t(mib) << 17, seed); }
int ReadsById(std::string id) { return *lumen::Get(lumen::ObjectRef<int>::FromID(id), 30000); }
double SumOf(std::vector<double> v) { return std::accumulate(v.begin(), v.end(), 0.0); }
int FailsIfMarked(std::string marker, int x) {
  if (fs::exists(marker)) throw std::runtime_error("marked: " + marker);
  return x + 1;
}
class Tally {
 public:
  static Tally* Make() { return new Tally; }
  int Add(int x) { return total_ += x; }

 private:
  int total_ = 0;
};

LUMEN_REMOTE(Square, CountedAdd, Block, SumOf, ReadsById, FailsIfMarked, Tally::Make, &Tally::Add);

class LineageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lumen::Config config;
    config.num_cpus = 2;
    config.object_store_bytes = size_t{64} << 20;
    lumen::Init(config);
  }
  void TearDown() override { lumen::Shutdown(); }

  // The id of an actor call's output, every ref to it dropped (flushed): an
  // object that cannot come back (the actor has no replay).
  static std::string DroppedActorCallOutput() {
    auto tally = lumen::Actor(Tally::Make).Remote();
    auto r = tally.Task(&Tally::Add).Remote(5);
    EXPECT_EQ(*lumen::Get(r, 30000), 5);
    std::string id = r.ID();
    r = {};
    lumen::Flush();
    return id;
  }
};

TEST_F(LineageTest, EvictedTaskOutputsAreRebuiltOnGet) {
  std::vector<lumen::ObjectRef<std::vector<double>>> blocks;
  for (int i = 0; i < 24; ++i) {  // 24 x 8 MiB through a 64 MiB store
    blocks.push_back(lumen::Task(Block).Remote(i, 8));
    lumen::Wait(std::vector<lumen::ObjectRef<std::vector<double>>>{blocks.back()}, 1, 30000);
  }
  ASSERT_GT(lumen::GetClusterInfo().objects_evicted, 0u) << "the store never evicted a task output";
  for (int i = 0; i < 24; i += 5) {
    auto v = lumen::Get(blocks[i], 60000);
    ASSERT_EQ(v->size(), size_t(8) << 17);
    EXPECT_EQ((*v)[0], i);
    EXPECT_EQ(v->back(), i);
  }
  EXPECT_GT(lumen::GetClusterInfo().tasks_rebuilt, 0u);
}

TEST_F(LineageTest, AnObjectWhoseRefsWereDroppedIsRebuiltFromItsId) {
  std::string id;
  {
    auto r = lumen::Task(Square).Remote(7);
    EXPECT_EQ(*lumen::Get(r, 30000), 49);
    id = r.ID();
  }
  // No Flush: a record still queued counts too.
  EXPECT_EQ(*lumen::Get(lumen::ObjectRef<int>::FromID(id), 30000), 49);
}

TEST_F(LineageTest, AChainIsRebuiltInputsFirstEachTaskOnceForConcurrentCallers) {
  std::string runs = Scratch("chain");
  fs::remove(runs);
  std::string id;
  {
    auto a = lumen::Task(CountedAdd).Remote(runs, 1, 2);
    auto b = lumen::Task(CountedAdd).Remote(runs, a, 10);
    auto c = lumen::Task(CountedAdd).Remote(runs, b, 100);
    EXPECT_EQ(*lumen::Get(c, 30000), 113);
    id = c.ID();
  }
  lumen::Flush();
  ASSERT_EQ(Runs(runs), 3);
  // Four callers at once, each holding its ref for the whole time (a ref
  // dropped before another caller starts would let the object be freed and
  // rightly rebuilt again).
  std::vector<lumen::ObjectRef<int>> refs;
  for (int i = 0; i < 4; ++i) refs.push_back(lumen::ObjectRef<int>::FromID(id));
  std::atomic<int> ok{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 4; ++i) callers.emplace_back([&, i] { ok += *lumen::Get(refs[i], 30000) == 113; });
  for (auto& t : callers) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(Runs(runs), 6) << "each of the 3 tasks re-ran once, whatever the number of callers";
  fs::remove(runs);
}

TEST_F(LineageTest, PutValuesComeBackFromTheLog) {
  std::string id;
  {
    auto p = lumen::Put(std::string("kept in the log"));
    id = p.ID();
  }
  lumen::Flush();
  EXPECT_EQ(*lumen::Get(lumen::ObjectRef<std::string>::FromID(id), 30000), "kept in the log");
  // And as an argument of a new task.
  auto sq = lumen::Task(Square).Remote(lumen::Put(9));
  EXPECT_EQ(*lumen::Get(sq, 30000), 81);
}

TEST_F(LineageTest, ALargePutWithoutANamedStorageDirSaysWhyItCannotComeBack) {
  std::string id;
  {
    auto p = lumen::Put(Block(3, 1));  // over the inline limit: in the store only
    id = p.ID();
  }
  lumen::Flush();
  try {
    lumen::Get(lumen::ObjectRef<std::vector<double>>::FromID(id), 30000);
    ADD_FAILURE() << "a dropped large Put came back with no durable copy";
  } catch (const lumen::ObjectLostError& e) {
    EXPECT_NE(std::string(e.what()).find("Config::storage_dir"), std::string::npos) << e.what();
  }
}

TEST_F(LineageTest, ARebuildThatFailsNamesTheTaskAndTheCause) {
  std::string marker = Scratch("marker");
  fs::remove(marker);
  std::string id;
  {
    auto r = lumen::Task(FailsIfMarked).SetMaxRetries(0).Remote(marker, 1);
    EXPECT_EQ(*lumen::Get(r, 30000), 2);
    id = r.ID();
  }
  lumen::Flush();
  { std::ofstream(marker) << 1; }
  try {
    lumen::Get(lumen::ObjectRef<int>::FromID(id), 30000);
    ADD_FAILURE() << "a failed rebuild returned";
  } catch (const lumen::ObjectReconstructionFailedError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("FailsIfMarked"), std::string::npos) << what;
    EXPECT_NE(what.find("marked"), std::string::npos) << what;
    EXPECT_NE(what.find("attempt"), std::string::npos) << what;
  }
  fs::remove(marker);
}

TEST_F(LineageTest, ActorCallOutputsAreNotRebuiltAndSaySo) {
  std::string id = DroppedActorCallOutput();
  try {
    lumen::Get(lumen::ObjectRef<int>::FromID(id), 30000);
    ADD_FAILURE() << "an actor call's output was rebuilt";
  } catch (const lumen::ObjectLostError& e) {
    EXPECT_NE(std::string(e.what()).find("actor"), std::string::npos) << e.what();
  }
}

// A task that reads an object lost for good fails at once each run; with
// unbounded retries it used to re-run forever, hundreds of thousands of
// times a second (what hung chaos's shuffle when a rebuild was planned
// before its record was written).
TEST_F(LineageTest, ATaskReadingAnObjectLostForGoodFailsInsteadOfSpinning) {
  std::string id = DroppedActorCallOutput();
  auto reader = lumen::Task(ReadsById).SetMaxRetries(-1).Remote(id);
  try {
    lumen::Get(reader, 30000);
    ADD_FAILURE() << "read an actor call's dropped output";
  } catch (const lumen::ObjectLostError& e) {
    EXPECT_NE(std::string(e.what()).find("actor"), std::string::npos) << e.what();
  }
}

TEST_F(LineageTest, LineageShowsHowAnObjectWasMade) {
  auto a = lumen::Task(Square).Remote(3);
  auto b = lumen::Task(Square).Remote(a);
  lumen::Get(b, 30000);
  std::string tree = lumen::Lineage(b);
  EXPECT_NE(tree.find("Square"), std::string::npos) << tree;
  EXPECT_NE(tree.find(a.ID()), std::string::npos) << tree;
}

TEST(LineageReopenTest, ALaterInitOnTheSameStorageDirRebuildsById) {
  std::string dir = Scratch("reopen");
  fs::remove_all(dir);
  lumen::Config config;
  config.num_cpus = 1;
  config.storage_dir = dir;
  std::string task_id, put_id;
  lumen::Init(config);
  {
    auto p = lumen::Put(20);
    auto r = lumen::Task(Square).Remote(p);
    EXPECT_EQ(*lumen::Get(r, 30000), 400);
    task_id = r.ID();
    put_id = p.ID();
  }
  lumen::Flush();
  lumen::Shutdown();
  ASSERT_TRUE(fs::exists(dir)) << "a storage dir the user named outlives Shutdown";

  lumen::Init(config);
  EXPECT_EQ(*lumen::Get(lumen::ObjectRef<int>::FromID(task_id), 30000), 400);
  EXPECT_EQ(*lumen::Get(lumen::ObjectRef<int>::FromID(put_id), 30000), 20);
  lumen::Shutdown();

  // A second holder of the dir gets a clear error naming the holder.
  std::unique_ptr<lumen::storage::LineageLog> held;
  ASSERT_TRUE(lumen::storage::LineageLog::Open(dir, {}, &held).ok());
  try {
    lumen::Init(config);
    lumen::Shutdown();
    ADD_FAILURE() << "two holders of one storage dir";
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
  held.reset();
  fs::remove_all(dir);
}

// With a named storage dir a large Put is copied to disk behind the Put:
// dropped, it comes back from the copy, as an argument too, and so it does
// in a later Init on the same dir.
TEST(LineageReopenTest, LargePutsComeBackFromTheirDurableCopies) {
  std::string dir = Scratch("large-puts");
  fs::remove_all(dir);
  lumen::Config config;
  config.num_cpus = 1;
  config.storage_dir = dir;
  std::string put_id, sum_id;
  lumen::Init(config);
  {
    auto p = lumen::Put(Block(7, 2));
    auto sum = lumen::Task(SumOf).Remote(p);
    EXPECT_EQ(*lumen::Get(sum, 30000), 7.0 * (2 << 17));
    put_id = p.ID();
    sum_id = sum.ID();
  }
  lumen::Flush();
  EXPECT_TRUE(fs::exists(dir + "/puts/" + put_id)) << "the copy is where the docs say";
  EXPECT_EQ(*lumen::Get(lumen::ObjectRef<std::vector<double>>::FromID(put_id), 30000), Block(7, 2));
  lumen::Shutdown();

  lumen::Init(config);
  // The task's result first: its input comes back from the copy before it re-runs.
  EXPECT_EQ(*lumen::Get(lumen::ObjectRef<double>::FromID(sum_id), 30000), 7.0 * (2 << 17));
  EXPECT_EQ(*lumen::Get(lumen::ObjectRef<std::vector<double>>::FromID(put_id), 30000), Block(7, 2));
  lumen::Shutdown();
  fs::remove_all(dir);
}

TEST(LineageOffTest, WithoutLineageALostObjectSaysWhy) {
  lumen::Config config;
  config.num_cpus = 1;
  config.enable_lineage = false;
  lumen::Init(config);
  std::string id;
  {
    auto r = lumen::Task(Square).Remote(4);
    EXPECT_EQ(*lumen::Get(r, 30000), 16);
    id = r.ID();
  }
  try {
    lumen::Get(lumen::ObjectRef<int>::FromID(id), 5000);
    ADD_FAILURE() << "got a dropped object without lineage";
  } catch (const lumen::ObjectLostError& e) {
    EXPECT_NE(std::string(e.what()).find("lineage is off"), std::string::npos) << e.what();
  }
  EXPECT_THROW(lumen::Flush(), lumen::Error);
  lumen::Shutdown();
}

}  // namespace
