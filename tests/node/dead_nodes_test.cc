// The head's list of the nodes that left, by itself: its bound (the oldest
// deaths go first) and its file in a temporary directory, read again as a
// restarted head reads it.
#include "node/dead_nodes.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "../storage/lineage/temp_dir.h"

namespace lumen::internal {
namespace {

using storage::testing::TempDir;

DeadNodes::Node Died(int i) {
  return {"node-" + std::to_string(i), "/tmp/s" + std::to_string(i) + "/node.sock", {{"CPU", 2}, {"red", 1}},
          uint64_t(1000 + i), uint64_t(2000 + i), "its connection to the head closed", i};
}

TEST(DeadNodesTest, KeepsTheLastHundredDeathsTheOldestGoFirst) {
  DeadNodes dead;
  for (int i = 0; i < 99; ++i) dead.Add(Died(i));
  EXPECT_EQ(dead.All().size(), 99u);
  dead.Add(Died(99));
  ASSERT_EQ(dead.All().size(), DeadNodes::kCapacity);
  EXPECT_EQ(DeadNodes::kCapacity, 100u);
  for (int i = 100; i < 105; ++i) dead.Add(Died(i));
  ASSERT_EQ(dead.All().size(), 100u);
  EXPECT_EQ(dead.All().front().name, "node-5");  // 0 to 4 went, in the order they died
  EXPECT_EQ(dead.All().back().name, "node-104");
  EXPECT_EQ(dead.NameOf(4), "");
  EXPECT_EQ(dead.NameOf(5), "node-5");
  EXPECT_EQ(dead.NameOf(104), "node-104");
}

TEST(DeadNodesTest, WithoutAFileNothingIsWritten) {
  DeadNodes dead;
  EXPECT_EQ(dead.Add(Died(1)), "");
  EXPECT_EQ(dead.load_error(), "");
}

TEST(DeadNodesTest, ARestartOnTheSameFileListsTheEarlierRunsDeathsMarkedAsSuch) {
  TempDir dir;
  std::string file = dir.path() + "/dead_nodes.json";
  {
    DeadNodes first(file);
    EXPECT_EQ(first.load_error(), "");  // no file yet: an empty list
    EXPECT_EQ(first.Add(Died(1)), "");
    EXPECT_EQ(first.Add(Died(2)), "");
    EXPECT_FALSE(first.All().front().earlier_run);
  }
  EXPECT_FALSE(std::filesystem::exists(file + ".partial"));
  DeadNodes again(file);
  EXPECT_EQ(again.load_error(), "");
  ASSERT_EQ(again.All().size(), 2u);
  const DeadNodes::Node& n = again.All().front();
  EXPECT_EQ(n.name, "node-1");
  EXPECT_EQ(n.address, "/tmp/s1/node.sock");
  EXPECT_EQ(n.resources, (std::map<std::string, double>{{"CPU", 2}, {"red", 1}}));
  EXPECT_EQ(n.joined_ms, 1001u);
  EXPECT_EQ(n.left_ms, 2001u);
  EXPECT_EQ(n.why, "its connection to the head closed");
  EXPECT_TRUE(n.earlier_run);
  // This run's peer ids are not the earlier run's.
  EXPECT_EQ(again.NameOf(1), "");
  // A death in this run joins them, and the file holds all three.
  again.Add(Died(3));
  DeadNodes third(file);
  ASSERT_EQ(third.All().size(), 3u);
  EXPECT_EQ(third.All().back().name, "node-3");
  EXPECT_TRUE(third.All().back().earlier_run);
}

TEST(DeadNodesTest, TheBoundHoldsAcrossRestarts) {
  TempDir dir;
  std::string file = dir.path() + "/dead_nodes.json";
  {
    DeadNodes first(file);
    for (int i = 0; i < 100; ++i) first.Add(Died(i));
  }
  DeadNodes second(file);
  ASSERT_EQ(second.All().size(), 100u);
  second.Add(Died(100));
  ASSERT_EQ(second.All().size(), 100u);
  EXPECT_EQ(second.All().front().name, "node-1");
  EXPECT_FALSE(second.All().back().earlier_run);
  DeadNodes third(file);
  ASSERT_EQ(third.All().size(), 100u);
  EXPECT_EQ(third.All().front().name, "node-1");
  EXPECT_EQ(third.All().back().name, "node-100");
  // A smaller bound than the file's list keeps the latest deaths.
  DeadNodes small(file, 10);
  ASSERT_EQ(small.All().size(), 10u);
  EXPECT_EQ(small.All().front().name, "node-91");
}

TEST(DeadNodesTest, AFileThatIsNotAListIsReportedAndReplacedAtTheNextDeath) {
  TempDir dir;
  std::string file = dir.path() + "/dead_nodes.json";
  std::ofstream(file) << "{\"version\": 1, \"dead_nodes\": [{\"name\": 7}]}";
  DeadNodes bad_entry(file);
  EXPECT_NE(bad_entry.load_error().find("malformed"), std::string::npos) << bad_entry.load_error();
  EXPECT_TRUE(bad_entry.All().empty());
  std::ofstream(file) << "not json";
  DeadNodes dead(file);
  EXPECT_NE(dead.load_error().find("is not a list of dead nodes"), std::string::npos) << dead.load_error();
  EXPECT_TRUE(dead.All().empty());
  EXPECT_EQ(dead.Add(Died(1)), "");
  DeadNodes again(file);
  EXPECT_EQ(again.load_error(), "");
  ASSERT_EQ(again.All().size(), 1u);
}

TEST(DeadNodesTest, AFileThatCannotBeWrittenIsReportedTheListStillHoldsTheNode) {
  DeadNodes dead("/nonexistent-dir-of-lumen-tests/dead_nodes.json");
  EXPECT_EQ(dead.load_error(), "");
  std::string error = dead.Add(Died(1));
  EXPECT_NE(error.find("cannot create"), std::string::npos) << error;
  EXPECT_EQ(dead.All().size(), 1u);
}

}  // namespace
}  // namespace lumen::internal
