// Retention: old records go, newer ones stay, live actors keep theirs, and a
// removed id is reported as removed by retention, never as unknown.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "lumen/storage/lineage_log.h"
#include "temp_dir.h"

namespace lumen::storage {
namespace {

using testing::TempDir;
using std::chrono::hours;
using std::chrono::milliseconds;

constexpr uint64_t kDayMs = 24 * 3600 * 1000;
constexpr uint64_t kStart = 1700000000000;  // the fake clock's first day

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(milliseconds(0)); }

  // The log with the fake clock; `interval` 0: no background runs.
  void Reopen(milliseconds interval) {
    log_.reset();
    LineageOptions options;
    options.now_ms = [this] { return now_.load(); };
    options.retention.interval = interval;
    ASSERT_TRUE(LineageLog::Open(dir_.path(), options, &log_).ok());
  }

  // A task (optionally on `actor`) and the object it returns, written at the current fake time.
  ObjectID Task(const std::string& function, ActorID actor = ActorID(), bool creation = false) {
    TaskRecord task;
    task.id = TaskID::Random();
    task.function = function;
    task.owner = "driver";
    task.actor = actor;
    task.actor_creation = creation;
    task.returns.push_back(ObjectID::ForTaskReturn(task.id, 0));
    log_->Append(task);
    ObjectRecord object;
    object.id = task.returns[0];
    object.created_by = task.id;
    object.size = 8;
    log_->Append(object);
    EXPECT_TRUE(log_->Flush(10000));
    return object.id;
  }

  ActorID Actor(ActorState state, TaskID* creation_task) {
    ActorRecord actor;
    actor.id = TaskID::Random();
    actor.class_name = "Counter";
    actor.state = state;
    actor.creation_task = Task("Counter", actor.id, true).Task();
    *creation_task = actor.creation_task;
    log_->Append(actor);
    EXPECT_TRUE(log_->Flush(10000));
    return actor.id;
  }

  RetentionReport Apply(milliseconds max_age, uint64_t max_bytes = 0) {
    RetentionPolicy policy;
    policy.max_age = max_age;
    policy.max_bytes = max_bytes;
    RetentionReport report;
    Status s = log_->ApplyRetention(policy, &report);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return report;
  }

  std::atomic<uint64_t> now_{kStart};
  TempDir dir_;
  std::unique_ptr<LineageLog> log_;
};

TEST_F(RetentionTest, OlderRecordsGoNewerStayAndRemovedIdsSaySo) {
  ObjectID old_object = Task("old");
  now_ = kStart + 40 * kDayMs;
  ObjectID new_object = Task("new");

  RetentionReport report = Apply(hours(24 * 30));
  EXPECT_EQ(report.removed_tasks, 1u);
  EXPECT_EQ(report.removed_objects, 1u);
  EXPECT_EQ(report.cutoff_ms, kStart + 10 * kDayMs);
  EXPECT_GT(report.retained_bytes, 0u);

  EXPECT_FALSE(log_->GetTask(old_object.Task()));
  EXPECT_FALSE(log_->GetObject(old_object));
  ASSERT_TRUE(log_->GetTask(new_object.Task()));
  EXPECT_EQ(log_->GetTask(new_object.Task())->recorded_ms, kStart + 40 * kDayMs);
  EXPECT_TRUE(log_->GetObject(new_object));

  std::optional<RetentionMark> mark = log_->RemovedByRetention(old_object);
  ASSERT_TRUE(mark);
  EXPECT_EQ(mark->cutoff_ms, kStart + 10 * kDayMs);
  EXPECT_EQ(mark->removed_at_ms, kStart + 40 * kDayMs);
  EXPECT_FALSE(log_->RemovedByRetention(new_object));
  EXPECT_FALSE(log_->RemovedByRetention(ObjectID::ForPut())) << "an id never written is not 'removed'";

  std::string tree;
  Status s = log_->Provenance(old_object, 5, &tree);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("removed by retention on 2023-12-24T22:13:20.000Z (records older than 2023-11-24T22:13:20.000Z)"), std::string::npos) << s.message();
  s = log_->Provenance(ObjectID::ForPut(), 5, &tree);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("never recorded"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("removed by retention on"), std::string::npos) << s.message();
}

TEST_F(RetentionTest, TheMarksSurviveAReopenAndAReadOnlyOpen) {
  ObjectID old_object = Task("old");
  now_ = kStart + 40 * kDayMs;
  Apply(hours(24 * 30));
  Reopen(milliseconds(0));
  EXPECT_TRUE(log_->RemovedByRetention(old_object));
  std::unique_ptr<LineageLog> reader;
  ASSERT_TRUE(LineageLog::OpenReadOnly(dir_.path(), &reader).ok());
  EXPECT_TRUE(reader->RemovedByRetention(old_object));
  EXPECT_FALSE(reader->RemovedByRetention(ObjectID::ForPut()));
}

