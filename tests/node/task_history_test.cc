// TaskHistory: a task's record through its life (kept by the node while the
// task lives), the ring of ended tasks that overwrites the oldest, totals by
// state, and what the dashboard is given.
#include "node/task_history.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace lumen::internal {
namespace {

using State = TaskHistory::State;

TaskSpec Spec(const std::string& function, const std::string& name = "") {
  TaskSpec spec;
  spec.function = function;
  spec.name = name.empty() ? function : name;  // as ClientCore::Submit fills it
  return spec;
}

std::optional<head::TaskState> Find(const std::vector<head::TaskState>& tasks, const TaskID& id) {
  for (const head::TaskState& t : tasks)
    if (t.task_id == id.Hex()) return t;
  return std::nullopt;
}

TEST(TaskHistoryTest, ALiveTaskIsRenderedFromItsRecordWithItsSpec) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  TaskHistory::Record r = h.Submitted(id, Spec("f", "my-f"), /*rebuild=*/false, 1000);
  auto t = Find(h.Render({&r}), id);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->function, "f");
  EXPECT_EQ(t->name, "my-f");
  EXPECT_EQ(t->state, "pending");
  EXPECT_EQ(t->submit_ms, 1000u);
  EXPECT_EQ(t->worker, -1);
  EXPECT_EQ(t->actor_id, "");
  EXPECT_FALSE(Find(h.Render({}), id)) << "a live task is the node's to give, not the ring's";
}

TEST(TaskHistoryTest, ANameEqualToTheFunctionIsLeftEmpty) {
  TaskHistory h;
  TaskHistory::Record r = h.Submitted(TaskID::Random(), Spec("g"), false, 1);
  EXPECT_EQ(h.Render({&r})[0].name, "");
}

TEST(TaskHistoryTest, AnActorCallKeepsItsActorAndARebuildItsFlag) {
  TaskHistory h;
  TaskSpec spec = Spec("&C::m");
  spec.actor = ActorID::Random();
  TaskHistory::Record r = h.Submitted(TaskID::Random(), spec, /*rebuild=*/true, 1);
  head::TaskState t = h.Render({&r})[0];
  EXPECT_EQ(t.actor_id, spec.actor.Hex());
  EXPECT_TRUE(t.rebuild);
}

TEST(TaskHistoryTest, FollowsATaskThroughQueuedStartedAndFinished) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  TaskHistory::Record r = h.Submitted(id, Spec("f"), false, 10);
  TaskHistory::Queued(r, 0);
  TaskHistory::Started(r, 3, 4242, 20);
  head::TaskState running = h.Render({&r})[0];
  EXPECT_EQ(running.state, "running");
  EXPECT_EQ(running.worker, 3);
  EXPECT_EQ(running.worker_pid, 4242);
  EXPECT_EQ(running.start_ms, 20u);
  h.Ended(r, State::kFinished, "", 35);
  auto done = Find(h.Render({}), id);
  ASSERT_TRUE(done) << "an ended task is in the ring";
  EXPECT_EQ(done->state, "finished");
  EXPECT_EQ(done->end_ms, 35u);
  EXPECT_EQ(done->worker, 3);
}

TEST(TaskHistoryTest, AFailedTaskKeepsItsErrorAndARequeuedOneLosesItsWorker) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  TaskHistory::Record r = h.Submitted(id, Spec("f"), false, 1);
  TaskHistory::Started(r, 1, 11, 2);
  TaskHistory::Queued(r, 1);  // its worker died: again, attempt 1
  head::TaskState again = h.Render({&r})[0];
  EXPECT_EQ(again.state, "pending");
  EXPECT_EQ(again.attempt, 1);
  EXPECT_EQ(again.worker, -1);
  EXPECT_EQ(again.worker_pid, 0);
  h.Ended(r, State::kFailed, "task 'f' raised std::runtime_error: boom", 9);
  auto failed = Find(h.Render({}), id);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->state, "failed");
  EXPECT_EQ(failed->error, "task 'f' raised std::runtime_error: boom");
  EXPECT_EQ(failed->attempt, 1);
}

// The node a task was sent to is named by its record, which outlives both
// the link it went over and that node; a retry here names no other node.
TEST(TaskHistoryTest, ATaskSentToAnotherNodeKeepsThatNodesNameOnceEnded) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  TaskHistory::Record r = h.Submitted(id, Spec("f"), false, 1);
  TaskHistory::Started(r, 7, -1, 2, h.Interned("red"));
  EXPECT_EQ(h.Render({&r})[0].node_id, "red");
  TaskHistory::Queued(r, 1);  // red died: again, here
  EXPECT_EQ(h.Render({&r})[0].node_id, "");
  TaskHistory::Started(r, 7, -1, 3, h.Interned("red"));
  h.Ended(r, State::kFinished, "", 4);
  auto done = Find(h.Render({}), id);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->node_id, "red");
  EXPECT_EQ(h.Interned("red"), h.Interned("red")) << "a name is kept once";
  TaskHistory::Record here = h.Submitted(TaskID::Random(), Spec("f"), false, 5);
  TaskHistory::Started(here, 1, 11, 6);
  EXPECT_EQ(h.Render({&here}).back().node_id, "") << "run here: the node fills in its own name";
}

