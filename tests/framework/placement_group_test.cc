// Placement groups on an embedded (single-node) cluster with 2 CPUs.
#include <gtest/gtest.h>

#include "cluster_fixture.h"
#include "lumen/api.h"

namespace {

int Seven() { return 7; }
class Box {
 public:
  static Box* Make(int v) { return new Box{v}; }
  int Value() { return v_; }
  explicit Box(int v) : v_(v) {}

 private:
  int v_;
};
LUMEN_REMOTE(Seven, Box::Make, &Box::Value);

using PlacementGroupTest = ClusterTest;

TEST_F(PlacementGroupTest, CreateWaitFindAndRemove) {
  lumen::PlacementGroupCreationOptions opts{"pg_name", {{{"CPU", 1}}, {{"CPU", 1}}}, lumen::PlacementStrategy::SPREAD};
  lumen::PlacementGroup pg = lumen::CreatePlacementGroup(opts);
  EXPECT_TRUE(pg.Wait(10));
  EXPECT_EQ(pg.GetState(), lumen::PlacementGroupState::CREATED);
  EXPECT_EQ(lumen::GetPlacementGroup("pg_name")->GetID(), pg.GetID());
  EXPECT_EQ(lumen::GetPlacementGroupById(pg.GetID())->GetName(), "pg_name");
  EXPECT_EQ(lumen::GetAllPlacementGroups().size(), 1u);
  EXPECT_THROW(lumen::CreatePlacementGroup(opts), lumen::Error);  // the name is taken

  // Tasks and actors run in its bundles; a request larger than the bundle is refused.
  EXPECT_EQ(*lumen::Task(Seven).SetPlacementGroup(pg, 0).SetResource("CPU", 1).Remote().Get(), 7);
  auto box = lumen::Actor(Box::Make).SetPlacementGroup(pg, 1).SetResources({{"CPU", 1}}).Remote(3);
  EXPECT_EQ(*box.Task(&Box::Value).Remote().Get(), 3);
  EXPECT_THROW(lumen::Task(Seven).SetPlacementGroup(pg, 0).SetResource("CPU", 2).Remote().Get(5000), lumen::Error);
  EXPECT_THROW(lumen::Task(Seven).SetPlacementGroup(pg, 5).Remote().Get(5000), lumen::Error);

  // A group that does not fit waits (PENDING) until room is freed.
  lumen::PlacementGroup big = lumen::CreatePlacementGroup({"", {{{"CPU", 2}}}, lumen::PlacementStrategy::PACK});
  EXPECT_FALSE(big.Wait(0));
  EXPECT_EQ(big.GetState(), lumen::PlacementGroupState::PENDING);
  lumen::RemovePlacementGroup(pg.GetID());
  EXPECT_EQ(pg.GetState(), lumen::PlacementGroupState::REMOVED);
  EXPECT_FALSE(lumen::GetPlacementGroup("pg_name").has_value());
  EXPECT_TRUE(big.Wait(10));  // placed once pg released its CPUs
  EXPECT_THROW(lumen::Task(Seven).SetPlacementGroup(pg, 0).Remote().Get(5000), lumen::Error);  // removed
  lumen::RemovePlacementGroup(big.GetID());
}

TEST_F(PlacementGroupTest, StrictSpreadNeedsAsManyNodesAsBundles) {
  // One node: never placed, so refused at once (an embedded cluster cannot grow).
  EXPECT_THROW(lumen::CreatePlacementGroup({"", {{{"CPU", 1}}, {{"CPU", 1}}}, lumen::PlacementStrategy::STRICT_SPREAD}),
               lumen::InfeasibleError);
  EXPECT_THROW(lumen::CreatePlacementGroup({"", {}, lumen::PlacementStrategy::PACK}), lumen::Error);
}

}  // namespace
