// Resource amounts as Ray takes them (>= 0, 0 = none of it, whole above 1),
// refused where they are set; and one rule for demand the cluster can never
// meet: a task, an actor and a placement group asking for more than an
// embedded cluster has are all refused at once, where they are made, with
// InfeasibleError and the same sentence.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "lumen/api.h"

namespace {

int RulesInc(int x) { return x + 1; }
class RulesBox {
 public:
  static RulesBox* Make() { return new RulesBox; }
  int One() { return 1; }
};
// Inside a task: a nested submission is refused where it is made too.
std::string RulesNestedInfeasible() {
  try {
    lumen::Task(RulesInc).SetResource("GPU", 9).Remote(1);
    return "accepted";
  } catch (const lumen::InfeasibleError& e) {
    return e.what();
  }
}
LUMEN_REMOTE(RulesInc, RulesBox::Make, &RulesBox::One, RulesNestedInfeasible);

class ResourceRulesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    lumen::Config config;
    config.num_cpus = 2;
    config.resources = {{"GPU", 2}};
    lumen::Init(config);
  }
  static void TearDownTestSuite() { lumen::Shutdown(); }
};

std::string Contains(const std::string& text, const std::string& part) {
  return text.find(part) == std::string::npos ? "'" + part + "' not in: " + text : "";
}

TEST_F(ResourceRulesTest, BadAmountsAreRefusedWhereTheyAreSet) {
  const double kInf = std::numeric_limits<double>::infinity();
  for (double bad : {-1.0, std::nan(""), kInf, 1.5, 2.25}) {
    auto task = lumen::Task(RulesInc);
    try {
      task.SetResource("GPU", bad);
      ADD_FAILURE() << "SetResource(GPU, " << bad << ") was accepted";
    } catch (const lumen::Error& e) {
      EXPECT_EQ(Contains(e.what(), "SetResource: resource GPU="), "");
    }
    auto actor = lumen::Actor(RulesBox::Make);
    EXPECT_THROW(actor.SetResources({{"CPU", 1}, {"disk", bad}}), lumen::Error) << bad;
  }
  try {
    lumen::Task(RulesInc).SetResource("GPU", 1.5);
    FAIL();
  } catch (const lumen::Error& e) {
    EXPECT_EQ(Contains(e.what(), "GPU=1.5"), "");
    EXPECT_EQ(Contains(e.what(), "whole numbers"), "");
  }
}

// As Ray: 0 asks for nothing, even of a resource the node lacks; CPU 0 is
// no CPU rather than the default one.
TEST_F(ResourceRulesTest, ZeroAsksForNothing) {
  EXPECT_EQ(*lumen::Task(RulesInc).SetResource("TPU", 0).Remote(1).Get(30000), 2);
  EXPECT_EQ(*lumen::Task(RulesInc).SetResource("CPU", 0).Remote(2).Get(30000), 3);
  EXPECT_EQ(*lumen::Task(RulesInc).SetResources({{"CPU", 2}, {"GPU", 2}}).Remote(3).Get(30000), 4);
  auto box = lumen::Actor(RulesBox::Make).SetResource("TPU", 0).Remote();
  EXPECT_EQ(*box.Task(&RulesBox::One).Remote().Get(30000), 1);
}

TEST_F(ResourceRulesTest, BadBundlesAreRefusedAtCreate) {
  using S = lumen::PlacementStrategy;
  for (double bad : {-1.0, 1.5, std::nan("")}) {
    try {
      lumen::CreatePlacementGroup({"", {{{"CPU", bad}}}, S::PACK});
      ADD_FAILURE() << "bundle CPU=" << bad << " was accepted";
    } catch (const lumen::Error& e) {
      EXPECT_EQ(Contains(e.what(), "bundle 0: resource CPU="), "");
    }
  }
  EXPECT_THROW(lumen::CreatePlacementGroup({"", {{{"CPU", 0}}}, S::PACK}), lumen::Error);  // asks for nothing
  auto pg = lumen::CreatePlacementGroup({"", {{{"CPU", 1}, {"TPU", 0}}}, S::PACK});  // the zero is dropped
  EXPECT_TRUE(pg.Wait(10));
  EXPECT_EQ(pg.GetBundles()[0].count("TPU"), 0u);
  lumen::RemovePlacementGroup(pg.GetID());
}

