// TaskDependencies: a task is ready once every dependency it was given is
// ready (a repeated one each time), fails with the first that fails, comes
// back once either way, and is not reported after it was forgotten.
#include "node/task_dependencies.h"

#include <gtest/gtest.h>

#include <vector>

namespace lumen::internal {
namespace {

std::vector<TaskID> Tasks(int n) {
  std::vector<TaskID> ids;
  for (int i = 0; i < n; ++i) ids.push_back(TaskID::Random());
  return ids;
}

std::vector<ObjectID> Objects(int n) {
  std::vector<ObjectID> ids;
  for (int i = 0; i < n; ++i) ids.push_back(ObjectID::ForPut());
  return ids;
}

TEST(TaskDependenciesTest, StartsEmpty) {
  TaskDependencies deps;
  EXPECT_EQ(deps.size(), 0u);
  EXPECT_FALSE(deps.Waits(TaskID::Random()));
  EXPECT_TRUE(deps.Ready(ObjectID::ForPut()).empty());
  EXPECT_TRUE(deps.Failed(ObjectID::ForPut()).empty());
  deps.Forget(TaskID::Random());  // harmless
}

TEST(TaskDependenciesTest, ReadyOnceItsOnlyDependencyIs) {
  TaskDependencies deps;
  auto t = Tasks(1);
  auto o = Objects(1);
  deps.Add(t[0], o[0]);
  EXPECT_TRUE(deps.Waits(t[0]));
  EXPECT_EQ(deps.Ready(o[0]), t);
  EXPECT_FALSE(deps.Waits(t[0]));
  EXPECT_EQ(deps.size(), 0u);
  EXPECT_TRUE(deps.Ready(o[0]).empty());  // reported once only
}

TEST(TaskDependenciesTest, ReadyOnlyWhenEveryDependencyIs) {
  TaskDependencies deps;
  auto t = Tasks(1);
  auto o = Objects(3);
  for (const ObjectID& id : o) deps.Add(t[0], id);
  EXPECT_TRUE(deps.Ready(o[1]).empty());
  EXPECT_TRUE(deps.Ready(o[0]).empty());
  EXPECT_TRUE(deps.Waits(t[0]));
  EXPECT_EQ(deps.Ready(o[2]), t);
  EXPECT_FALSE(deps.Waits(t[0]));
}

TEST(TaskDependenciesTest, RepeatedDependencyIsReadyWithItsObjectOnce) {
  TaskDependencies deps;
  auto t = Tasks(1);
  auto o = Objects(1);
  deps.Add(t[0], o[0]);
  deps.Add(t[0], o[0]);  // f(x, x)
  EXPECT_EQ(deps.size(), 1u);
  EXPECT_EQ(deps.Ready(o[0]), t);  // both appearances at once, reported once
  EXPECT_FALSE(deps.Waits(t[0]));
}

TEST(TaskDependenciesTest, RepeatedDependencyBesideAnotherWaitsForBoth) {
  TaskDependencies deps;
  auto t = Tasks(1);
  auto o = Objects(2);
  deps.Add(t[0], o[0]);
  deps.Add(t[0], o[1]);
  deps.Add(t[0], o[0]);  // f(x, y, x)
  EXPECT_TRUE(deps.Ready(o[0]).empty());
  EXPECT_EQ(deps.Ready(o[1]), t);
}

TEST(TaskDependenciesTest, RepeatedDependencyThatFailsFailsTheTaskOnce) {
  TaskDependencies deps;
  auto t = Tasks(1);
  auto o = Objects(2);
  deps.Add(t[0], o[0]);
  deps.Add(t[0], o[0]);
  deps.Add(t[0], o[1]);
  EXPECT_EQ(deps.Failed(o[0]), t);
  EXPECT_FALSE(deps.Waits(t[0]));
  EXPECT_TRUE(deps.Ready(o[1]).empty());  // it failed: no longer waits for the other
}

TEST(TaskDependenciesTest, ManyTasksOnOneObjectComeBackInTheOrderTheyBeganWaiting) {
  TaskDependencies deps;
  auto t = Tasks(50);
  auto o = Objects(2);
  std::vector<TaskID> ready_with_first;
  for (size_t i = 0; i < t.size(); ++i) {
    deps.Add(t[i], o[0]);
    if (i % 5 == 0) deps.Add(t[i], o[1]);  // these also wait for the second object
    else ready_with_first.push_back(t[i]);
  }
  EXPECT_EQ(deps.Ready(o[0]), ready_with_first);
  EXPECT_EQ(deps.size(), 10u);
  auto rest = deps.Ready(o[1]);
  ASSERT_EQ(rest.size(), 10u);
  for (size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(rest[i], t[i * 5]);
  EXPECT_EQ(deps.size(), 0u);
}

TEST(TaskDependenciesTest, AFailureFailsEveryTaskWaitingForIt) {
  TaskDependencies deps;
  auto t = Tasks(3);
  auto o = Objects(2);
  deps.Add(t[0], o[0]);
  deps.Add(t[1], o[1]);
  deps.Add(t[1], o[0]);
  deps.Add(t[2], o[1]);
  EXPECT_EQ(deps.Failed(o[0]), (std::vector<TaskID>{t[0], t[1]}));
  EXPECT_FALSE(deps.Waits(t[1]));
  // t[1]'s wait for o[1] went with it; t[2] still waits for o[1] alone.
  EXPECT_EQ(deps.Ready(o[1]), std::vector<TaskID>{t[2]});
}

TEST(TaskDependenciesTest, ForgottenTaskIsNeverReported) {
  TaskDependencies deps;
  auto t = Tasks(2);
  auto o = Objects(2);
  deps.Add(t[0], o[0]);
  deps.Add(t[0], o[1]);
  deps.Add(t[1], o[0]);
  deps.Forget(t[0]);  // cancelled while waiting
  EXPECT_FALSE(deps.Waits(t[0]));
  EXPECT_EQ(deps.Ready(o[0]), std::vector<TaskID>{t[1]});
  EXPECT_TRUE(deps.Ready(o[1]).empty());
  EXPECT_TRUE(deps.Failed(o[1]).empty());
}

TEST(TaskDependenciesTest, ATaskForgottenAndAddedAgainWaitsOnlyForItsNewDependencies) {
  // A rebuild re-submits a task under its old id: what it waited for before
  // it was dropped must not count for the new submission.
  TaskDependencies deps;
  auto t = Tasks(1);
  auto o = Objects(2);
  deps.Add(t[0], o[0]);
  deps.Forget(t[0]);
  deps.Add(t[0], o[0]);
  deps.Add(t[0], o[1]);
  EXPECT_TRUE(deps.Ready(o[0]).empty());  // the old wait on o[0] is not a second completion
  EXPECT_TRUE(deps.Waits(t[0]));
  EXPECT_EQ(deps.Ready(o[1]), t);
}

TEST(TaskDependenciesTest, ATaskThatWaitsAgainAfterBeingReadyIsReportedAgain) {
  // Ready, then one of its arguments is found evicted: it waits for its rebuild.
  TaskDependencies deps;
  auto t = Tasks(1);
  auto o = Objects(1);
  deps.Add(t[0], o[0]);
  EXPECT_EQ(deps.Ready(o[0]), t);
  deps.Add(t[0], o[0]);
  EXPECT_TRUE(deps.Waits(t[0]));
  EXPECT_EQ(deps.Ready(o[0]), t);
}

}  // namespace
}  // namespace lumen::internal
