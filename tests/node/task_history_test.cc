// TaskHistory: each task's state, worker, attempt, times and error; totals by
// state; bounded, forgetting only ended tasks, the oldest ended first.
#include "node/task_history.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace lumen::internal {
namespace {

TaskSpec Spec(const std::string& function, const std::string& name = "") {
  TaskSpec spec;
  spec.function = function;
  spec.name = name.empty() ? function : name;  // as ClientCore::Submit fills it
  return spec;
}

std::optional<head::TaskState> Find(const TaskHistory& h, const TaskID& id) {
  for (const head::TaskState& t : h.Recent())
    if (t.task_id == id.Hex()) return t;
  return std::nullopt;
}

std::set<std::string> Known(const TaskHistory& h) {
  std::set<std::string> ids;
  for (const head::TaskState& t : h.Recent()) ids.insert(t.task_id);
  return ids;
}

TEST(TaskHistoryTest, SubmittedTaskIsPendingWithItsSpec) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  h.Submitted(id, Spec("f", "my-f"), /*rebuild=*/false, 1000);
  auto t = Find(h, id);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->state, "pending");
  EXPECT_EQ(t->function, "f");
  EXPECT_EQ(t->name, "my-f");
  EXPECT_EQ(t->submit_ms, 1000u);
  EXPECT_EQ(t->start_ms, 0u);
  EXPECT_EQ(t->end_ms, 0u);
  EXPECT_EQ(t->worker, -1);
  EXPECT_EQ(t->actor_id, "");
  EXPECT_FALSE(t->rebuild);
  EXPECT_EQ(t->error, "");
}

TEST(TaskHistoryTest, NameEqualToTheFunctionIsLeftEmpty) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  h.Submitted(id, Spec("f"), false, 1);
  EXPECT_EQ(Find(h, id)->name, "");
}

TEST(TaskHistoryTest, ActorCallKeepsItsActorAndRebuildFlag) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  TaskSpec spec = Spec("Counter::Add");
  spec.actor = ActorID::Random();
  h.Submitted(id, spec, /*rebuild=*/true, 1);
  auto t = Find(h, id);
  EXPECT_EQ(t->actor_id, spec.actor.Hex());
  EXPECT_TRUE(t->rebuild);
}

TEST(TaskHistoryTest, FollowsATaskThroughQueuedStartedFinished) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  h.Submitted(id, Spec("f"), false, 10);
  h.Queued(id, 0);
  EXPECT_EQ(Find(h, id)->state, "pending");
  h.Started(id, /*worker=*/3, /*pid=*/4242, 20);
  auto running = Find(h, id);
  EXPECT_EQ(running->state, "running");
  EXPECT_EQ(running->worker, 3);
  EXPECT_EQ(running->worker_pid, 4242);
  EXPECT_EQ(running->start_ms, 20u);
  h.Finished(id, 30);
  auto done = Find(h, id);
  EXPECT_EQ(done->state, "finished");
  EXPECT_EQ(done->end_ms, 30u);
  EXPECT_EQ(done->submit_ms, 10u);
  EXPECT_EQ(done->error, "");
}

TEST(TaskHistoryTest, FailedTaskKeepsItsError) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  h.Submitted(id, Spec("f"), false, 1);
  h.Started(id, 0, 1, 2);
  h.Failed(id, "task 'f' raised std::runtime_error: boom", 3);
  auto t = Find(h, id);
  EXPECT_EQ(t->state, "failed");
  EXPECT_EQ(t->error, "task 'f' raised std::runtime_error: boom");
  EXPECT_EQ(t->end_ms, 3u);
}

TEST(TaskHistoryTest, CancelledTaskSaysCancelled) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  h.Submitted(id, Spec("f"), false, 1);
  h.Cancelled(id, 5);
  auto t = Find(h, id);
  EXPECT_EQ(t->state, "cancelled");
  EXPECT_EQ(t->error, "cancelled");
  EXPECT_EQ(t->end_ms, 5u);
}

