// The head's list of the nodes that left, by itself: its bound (the oldest
// deaths go first) and its file in a temporary directory, read again as a
// restarted head reads it, with the members it then waits for.
#include "node/dead_nodes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

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
  dead.Add(Died(1));
  EXPECT_EQ(dead.Flush(), "");
  EXPECT_EQ(dead.load_error(), "");
}

TEST(DeadNodesTest, ARestartOnTheSameFileListsTheEarlierRunsDeathsMarkedAsSuch) {
  TempDir dir;
  std::string file = dir.path() + "/dead_nodes.json";
  {
    DeadNodes first(file);
    EXPECT_EQ(first.load_error(), "");  // no file yet: an empty list
    first.Add(Died(1));
    first.Add(Died(2));
    EXPECT_FALSE(first.All().front().earlier_run);
  }  // its destructor writes the latest list
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
  EXPECT_EQ(again.Flush(), "");
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
  EXPECT_EQ(second.Flush(), "");
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
  dead.Add(Died(1));
  EXPECT_EQ(dead.Flush(), "");
  DeadNodes again(file);
  EXPECT_EQ(again.load_error(), "");
  ASSERT_EQ(again.All().size(), 1u);
}

TEST(DeadNodesTest, AFileThatCannotBeWrittenIsReportedTheListStillHoldsTheNode) {
  DeadNodes dead("/nonexistent-dir-of-lumen-tests/dead_nodes.json");
  EXPECT_EQ(dead.load_error(), "");
  dead.Add(Died(1));
  std::string error = dead.Flush();
  EXPECT_NE(error.find("cannot create"), std::string::npos) << error;
  EXPECT_EQ(dead.All().size(), 1u);
}


// A member as its daemon registers: `instance` the id its daemon presents
// (cli/head_registration.h), by default one of its own per name.
DeadNodes::Node Member(const std::string& name, int peer, const std::string& instance = "") {
  return {name, "/tmp/" + name + "/node.sock", {{"CPU", 1}}, 500, 0, "", peer, false,
          instance.empty() ? "instance-of-" + name : instance};
}

TEST(DeadNodesTest, TheEarlierRunsMembersThatDoNotRegisterAgainAreListedDeadOnceTheWaitIsOver) {
  TempDir dir;
  std::string file = dir.path() + "/dead_nodes.json";
  {
    DeadNodes first(file);
    first.Joined(Member("red", 0));
    first.Joined(Member("blue", 1));
    first.Joined(Member("gone", 2));
    first.Add({"gone", "", {}, 500, 900, "its connection to the head closed", 2});  // dead: no member now
    EXPECT_EQ(first.DeclareAbsent(1000), std::vector<std::string>{});  // none of an earlier run
  }
  DeadNodes again(file, DeadNodes::kCapacity, std::chrono::hours(1));
  ASSERT_EQ(again.Awaited().size(), 2u);
  EXPECT_EQ(again.DeclareAbsent(1000), std::vector<std::string>{});  // the wait is not over
  again.Joined(Member("blue", 0));                                     // blue came back
  ASSERT_EQ(again.Awaited().size(), 1u);
  EXPECT_EQ(again.Awaited().front().name, "red");
  EXPECT_EQ(again.Flush(), "");

  // A head restarted again meanwhile waits for red again, and blue (a member now).
  DeadNodes third(file, DeadNodes::kCapacity, std::chrono::milliseconds(0));
  ASSERT_EQ(third.Awaited().size(), 2u);
  third.Joined(Member("blue", 0));
  EXPECT_EQ(third.DeclareAbsent(3000), std::vector<std::string>{"red"});
  EXPECT_TRUE(third.Awaited().empty());
  EXPECT_EQ(third.DeclareAbsent(4000), std::vector<std::string>{});  // once
  ASSERT_EQ(third.All().size(), 2u);
  const DeadNodes::Node& red = third.All().back();
  EXPECT_EQ(red.name, "red");
  EXPECT_EQ(red.why, DeadNodes::kNotBack);
  EXPECT_EQ(red.left_ms, 3000u);
  EXPECT_EQ(red.joined_ms, 500u);
  EXPECT_EQ(red.address, "/tmp/red/node.sock");
  EXPECT_EQ(red.resources, (std::map<std::string, double>{{"CPU", 1}}));
  EXPECT_TRUE(red.earlier_run);
  EXPECT_EQ(third.Flush(), "");

  DeadNodes fourth(file, DeadNodes::kCapacity, std::chrono::milliseconds(0));
  ASSERT_EQ(fourth.Awaited().size(), 1u);  // blue only
  EXPECT_EQ(fourth.Awaited().front().name, "blue");
  ASSERT_EQ(fourth.All().size(), 2u);
  EXPECT_EQ(fourth.All().back().why, DeadNodes::kNotBack);
}

TEST(DeadNodesTest, AClusterStoppedOnPurposeLeavesNoMemberToWaitFor) {
  TempDir dir;
  std::string file = dir.path() + "/dead_nodes.json";
  {
    DeadNodes first(file);
    first.Joined(Member("red", 0));
    first.ClusterStopped();
  }
  DeadNodes again(file, DeadNodes::kCapacity, std::chrono::milliseconds(0));
  EXPECT_TRUE(again.Awaited().empty());
  EXPECT_EQ(again.DeclareAbsent(1000), std::vector<std::string>{});
  EXPECT_TRUE(again.All().empty());
}

