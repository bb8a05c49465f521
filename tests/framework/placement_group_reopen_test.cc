// Placement groups across a cluster's restart from its storage dir: the
// next Init brings every group back under its id, name, bundles and
// strategy; those not removed are reserved again (first created, first
// placed), removed ones stay removed, and a removal after the restart is
// recorded too.
#include <string>

#include <gtest/gtest.h>

#include "lumen/api.h"
#include "temp_dir.h"

namespace {

using lumen::storage::testing::TempDir;

int SevenInAGroup() { return 7; }
LUMEN_REMOTE(SevenInAGroup);

// A driver's cluster of 2 CPUs on a storage dir for one scope, shut down
// even when an assertion returns early.
class Driver {
 public:
  explicit Driver(const std::string& storage_dir) {
    lumen::Config config;
    config.num_cpus = 2;
    config.storage_dir = storage_dir;
    config.include_dashboard = false;
    lumen::Init(config);
  }
  ~Driver() { lumen::Shutdown(); }
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;
};

struct FirstRun {
  std::string kept, removed, waiting;
};

// 2 CPUs: "kept" holds one, "gone" held the other and was removed, and a
// group of 2 CPUs waits for "kept" to go.
FirstRun RunFirstDriver() {
  FirstRun run;
  lumen::PlacementGroup kept =
      lumen::CreatePlacementGroup({"kept", {{{"CPU", 0.5}}, {{"CPU", 0.5}}}, lumen::PlacementStrategy::SPREAD});
  EXPECT_TRUE(kept.Wait(10));
  lumen::PlacementGroup gone = lumen::CreatePlacementGroup({"gone", {{{"CPU", 1}}}, lumen::PlacementStrategy::PACK});
  EXPECT_TRUE(gone.Wait(10));
  lumen::RemovePlacementGroup(gone.GetID());
  lumen::PlacementGroup waiting =
      lumen::CreatePlacementGroup({"", {{{"CPU", 2}}}, lumen::PlacementStrategy::STRICT_PACK});
  EXPECT_EQ(waiting.GetState(), lumen::PlacementGroupState::PENDING);
  run = {kept.GetID(), gone.GetID(), waiting.GetID()};
  lumen::Flush();
  return run;
}

TEST(PlacementGroupReopenTest, GroupsComeBackReservedUnderTheirIdsAndNames) {
  TempDir dir;
  FirstRun run;
  {
    Driver first(dir.path());
    run = RunFirstDriver();
  }
  {
    Driver second(dir.path());
    auto kept = lumen::GetPlacementGroup("kept");
    ASSERT_TRUE(kept) << "a placement group was not restored";
    EXPECT_EQ(kept->GetID(), run.kept);
    EXPECT_EQ(kept->GetStrategy(), lumen::PlacementStrategy::SPREAD);
    std::vector<std::map<std::string, double>> bundles{{{"CPU", 0.5}}, {{"CPU", 0.5}}};
    EXPECT_EQ(kept->GetBundles(), bundles);
    EXPECT_TRUE(kept->Wait(10));
    EXPECT_EQ(*lumen::Task(SevenInAGroup).SetPlacementGroup(*kept, 1).SetResource("CPU", 0.5).Remote().Get(30000), 7);
    EXPECT_THROW(lumen::CreatePlacementGroup({"kept", {{{"CPU", 1}}}, lumen::PlacementStrategy::PACK}), lumen::Error);

    EXPECT_FALSE(lumen::GetPlacementGroup("gone")) << "a removed group came back";
    auto gone = lumen::GetPlacementGroupById(run.removed);
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->GetState(), lumen::PlacementGroupState::REMOVED);
    EXPECT_THROW(lumen::Task(SevenInAGroup).SetPlacementGroup(*gone, 0).Remote().Get(5000), lumen::Error);

    // Still waiting behind "kept", as in the first run; placed once it goes.
    auto waiting = lumen::GetPlacementGroupById(run.waiting);
    ASSERT_TRUE(waiting);
    EXPECT_EQ(waiting->GetState(), lumen::PlacementGroupState::PENDING);
    EXPECT_EQ(lumen::GetAllPlacementGroups().size(), 3u);
    lumen::RemovePlacementGroup(run.kept);
    EXPECT_TRUE(waiting->Wait(10));
    lumen::Flush();
  }
  // The removal in the second run was recorded: the third has only the group of 2 CPUs.
  Driver third(dir.path());
  EXPECT_FALSE(lumen::GetPlacementGroup("kept"));
  auto waiting = lumen::GetPlacementGroupById(run.waiting);
  ASSERT_TRUE(waiting);
  EXPECT_TRUE(waiting->Wait(10));
  lumen::PlacementGroup again = lumen::CreatePlacementGroup({"kept", {{{"CPU", 1}}}, lumen::PlacementStrategy::PACK});
  EXPECT_NE(again.GetID(), run.kept);  // the name is free again; the group is new
  EXPECT_EQ(again.GetState(), lumen::PlacementGroupState::PENDING);  // the 2 CPUs are reserved
}

}  // namespace