TEST(TaskHistoryTest, RequeuedAttemptIsPendingWithoutItsOldWorker) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  h.Submitted(id, Spec("f"), false, 1);
  h.Queued(id, 0);
  h.Started(id, 2, 99, 2);
  h.Queued(id, 1);  // its worker died: queued again for a retry
  auto t = Find(h, id);
  EXPECT_EQ(t->state, "pending");
  EXPECT_EQ(t->attempt, 1);
  EXPECT_EQ(t->worker, -1);
  EXPECT_EQ(t->worker_pid, 0);
  EXPECT_EQ(h.Totals(), (std::map<std::string, uint64_t>{{"pending", 1}}));
}

TEST(TaskHistoryTest, FirstEndWinsWhenATaskEndsTwice) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  h.Submitted(id, Spec("f"), false, 1);
  h.Cancelled(id, 2);
  h.Finished(id, 3);  // its worker reported after the cancel
  h.Failed(id, "late", 4);
  auto t = Find(h, id);
  EXPECT_EQ(t->state, "cancelled");
  EXPECT_EQ(t->end_ms, 2u);
  EXPECT_EQ(h.Totals(), (std::map<std::string, uint64_t>{{"cancelled", 1}}));
}

TEST(TaskHistoryTest, EventsForUnknownTasksAreIgnored) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  h.Queued(id, 0);
  h.Started(id, 1, 1, 1);
  h.Finished(id, 2);
  h.Failed(id, "x", 3);
  h.Cancelled(id, 4);
  EXPECT_TRUE(h.Recent().empty());
  EXPECT_TRUE(h.Totals().empty());
}

TEST(TaskHistoryTest, TotalsCountLiveTasksAsTheyAreAndEndedOnesAsTheyEnded) {
  TaskHistory h;
  auto add = [&](int n) {
    std::vector<TaskID> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(TaskID::Random());
      h.Submitted(ids.back(), Spec("f"), false, 1);
    }
    return ids;
  };
  auto pending = add(2);
  auto running = add(3);
  for (const TaskID& id : running) h.Started(id, 0, 1, 2);
  auto finished = add(4);
  for (const TaskID& id : finished) h.Finished(id, 3);
  auto failed = add(1);
  h.Failed(failed[0], "e", 3);
  auto cancelled = add(1);
  h.Cancelled(cancelled[0], 3);
  EXPECT_EQ(h.Totals(), (std::map<std::string, uint64_t>{
                            {"pending", 2}, {"running", 3}, {"finished", 4}, {"failed", 1}, {"cancelled", 1}}));
  h.Finished(running[0], 4);
  EXPECT_EQ(h.Totals().at("running"), 2u);
  EXPECT_EQ(h.Totals().at("finished"), 5u);
}

TEST(TaskHistoryTest, ForgetsTheOldestEndedTasksBeyondCapacity) {
  TaskHistory h(/*capacity=*/3);
  std::vector<TaskID> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(TaskID::Random());
    h.Submitted(ids.back(), Spec("f"), false, i);
    h.Finished(ids.back(), 100 + i);
  }
  EXPECT_EQ(Known(h), (std::set<std::string>{ids[2].Hex(), ids[3].Hex(), ids[4].Hex()}));
  // Forgotten tasks still count in the totals.
  EXPECT_EQ(h.Totals(), (std::map<std::string, uint64_t>{{"finished", 5}}));
}

TEST(TaskHistoryTest, OrderOfEndingNotOfSubmittingDecidesWhatIsForgotten) {
  TaskHistory h(/*capacity=*/2);
  TaskID a = TaskID::Random(), b = TaskID::Random(), c = TaskID::Random();
  h.Submitted(a, Spec("f"), false, 1);
  h.Submitted(b, Spec("f"), false, 2);
  h.Submitted(c, Spec("f"), false, 3);
  h.Finished(b, 10);  // b ends first although a was submitted first
  h.Finished(a, 11);
  EXPECT_EQ(Known(h), (std::set<std::string>{a.Hex(), c.Hex()}));
}