// The three kinds of demand, refused alike where they are made.
TEST_F(ResourceRulesTest, InfeasibleTasksActorsAndGroupsAreRefusedAlike) {
  const std::string kTail = " but the cluster has {CPU: 2, GPU: 2} in all, and an embedded cluster cannot grow";
  try {
    lumen::Task(RulesInc).SetName("inc").SetResource("GPU", 3).Remote(1);
    FAIL() << "an infeasible task was accepted";
  } catch (const lumen::InfeasibleError& e) {
    EXPECT_EQ(std::string(e.what()), "task 'inc' asks for {CPU: 1, GPU: 3}" + kTail);
  }
  try {
    lumen::Actor(RulesBox::Make).SetResource("GPU", 3).Remote();
    FAIL() << "an infeasible actor was accepted";
  } catch (const lumen::InfeasibleError& e) {
    EXPECT_EQ(Contains(e.what(), "RulesBox' asks for {GPU: 3}" + kTail), "");
    EXPECT_EQ(std::string(e.what()).rfind("actor '", 0), 0u) << e.what();
  }
  try {
    lumen::CreatePlacementGroup({"big", {{{"GPU", 2}}, {{"GPU", 1}}}, lumen::PlacementStrategy::PACK});
    FAIL() << "an infeasible placement group was accepted";
  } catch (const lumen::InfeasibleError& e) {
    EXPECT_EQ(std::string(e.what()), "placement group 'big' asks for {GPU: 3}" + kTail);
  }
  EXPECT_FALSE(lumen::GetPlacementGroup("big").has_value());
  // A resource the cluster lacks is shown as 0 of it.
  try {
    lumen::Task(RulesInc).SetResource("TPU", 1).Remote(1);
    FAIL();
  } catch (const lumen::InfeasibleError& e) {
    EXPECT_EQ(Contains(e.what(), "the cluster has {CPU: 2, GPU: 2, TPU: 0} in all"), "");
  }
  // Refused again each time (nothing remembers a refusal), and from a worker too.
  EXPECT_THROW(lumen::Task(RulesInc).SetResource("GPU", 3).Remote(1), lumen::InfeasibleError);
  EXPECT_EQ(Contains(*lumen::Task(RulesNestedInfeasible).Remote().Get(30000), "asks for {CPU: 1, GPU: 9}"), "");
  // Feasible demand still runs, the same shape as soon as it is accepted.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*lumen::Task(RulesInc).SetResource("GPU", 2).Remote(i).Get(30000), i + 1);
}

TEST_F(ResourceRulesTest, StrictSpreadOfSeveralBundlesIsRefusedOnOneNode) {
  try {
    lumen::CreatePlacementGroup({"", {{{"CPU", 1}}, {{"CPU", 1}}}, lumen::PlacementStrategy::STRICT_SPREAD});
    FAIL() << "accepted";
  } catch (const lumen::InfeasibleError& e) {
    EXPECT_EQ(std::string(e.what()),
              "a placement group asks for 2 bundles on as many nodes (STRICT_SPREAD) but the cluster has 1 node, and "
              "an embedded cluster cannot grow");
  }
  auto one = lumen::CreatePlacementGroup({"", {{{"CPU", 1}}}, lumen::PlacementStrategy::STRICT_SPREAD});
  EXPECT_TRUE(one.Wait(10));
  lumen::RemovePlacementGroup(one.GetID());
}

TEST(ResourceConfigTest, ZeroIsNoneAndGpusAreWhole) {
  for (double bad : {0.5, 1.5}) {
    lumen::Config config;
    config.resources = {{"GPU", bad}};
    try {
      lumen::Init(config);
      ADD_FAILURE() << "GPU=" << bad << " was accepted";
      lumen::Shutdown();
    } catch (const lumen::Error& e) {
      EXPECT_EQ(Contains(e.what(), "Config::resources: resource GPU="), "");
    }
    EXPECT_FALSE(lumen::IsInitialized());
  }
  lumen::Config config;
  config.num_cpus = 1;
  config.resources = {{"GPU", 0}, {"disk", 0}};
  lumen::Init(config);
  EXPECT_THROW(lumen::Task(RulesInc).SetResource("GPU", 1).Remote(1), lumen::InfeasibleError);
  EXPECT_EQ(*lumen::Task(RulesInc).Remote(1).Get(30000), 2);
  lumen::Shutdown();
}

}  // namespace
