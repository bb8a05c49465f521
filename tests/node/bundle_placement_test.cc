// Where a placement group's bundles go by its strategy, and the names a
// reserved bundle's resources take on its node (node/bundle_placement.h).
#include "node/bundle_placement.h"

#include <gtest/gtest.h>

namespace lumen::internal {
namespace {

using S = PlacementStrategy;
const BundleResources kOneCpu{{"CPU", 1}};

std::vector<NodeRoom> Nodes(std::vector<double> cpus) {
  std::vector<NodeRoom> nodes;
  for (size_t i = 0; i < cpus.size(); ++i) nodes.push_back({"n" + std::to_string(i), {{"CPU", cpus[i]}}});
  return nodes;
}

TEST(BundlePlacement, StrictPackPutsEveryBundleOnOneNodeOrNowhere) {
  EXPECT_EQ(*PlanBundles(S::STRICT_PACK, {kOneCpu, kOneCpu}, Nodes({1, 2, 2})), (std::vector<int>{1, 1}));
  EXPECT_FALSE(PlanBundles(S::STRICT_PACK, {kOneCpu, kOneCpu, kOneCpu}, Nodes({2, 2, 2})));
}

TEST(BundlePlacement, PackUsesOneNodeWhenItCanElseAsFewAsFit) {
  EXPECT_EQ(*PlanBundles(S::PACK, {kOneCpu, kOneCpu}, Nodes({1, 2})), (std::vector<int>{1, 1}));
  EXPECT_EQ(*PlanBundles(S::PACK, {kOneCpu, kOneCpu, kOneCpu}, Nodes({1, 2})), (std::vector<int>{0, 1, 1}));
  EXPECT_FALSE(PlanBundles(S::PACK, {kOneCpu, kOneCpu, kOneCpu, kOneCpu}, Nodes({1, 2})));
}

TEST(BundlePlacement, StrictSpreadPutsEachBundleOnANodeOfItsOwn) {
  EXPECT_EQ(*PlanBundles(S::STRICT_SPREAD, {kOneCpu, kOneCpu, kOneCpu}, Nodes({4, 1, 1})),
            (std::vector<int>{0, 1, 2}));
  EXPECT_FALSE(PlanBundles(S::STRICT_SPREAD, {kOneCpu, kOneCpu, kOneCpu}, Nodes({4, 4})));
  EXPECT_FALSE(PlanBundles(S::STRICT_SPREAD, {kOneCpu, kOneCpu}, Nodes({4, 0})));
}

TEST(BundlePlacement, SpreadPrefersNodesOfTheirOwnButSharesWhenItMust) {
  EXPECT_EQ(*PlanBundles(S::SPREAD, {kOneCpu, kOneCpu}, Nodes({4, 4})), (std::vector<int>{0, 1}));
  EXPECT_EQ(*PlanBundles(S::SPREAD, {kOneCpu, kOneCpu, kOneCpu}, Nodes({4, 1})), (std::vector<int>{0, 1, 0}));
}

TEST(BundlePlacement, ABundleKeptWhereItIsBindsWhereTheOthersGo) {
  // Bundle 0 stays on n2 (its node lives on): STRICT_PACK puts bundle 1 there too...
  EXPECT_EQ(*PlanBundles(S::STRICT_PACK, {kOneCpu, kOneCpu}, Nodes({4, 4, 1}), {2, -1}), (std::vector<int>{2, 2}));
  EXPECT_FALSE(PlanBundles(S::STRICT_PACK, {kOneCpu, kOneCpu}, Nodes({4, 4, 0}), {2, -1}));
  // ...and STRICT_SPREAD anywhere else.
  EXPECT_EQ(*PlanBundles(S::STRICT_SPREAD, {kOneCpu, kOneCpu}, Nodes({0, 4, 4}), {1, -1}), (std::vector<int>{1, 2}));
}

TEST(BundlePlacement, EveryResourceOfABundleMustFit) {
  std::vector<NodeRoom> nodes{{"cpu", {{"CPU", 8}}}, {"gpu", {{"CPU", 1}, {"GPU", 1}}}};
  EXPECT_EQ(*PlanBundles(S::PACK, {{{"CPU", 1}, {"GPU", 1}}, kOneCpu}, nodes), (std::vector<int>{1, 0}));
  EXPECT_FALSE(PlanBundles(S::PACK, {{{"GPU", 2}}}, nodes));
}

TEST(BundlePlacement, AReservedBundleIsOfferedUnderItsOwnNameAndItsGroups) {
  EXPECT_EQ(ReservedAs({{"CPU", 2}}, "g", 1), (BundleResources{{"CPU_group_1_g", 2}, {"CPU_group_g", 2}}));
  // A task of bundle 1 takes from both; one of any bundle from the group's sum only.
  EXPECT_EQ(BundleShape({{"CPU", 1}}, "g", 1), (BundleResources{{"CPU_group_1_g", 1}, {"CPU_group_g", 1}}));
  EXPECT_EQ(BundleShape({{"CPU", 1}}, "g", -1), (BundleResources{{"CPU_group_g", 1}}));
  EXPECT_TRUE(IsBundleResource("CPU_group_g"));
  EXPECT_FALSE(IsBundleResource("CPU"));
}

}  // namespace
}  // namespace lumen::internal