TEST(TaskHistoryTest, ARecordEndsOnceTheFirstEndWins) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  TaskHistory::Record r = h.Submitted(id, Spec("f"), false, 1);
  h.Ended(r, State::kCancelled, "cancelled", 5);
  h.Ended(r, State::kFinished, "", 6);  // the worker reported after the cancel
  std::vector<head::TaskState> all = h.Render({});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, "cancelled");
  EXPECT_EQ(h.Totals({}).at("cancelled"), 1u);
  EXPECT_EQ(h.Totals({}).at("finished"), 0u);
}

TEST(TaskHistoryTest, TotalsCountEndedTasksAsTheyEndedAndLiveOnesAsTheyAre) {
  TaskHistory h;
  std::vector<TaskHistory::Record> live;
  for (int i = 0; i < 3; ++i) live.push_back(h.Submitted(TaskID::Random(), Spec("f"), false, 1));
  TaskHistory::Started(live[0], 0, 1, 2);
  for (int i = 0; i < 4; ++i) {
    TaskHistory::Record r = h.Submitted(TaskID::Random(), Spec("f"), false, 1);
    h.Ended(r, i == 0 ? State::kFailed : State::kFinished, i == 0 ? "x" : "", 3);
  }
  auto totals = h.Totals({&live[0], &live[1], &live[2]});
  EXPECT_EQ(totals.at("running"), 1u);
  EXPECT_EQ(totals.at("pending"), 2u);
  EXPECT_EQ(totals.at("finished"), 3u);
  EXPECT_EQ(totals.at("failed"), 1u);
  EXPECT_EQ(totals.at("cancelled"), 0u);
}

TEST(TaskHistoryTest, TheRingKeepsTheLatestEndedTasksAndTotalsKeepCounting) {
  TaskHistory h(3);
  std::vector<TaskID> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(TaskID::Random());
    TaskHistory::Record r = h.Submitted(ids.back(), Spec("f"), false, static_cast<uint64_t>(i));
    h.Ended(r, State::kFinished, "", static_cast<uint64_t>(100 + i));
  }
  std::vector<head::TaskState> kept = h.Render({});
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_FALSE(Find(kept, ids[0]));
  EXPECT_FALSE(Find(kept, ids[1]));
  for (int i = 2; i < 5; ++i) EXPECT_TRUE(Find(kept, ids[i])) << i;
  EXPECT_EQ(h.Totals({}).at("finished"), 5u);
}

TEST(TaskHistoryTest, LiveTasksAreNeverForgottenWhateverTheRingHolds) {
  TaskHistory h(1);
  std::vector<TaskHistory::Record> live;
  for (int i = 0; i < 10; ++i) live.push_back(h.Submitted(TaskID::Random(), Spec("f"), false, 1));
  std::vector<const TaskHistory::Record*> given;
  for (const auto& r : live) given.push_back(&r);
  EXPECT_EQ(h.Render(given).size(), 10u);
}

TEST(TaskHistoryTest, ARebuiltTaskShowsOnceAsItsLiveRecord) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  TaskHistory::Record first = h.Submitted(id, Spec("f"), false, 1);
  h.Ended(first, State::kFinished, "", 2);
  TaskHistory::Record rebuilt = h.Submitted(id, Spec("f"), /*rebuild=*/true, 3);  // its result was lost
  std::vector<head::TaskState> all = h.Render({&rebuilt});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, "pending");
  EXPECT_TRUE(all[0].rebuild);
  EXPECT_EQ(all[0].start_ms, 0u) << "a rebuilt task starts afresh";
}

TEST(TaskHistoryTest, FunctionNamesAreInternedNotCopiedPerTask) {
  TaskHistory h;
  TaskHistory::Record a = h.Submitted(TaskID::Random(), Spec("a_function_with_a_long_name"), false, 1);
  TaskHistory::Record b = h.Submitted(TaskID::Random(), Spec("a_function_with_a_long_name"), false, 1);
  TaskHistory::Record c = h.Submitted(TaskID::Random(), Spec("another"), false, 1);
  EXPECT_EQ(a.function, b.function);
  EXPECT_NE(a.function, c.function);
  EXPECT_EQ(h.Render({&c})[0].function, "another");
}

}  // namespace
}  // namespace lumen::internal
