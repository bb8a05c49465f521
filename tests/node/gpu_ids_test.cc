// GpuIds: whole grants get ids of their own, fractions share one id (packed
// onto the id most used that still has room), releases free them again; and
// the one sentence every infeasible demand is refused with (feasibility.h).
#include "node/gpu_ids.h"

#include <gtest/gtest.h>

#include <vector>

#include "node/feasibility.h"

namespace lumen::internal {
namespace {

TEST(GpuIdsTest, WholeGrantsGetDistinctIdsUntilNoneAreLeft) {
  GpuIds gpus(3);
  EXPECT_TRUE(gpus.CanGrant(3));
  EXPECT_FALSE(gpus.CanGrant(4));
  EXPECT_EQ(gpus.Grant(2), (std::vector<int>{0, 1}));
  EXPECT_FALSE(gpus.CanGrant(2));
  EXPECT_EQ(gpus.Grant(1), (std::vector<int>{2}));
  EXPECT_FALSE(gpus.CanGrant(0.1));
  EXPECT_TRUE(gpus.Grant(0).empty());  // 0 asks for nothing
  gpus.Release({0, 1}, 2);
  EXPECT_EQ(gpus.Grant(2), (std::vector<int>{0, 1}));
}

TEST(GpuIdsTest, FractionsShareAnIdAndKeepWholeIdsFree) {
  GpuIds gpus(2);
  EXPECT_EQ(gpus.Grant(0.5), (std::vector<int>{0}));
  EXPECT_EQ(gpus.Grant(0.25), (std::vector<int>{0}));  // packed where room is least
  EXPECT_TRUE(gpus.CanGrant(1));                         // id 1 is still whole
  EXPECT_EQ(gpus.Grant(0.5), (std::vector<int>{1}));     // 0.25 left on id 0: too little
  EXPECT_FALSE(gpus.CanGrant(1));                        // 1.25 free in all, but no whole id
  EXPECT_TRUE(gpus.CanGrant(0.5));
  gpus.Release({0}, 0.5);
  gpus.Release({0}, 0.25);
  EXPECT_EQ(gpus.Grant(1), (std::vector<int>{0}));
}

TEST(GpuIdsTest, ANodeWithoutGpusGrantsOnlyNothing) {
  GpuIds none;
  EXPECT_TRUE(none.CanGrant(0));
  EXPECT_FALSE(none.CanGrant(0.5));
  EXPECT_FALSE(none.CanGrant(1));
}

TEST(FeasibilityTest, DemandWithinTheTotalIsNoRefusal) {
  EXPECT_EQ(InfeasibleDemand("task 'f'", {{"CPU", 2}, {"GPU", 0.5}}, {{"CPU", 2}, {"GPU", 1}}), "");
  EXPECT_EQ(InfeasibleDemand("task 'f'", {}, {}), "");
}

TEST(FeasibilityTest, TheRefusalNamesTheDemandAndTheWholeTotal) {
  EXPECT_EQ(InfeasibleDemand("task 'f'", {{"GPU", 2}}, {{"CPU", 2}}),
            "task 'f' asks for {GPU: 2} but the cluster has {CPU: 2, GPU: 0} in all, and an embedded cluster "
            "cannot grow");
  EXPECT_EQ(Refusal("placement group 'p'", "2 bundles", "1 node"),
            "placement group 'p' asks for 2 bundles but the cluster has 1 node, and an embedded cluster cannot grow");
  EXPECT_EQ(FormatResources({{"CPU", 1.5}, {"disk", 2}}), "{CPU: 1.5, disk: 2}");
}

}  // namespace
}  // namespace lumen::internal
