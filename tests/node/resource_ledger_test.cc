// ResourceLedger: grants and their GPU ids, and a placement group's bundle
// through hold, commit and return — the pool it leaves, the group's own
// names it comes back under, the ids its tasks get from it.
#include "node/resource_ledger.h"

#include <gtest/gtest.h>

#include "node/bundle_placement.h"

namespace lumen::internal {
namespace {

double Free(const ResourceLedger& ledger, const std::string& name) {
  auto it = ledger.available().find(name);
  return it == ledger.available().end() ? 0 : it->second;
}

TEST(ResourceLedgerTest, AGrantTakesItsShapeAndItsGpuIdsAndGivesThemBack) {
  ResourceLedger ledger({{"CPU", 4}, {"GPU", 2}});
  EXPECT_TRUE(ledger.Fits({{"CPU", 4}, {"GPU", 2}}));
  EXPECT_FALSE(ledger.Fits({{"CPU", 5}}));
  EXPECT_FALSE(ledger.Fits({{"memory", 1}})) << "a resource the node lacks never fits";
  const std::vector<int> first = ledger.Take({{"CPU", 1}, {"GPU", 1}});
  EXPECT_EQ(first, std::vector<int>{0});
  EXPECT_EQ(ledger.Take({{"CPU", 1}, {"GPU", 0.5}}), std::vector<int>{1});
  EXPECT_DOUBLE_EQ(Free(ledger, "CPU"), 2);
  EXPECT_DOUBLE_EQ(Free(ledger, "GPU"), 0.5);
  EXPECT_FALSE(ledger.Fits({{"GPU", 0.5}, {"CPU", 3}}));
  ledger.GiveBack({{"CPU", 1}, {"GPU", 1}}, first);
  EXPECT_TRUE(ledger.Fits({{"GPU", 1}}));
  EXPECT_FALSE(ledger.Fits({{"GPU", 1.5}})) << "1.5 free, but id 1 is shared";
  ledger.Lend("CPU", 1);  // a worker blocked in Get
  EXPECT_DOUBLE_EQ(Free(ledger, "CPU"), 4);
}

TEST(ResourceLedgerTest, ABundleLeavesThePoolAndComesBackUnderItsGroupsNames) {
  ResourceLedger ledger({{"CPU", 4}, {"GPU", 2}});
  ResourceShape asked;
  ASSERT_TRUE(ledger.Hold("g", {{0, {{"CPU", 2}, {"GPU", 1}}}, {1, {{"CPU", 1}}}}, &asked));
  EXPECT_EQ(asked, (ResourceShape{{"CPU", 3}, {"GPU", 1}}));
  EXPECT_DOUBLE_EQ(Free(ledger, "CPU"), 1);
  EXPECT_EQ(ledger.HeldGroups(), std::vector<std::string>{"g"});
  // Prepared only: nobody can use it yet.
  const ResourceShape in_bundle0 = BundleShape({{"CPU", 1}, {"GPU", 1}}, "g", 0);
  EXPECT_FALSE(ledger.Fits(in_bundle0));

  ledger.Commit("g", {0, 1});
  EXPECT_DOUBLE_EQ(Free(ledger, BundleResourceName("CPU", "g", 0)), 2);
  EXPECT_DOUBLE_EQ(Free(ledger, BundleResourceName("CPU", "g", -1)), 3);
  ASSERT_TRUE(ledger.Fits(in_bundle0));
  // The bundle's task gets its GPU id from those the bundle holds (id 0).
  const std::vector<int> ids = ledger.Take(in_bundle0);
  EXPECT_EQ(ids, std::vector<int>{0});
  EXPECT_FALSE(ledger.Fits(in_bundle0)) << "its one GPU is taken";
  EXPECT_TRUE(ledger.Fits({{"GPU", 1}})) << "the node's other id is still free";
  ledger.GiveBack(in_bundle0, ids);
  EXPECT_TRUE(ledger.Fits(in_bundle0));

  // Asked again for a bundle it holds: nothing more is taken.
  ASSERT_TRUE(ledger.Hold("g", {{1, {{"CPU", 1}}}}, &asked));
  EXPECT_TRUE(asked.empty());
  ledger.Return("g", {});
  EXPECT_TRUE(ledger.HeldGroups().empty());
  EXPECT_DOUBLE_EQ(Free(ledger, "CPU"), 4);
  EXPECT_TRUE(ledger.Fits({{"GPU", 2}}));
  EXPECT_EQ(ledger.available().count(BundleResourceName("CPU", "g", -1)), 0u) << "the group's names go with it";
}

TEST(ResourceLedgerTest, BundlesThatDoNotFitTogetherAreNotHeldAtAll) {
  ResourceLedger ledger({{"CPU", 2}});
  ResourceShape asked;
  EXPECT_FALSE(ledger.Hold("g", {{0, {{"CPU", 2}}}, {1, {{"CPU", 1}}}}, &asked));
  EXPECT_EQ(asked, (ResourceShape{{"CPU", 3}}));
  EXPECT_TRUE(ledger.HeldGroups().empty());
  EXPECT_DOUBLE_EQ(Free(ledger, "CPU"), 2);
}

TEST(ResourceLedgerTest, ATaskHoldingABundlesIdsGivesThemBackToThatBundle) {
  ResourceLedger ledger({{"GPU", 2}});
  ResourceShape asked;
  ASSERT_TRUE(ledger.Hold("a", {{0, {{"GPU", 1}}}}, &asked));
  ASSERT_TRUE(ledger.Hold("b", {{0, {{"GPU", 1}}}}, &asked));
  ledger.Commit("a", {0});
  ledger.Commit("b", {0});
  const ResourceShape any_of_b = BundleShape({{"GPU", 1}}, "b", -1);
  const std::vector<int> ids = ledger.Take(any_of_b);
  EXPECT_EQ(ids, std::vector<int>{1}) << "b's bundle holds id 1";
  ledger.GiveBack(any_of_b, ids);
  EXPECT_TRUE(ledger.Fits(any_of_b));
  // Returned while a task held its ids: they go back to the node with the
  // bundle, and may be granted again before that task gives its share back.
  const std::vector<int> held = ledger.Take(any_of_b);
  ledger.Return("b", {});
  EXPECT_EQ(ledger.Take({{"GPU", 1}}), std::vector<int>{1});
  ledger.GiveBack(any_of_b, held);
  EXPECT_FALSE(ledger.Fits({{"GPU", 1}})) << "id 1 is granted again, id 0 is a's: the late give-back freed neither";
  EXPECT_EQ(ledger.available().count(BundleResourceName("GPU", "b", -1)), 0u) << "and brought no name of b back";
}

}  // namespace
}  // namespace lumen::internal