TEST(DeadNodesTest, AFileOfAnEarlierVersionWithoutMembersIsRead) {
  TempDir dir;
  std::string file = dir.path() + "/dead_nodes.json";
  std::ofstream(file) << "{\"version\": 1, \"dead_nodes\": [{\"name\": \"red\", \"left_ms\": 7}]}";
  DeadNodes dead(file, DeadNodes::kCapacity, std::chrono::milliseconds(0));
  EXPECT_EQ(dead.load_error(), "");
  ASSERT_EQ(dead.All().size(), 1u);
  EXPECT_TRUE(dead.Awaited().empty());
}

// A member is known again by its name and its daemon's instance: another
// daemon under its name (a stranger, or the node's daemon restarted, which
// keeps nothing of the one before) is a new node; the member stays awaited.
TEST(DeadNodesTest, AMemberIsKnownAgainByItsNameAndItsDaemonsInstance) {
  DeadNodes::Node red = Member("red", 0, "a1");
  EXPECT_TRUE(DeadNodes::IsBack(red, Member("red", 4, "a1")));
  EXPECT_FALSE(DeadNodes::IsBack(red, Member("red", 4, "b2")));   // another daemon named red
  EXPECT_FALSE(DeadNodes::IsBack(red, Member("blue", 4, "a1")));  // a daemon keeps its name
  DeadNodes::Node unnamed = Member("red", 4);
  unnamed.instance = "";  // a daemon that presents none is not the one that did
  EXPECT_FALSE(DeadNodes::IsBack(red, unnamed));
  DeadNodes::Node recorded_without = red;
  recorded_without.instance = "";  // a file written before heads recorded instances: by name
  EXPECT_TRUE(DeadNodes::IsBack(recorded_without, Member("red", 4, "b2")));
}

TEST(DeadNodesTest, AnotherDaemonUnderAnAwaitedMembersNameLeavesItAwaitedThenDead) {
  TempDir dir;
  std::string file = dir.path() + "/dead_nodes.json";
  {
    DeadNodes first(file);
    first.Joined(Member("red", 0, "red-first"));
    first.Joined(Member("blue", 1, "blue-first"));
  }
  DeadNodes again(file, DeadNodes::kCapacity, std::chrono::hours(1));
  ASSERT_EQ(again.Awaited().size(), 2u);
  EXPECT_EQ(again.Awaited().front().instance, "red-first");  // read back from the file
  EXPECT_EQ(again.Joined(Member("red", 0, "red-second")), DeadNodes::Rejoined::kNamesake);
  EXPECT_EQ(again.Awaited().size(), 2u);  // still awaited: red's daemon is not back
  EXPECT_EQ(again.Joined(Member("blue", 1, "blue-first")), DeadNodes::Rejoined::kBack);
  ASSERT_EQ(again.Awaited().size(), 1u);
  EXPECT_EQ(again.Awaited().front().instance, "red-first");
  EXPECT_EQ(again.Joined(Member("green", 2)), DeadNodes::Rejoined::kNew);
  EXPECT_EQ(again.Flush(), "");

  // Restarted again, the head awaits this run's members (the new red among
  // them) and the earlier red, still not back: listed dead once the wait is over.
  DeadNodes third(file, DeadNodes::kCapacity, std::chrono::milliseconds(0));
  std::set<std::pair<std::string, std::string>> awaited;  // name, instance
  for (const DeadNodes::Node& n : third.Awaited()) awaited.emplace(n.name, n.instance);
  EXPECT_EQ(awaited, (std::set<std::pair<std::string, std::string>>{{"blue", "blue-first"},
                                                                    {"green", "instance-of-green"},
                                                                    {"red", "red-first"},
                                                                    {"red", "red-second"}}));
  EXPECT_EQ(third.Joined(Member("red", 0, "red-second")), DeadNodes::Rejoined::kBack);
  std::vector<std::string> absent = third.DeclareAbsent(5000);
  std::sort(absent.begin(), absent.end());
  EXPECT_EQ(absent, (std::vector<std::string>{"blue", "green", "red"}));
  ASSERT_EQ(third.All().size(), 3u);
  for (const DeadNodes::Node& n : third.All()) {
    if (n.name != "red") continue;
    EXPECT_EQ(n.instance, "red-first");  // the earlier daemon is the dead one
  }
}

TEST(DeadNodesTest, TheWaitsDeadlineIsKnownWhileMembersAreAwaited) {
  TempDir dir;
  std::string file = dir.path() + "/dead_nodes.json";
  {
    DeadNodes first(file);
    first.Joined(Member("red", 0));
  }
  auto before = std::chrono::steady_clock::now();
  DeadNodes again(file, DeadNodes::kCapacity, std::chrono::seconds(30));
  auto after = std::chrono::steady_clock::now();
  ASSERT_EQ(again.Awaited().size(), 1u);
  EXPECT_GE(again.rejoin_deadline(), before + std::chrono::seconds(30));
  EXPECT_LE(again.rejoin_deadline(), after + std::chrono::seconds(30));
}

}  // namespace
}  // namespace lumen::internal