TEST_F(RetentionTest, ARecordWrittenAgainIsAsOldAsItsLastWrite) {
  TaskRecord task;
  task.id = TaskID::Random();
  task.function = "retried";
  log_->Append(task);
  ASSERT_TRUE(log_->Flush(10000));
  now_ = kStart + 40 * kDayMs;
  task.attempt = 1;  // a retry (or a rebuild) re-records the task
  log_->Append(task);
  ASSERT_TRUE(log_->Flush(10000));
  EXPECT_EQ(Apply(hours(24 * 30)).removed_tasks, 0u);
  ASSERT_TRUE(log_->GetTask(task.id));
  EXPECT_EQ(log_->GetTask(task.id)->attempt, 1u);
}

TEST_F(RetentionTest, LiveActorsKeepTheirRecordsDeadOnesAgeOut) {
  TaskID live_creation, dead_creation;
  ActorID live = Actor(ActorState::kAlive, &live_creation);
  ObjectID live_call = Task("incr", live);
  ActorID dead = Actor(ActorState::kDead, &dead_creation);
  ObjectID dead_call = Task("incr", dead);
  now_ = kStart + 40 * kDayMs;

  RetentionReport report = Apply(hours(24 * 30));
  EXPECT_TRUE(log_->GetActor(live));
  EXPECT_TRUE(log_->GetTask(live_creation));
  EXPECT_TRUE(log_->GetTask(live_call.Task()));
  EXPECT_FALSE(log_->GetActor(dead));
  EXPECT_FALSE(log_->GetTask(dead_creation));
  EXPECT_FALSE(log_->GetTask(dead_call.Task()));
  EXPECT_TRUE(log_->RemovedByRetention(dead));
  EXPECT_EQ(report.kept_for_live_actors, 3u);  // the actor, its creation, its call
  EXPECT_EQ(report.removed_actors, 1u);
  EXPECT_EQ(report.removed_tasks, 2u);
  EXPECT_EQ(report.removed_objects, 4u);  // actor calls' results are re-made from their calls
}

TEST_F(RetentionTest, ASizeBoundRemovesTheOldestFirst) {
  std::vector<ObjectID> objects;
  for (int i = 0; i < 300; ++i) {
    objects.push_back(Task("t" + std::to_string(i)));
    now_ += 60 * 1000;  // a minute apart: the size bound's resolution
  }
  uint64_t total = Apply(milliseconds(0), UINT64_MAX / 2).retained_bytes;
  ASSERT_GT(total, 0u);
  RetentionReport report = Apply(milliseconds(0), total / 2);
  EXPECT_LE(report.retained_bytes, total / 2);
  EXPECT_GT(report.retained_bytes, total / 3) << "removes down to 90% of the bound, not much more";
  // Oldest first: every removed task is older than every kept one.
  size_t first_kept = 0;
  while (first_kept < objects.size() && !log_->GetTask(objects[first_kept].Task())) ++first_kept;
  EXPECT_GT(first_kept, 100u);
  for (size_t i = 0; i < objects.size(); ++i) {
    EXPECT_EQ(log_->GetTask(objects[i].Task()).has_value(), i >= first_kept) << i;
    EXPECT_EQ(log_->RemovedByRetention(objects[i]).has_value(), i < first_kept) << i;
  }
}

TEST_F(RetentionTest, RebuildPlanSaysTheLineageWasRemovedByRetention) {
  ObjectID old_object = Task("old");
  now_ = kStart + 40 * kDayMs;
  Apply(hours(24 * 30));
  std::vector<TaskRecord> plan;
  Status s = log_->RebuildPlan(old_object, [](const ObjectID&) { return false; }, &plan);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("removed by retention"), std::string::npos) << s.message();
}

TEST_F(RetentionTest, AnOpenLogAppliesItsPolicyByItself) {
  ObjectID old_object = Task("old");
  now_ = kStart + 40 * kDayMs;
  Reopen(hours(1));  // the first run starts right after Open
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!log_->RemovedByRetention(old_object) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(log_->RemovedByRetention(old_object));
  EXPECT_FALSE(log_->GetTask(old_object.Task()));
}

TEST_F(RetentionTest, CompactingShrinksTheFiles) {
  for (int i = 0; i < 2000; ++i) Task(std::string(200, 'f'));
  RetentionPolicy keep_all;
  keep_all.max_age = milliseconds(0);
  keep_all.max_bytes = 0;
  keep_all.compact = true;
  RetentionReport report;
  ASSERT_TRUE(log_->ApplyRetention(keep_all, &report).ok());
  uint64_t full = report.disk_bytes_after;
  ASSERT_GT(full, 0u);
  now_ = kStart + 40 * kDayMs;
  RetentionPolicy policy = keep_all;
  policy.max_age = hours(24 * 30);
  ASSERT_TRUE(log_->ApplyRetention(policy, &report).ok());
  EXPECT_EQ(report.removed_tasks, 2000u);
  EXPECT_LT(report.disk_bytes_after, full / 4);
}

TEST_F(RetentionTest, AReadOnlyLogRefusesRetentionAndAppends) {
  std::unique_ptr<LineageLog> reader;
  ASSERT_TRUE(LineageLog::OpenReadOnly(dir_.path(), &reader).ok());
  RetentionReport report;
  EXPECT_FALSE(reader->ApplyRetention(RetentionPolicy(), &report).ok());
  TaskRecord task;
  task.id = TaskID::Random();
  EXPECT_EQ(reader->Append(task), 0u);
  EXPECT_FALSE(reader->LastError().ok());
}

}  // namespace
}  // namespace lumen::storage
