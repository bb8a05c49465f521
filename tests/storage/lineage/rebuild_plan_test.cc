// RebuildPlan: which tasks to re-run, in which order, for a lost object.
#include <gtest/gtest.h>

#include <set>

#include "lumen/storage/lineage_log.h"
#include "temp_dir.h"

namespace lumen::storage {
namespace {

using testing::TempDir;

class RebuildPlanTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(LineageLog::Open(dir_.path(), {}, &log_).ok()); }

  // Records a task `function(args...)` with `returns` return values; gives its first.
  ObjectID Task(const std::string& function, const std::vector<ObjectID>& args, uint32_t returns = 1) {
    TaskRecord task;
    task.id = TaskID::Random();
    task.function = function;
    ArgRecord inline_arg;
    inline_arg.value = "42";
    task.args.push_back(inline_arg);  // inline arguments never need rebuilding
    for (const ObjectID& id : args) {
      ArgRecord arg;
      arg.by_ref = true;
      arg.ref = id;
      task.args.push_back(arg);
    }
    for (uint32_t i = 0; i < returns; ++i) task.returns.push_back(ObjectID::ForTaskReturn(task.id, i));
    log_->Append(task);
    ObjectRecord object;
    object.id = task.returns[0];
    object.created_by = task.id;
    log_->Append(object);
    return task.returns[0];
  }

  ObjectID Put() {
    ObjectRecord object;
    object.id = ObjectID::ForPut();
    object.created_by = object.id.Task();
    object.is_put = true;
    object.owner = "driver";
    log_->Append(object);
    return object.id;
  }

  std::vector<std::string> Plan(const ObjectID& target, const std::set<ObjectID>& existing = {}) {
    EXPECT_TRUE(log_->Flush(10000));
    std::vector<TaskRecord> plan;
    Status s = log_->RebuildPlan(target, [&](const ObjectID& id) { return existing.count(id) > 0; }, &plan);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<std::string> functions;
    for (const auto& t : plan) functions.push_back(t.function);
    return functions;
  }

  Status PlanStatus(const ObjectID& target, const std::set<ObjectID>& existing = {}) {
    EXPECT_TRUE(log_->Flush(10000));
    std::vector<TaskRecord> plan;
    Status s = log_->RebuildPlan(target, [&](const ObjectID& id) { return existing.count(id) > 0; }, &plan);
    EXPECT_TRUE(s.ok() || plan.empty());  // never a partial plan
    return s;
  }

  using Names = std::vector<std::string>;
  TempDir dir_;
  std::unique_ptr<LineageLog> log_;
};

TEST_F(RebuildPlanTest, ATaskWithOnlyInlineArgumentsIsItsOwnPlan) {
  ObjectID a = Task("a", {});
  EXPECT_EQ(Plan(a), Names{"a"});
}

TEST_F(RebuildPlanTest, AnExistingTargetNeedsNothing) {
  ObjectID a = Task("a", {});
  EXPECT_EQ(Plan(a, {a}), Names{});
}

TEST_F(RebuildPlanTest, DiamondRunsTheSharedRootOnceAndFirst) {
  ObjectID a = Task("a", {});
  ObjectID b = Task("b", {a});
  ObjectID c = Task("c", {a});
  ObjectID d = Task("d", {b, c});
  EXPECT_EQ(Plan(d), (Names{"a", "b", "c", "d"}));
  EXPECT_EQ(Plan(d, {a}), (Names{"b", "c", "d"}));
  EXPECT_EQ(Plan(d, {b}), (Names{"a", "c", "d"}));
  EXPECT_EQ(Plan(d, {b, c}), (Names{"d"}));
}

TEST_F(RebuildPlanTest, ChainStopsAtTheFirstExistingObject) {
  std::vector<ObjectID> objects{Task("t0", {})};
  for (int i = 1; i < 10; ++i) objects.push_back(Task("t" + std::to_string(i), {objects.back()}));
  EXPECT_EQ(Plan(objects[9]).size(), 10u);
  EXPECT_EQ(Plan(objects[9], {objects[5]}), (Names{"t6", "t7", "t8", "t9"}));
  EXPECT_EQ(Plan(objects[9], {objects[8]}), (Names{"t9"}));
}

TEST_F(RebuildPlanTest, AVeryDeepChainDoesNotExhaustTheStack) {
  ObjectID last = Task("t", {});
  for (int i = 1; i < 20000; ++i) last = Task("t", {last});
  EXPECT_EQ(Plan(last).size(), 20000u);
}

TEST_F(RebuildPlanTest, ATaskWithSeveralLostReturnsRunsOnce) {
  ObjectID first = Task("split", {}, 2);
  ObjectID second = ObjectID::ForTaskReturn(first.Task(), 1);
  ObjectID joined = Task("join", {first, second, first});
  EXPECT_EQ(Plan(joined), (Names{"split", "join"}));
}

TEST_F(RebuildPlanTest, AnExistingPutArgumentIsUsedAsIs) {
  ObjectID p = Put();
  ObjectID a = Task("a", {p});
  EXPECT_EQ(Plan(a, {p}), Names{"a"});
}

TEST_F(RebuildPlanTest, AMissingPutObjectIsNotFoundAndNamed) {
  ObjectID p = Put();
  ObjectID a = Task("a", {p});
  ObjectID b = Task("b", {a});
  Status s = PlanStatus(b);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find(p.Hex()), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("Put"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(b.Hex()), std::string::npos) << s.message();  // the target too
}

TEST_F(RebuildPlanTest, AnObjectWithoutRecordsIsNotFoundAndNamed) {
  ObjectID stranger = ObjectID::ForTaskReturn(TaskID::Random(), 3);
  ObjectID a = Task("a", {stranger});
  Status s = PlanStatus(a);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find(stranger.Hex()), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("no record"), std::string::npos) << s.message();

  EXPECT_EQ(PlanStatus(stranger).code(), StatusCode::kNotFound);
}

TEST_F(RebuildPlanTest, ThePlanCarriesTheFullTaskSpecs) {
  ObjectID a = Task("a", {});
  ObjectID b = Task("b", {a});
  ASSERT_TRUE(log_->Flush(10000));
  std::vector<TaskRecord> plan;
  ASSERT_TRUE(log_->RebuildPlan(b, [](const ObjectID&) { return false; }, &plan).ok());
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].returns[0], a);
  EXPECT_EQ(plan[1].returns[0], b);
  ASSERT_EQ(plan[1].args.size(), 2u);
  EXPECT_EQ(plan[1].args[0].value, "42");
  EXPECT_EQ(plan[1].args[1].ref, a);
}

}  // namespace
}  // namespace lumen::storage