TEST(TaskHistoryTest, NeverForgetsLiveTasksEvenPastCapacity) {
  TaskHistory h(/*capacity=*/2);
  std::vector<TaskID> live;
  for (int i = 0; i < 4; ++i) {
    live.push_back(TaskID::Random());
    h.Submitted(live.back(), Spec("f"), false, i);
  }
  h.Started(live[0], 0, 1, 5);
  TaskID ended = TaskID::Random();
  h.Submitted(ended, Spec("f"), false, 6);
  h.Finished(ended, 7);  // over capacity: only this one may go
  std::set<std::string> want;
  for (const TaskID& id : live) want.insert(id.Hex());
  EXPECT_EQ(Known(h), want);
  EXPECT_EQ(h.Totals(), (std::map<std::string, uint64_t>{{"pending", 3}, {"running", 1}, {"finished", 1}}));
}

TEST(TaskHistoryTest, ResubmittedTaskIsLiveAgain) {
  TaskHistory h;
  TaskID id = TaskID::Random();
  h.Submitted(id, Spec("f"), false, 1);
  h.Finished(id, 2);
  h.Submitted(id, Spec("f"), /*rebuild=*/true, 50);  // its object was lost: rebuilt from lineage
  auto t = Find(h, id);
  EXPECT_EQ(t->state, "pending");
  EXPECT_EQ(t->end_ms, 0u);
  EXPECT_EQ(t->submit_ms, 50u);
  EXPECT_TRUE(t->rebuild);
  EXPECT_EQ(h.Totals(), (std::map<std::string, uint64_t>{{"finished", 1}, {"pending", 1}}));
  h.Started(id, 1, 7, 51);
  h.Finished(id, 52);  // ends again: counted again, not ignored as ended already
  EXPECT_EQ(Find(h, id)->end_ms, 52u);
  EXPECT_EQ(h.Totals(), (std::map<std::string, uint64_t>{{"finished", 2}}));
}

TEST(TaskHistoryTest, ResubmittedLiveTaskIsNotForgottenByItsOldEnd) {
  TaskHistory h(/*capacity=*/1);
  TaskID a = TaskID::Random(), b = TaskID::Random();
  h.Submitted(a, Spec("f"), false, 1);
  h.Finished(a, 2);
  h.Submitted(a, Spec("f"), true, 3);  // live again; its old end is still queued
  h.Submitted(b, Spec("f"), false, 4);
  h.Finished(b, 5);  // over capacity: a's old end must not drop the live a
  EXPECT_EQ(Known(h), std::set<std::string>{a.Hex()});
  EXPECT_EQ(Find(h, a)->state, "pending");
}

// A task that ends, is re-submitted (rebuilt) and ends again counts from its
// latest end: `a` ended after `b`, so `b` is forgotten first.
TEST(TaskHistoryTest, ResubmittedTaskIsForgottenByItsLatestEnd) {
  TaskHistory h(/*capacity=*/2);
  TaskID a = TaskID::Random(), b = TaskID::Random(), c = TaskID::Random();
  h.Submitted(a, Spec("f"), false, 1);
  h.Finished(a, 2);
  h.Submitted(a, Spec("f"), true, 3);  // rebuilt
  h.Submitted(b, Spec("f"), false, 4);
  h.Finished(b, 5);
  h.Finished(a, 6);  // a ends after b
  h.Submitted(c, Spec("f"), false, 7);
  h.Finished(c, 8);  // three tasks, capacity two: the oldest ended (b) goes
  EXPECT_EQ(Known(h), (std::set<std::string>{a.Hex(), c.Hex()}));
}

}  // namespace
}  // namespace lumen::internal
