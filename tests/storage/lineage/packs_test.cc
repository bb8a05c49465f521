// Packed records (fresh plain tasks and objects, many to a RocksDB value):
// each reads back on its own, after a reopen and in a read-only open; a
// record written again wins over its packed copy, in this process and in a
// later one; retention removes packed records, counts and marks them.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "expect_same.h"
#include "lumen/storage/lineage_log.h"
#include "temp_dir.h"
#include "test_records.h"

namespace lumen::storage {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using testing::ExpectSame;
using testing::FullObject;
using testing::FullTask;
using testing::TempDir;

constexpr uint64_t kDayMs = 24 * 3600 * 1000;
constexpr uint64_t kStart = 1700000000000;

// A task with every field set that is packed: a plain task (no actor), ids
// as a process draws them, arguments from tiny to larger than a pack.
TaskRecord PlainTask(uint64_t i) {
  TaskRecord t = FullTask(i);
  t.id = TaskID::Random();
  t.actor = ActorID();
  t.actor_creation = false;
  t.actor_call_index = 0;
  if (i % 4 == 0) {
    t.returns = {ObjectID::ForTaskReturn(t.id, 0)};  // the usual returns, stored as a count
  } else {
    t.returns = {ObjectID::ForTaskReturn(t.id, 0), ObjectID::ForPut()};  // any others, stored in full
  }
  t.max_retries = static_cast<int32_t>(i % 7) - 3;
  if (i % 50 == 7) t.args[0].value = std::string(40000 + i, static_cast<char>(i));
  return t;
}

ObjectRecord ObjectOf(const TaskRecord& task, uint64_t i) {
  ObjectRecord o = FullObject(i);
  o.id = task.returns[0];
  o.created_by = i % 3 == 0 ? TaskID::Random() : task.id;  // its own task (implied), or named
  return o;
}

class PacksTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    log_.reset();
    LineageOptions options;
    options.now_ms = [this] { return now_.load(); };
    options.retention.interval = milliseconds(0);
    ASSERT_TRUE(LineageLog::Open(dir_.path(), options, &log_).ok());
  }
  // `n` tasks and their objects, appended and flushed.
  void AppendTasks(uint64_t first, uint64_t n) {
    for (uint64_t i = first; i < first + n; ++i) {
      tasks_.push_back(PlainTask(i));
      objects_.push_back(ObjectOf(tasks_.back(), i));
      log_->Append(tasks_.back());
      log_->Append(objects_.back());
    }
    ASSERT_TRUE(log_->Flush(30000));
  }
  void ExpectAllReadBack(LineageLog& log) {
    for (size_t i = 0; i < tasks_.size(); ++i) {
      std::optional<TaskRecord> task = log.GetTask(tasks_[i].id);
      ASSERT_TRUE(task) << "task " << i;
      ExpectSame(*task, tasks_[i]);
      std::optional<ObjectRecord> object = log.GetObject(objects_[i].id);
      ASSERT_TRUE(object) << "object " << i;
      ExpectSame(*object, objects_[i]);
    }
  }

  std::atomic<uint64_t> now_{kStart};
  TempDir dir_;
  std::unique_ptr<LineageLog> log_;
  std::vector<TaskRecord> tasks_;
  std::vector<ObjectRecord> objects_;
};

TEST_F(PacksTest, EachRecordReadsBackOnItsOwn) {
  AppendTasks(0, 3000);  // many packs, some holding one large argument
  ExpectAllReadBack(*log_);
  EXPECT_EQ(log_->GetTask(tasks_[5].id)->recorded_ms, kStart);
  EXPECT_EQ(log_->GetObject(objects_[5].id)->recorded_ms, kStart);
  // Ids between and around the packed ones are not there.
  EXPECT_FALSE(log_->GetTask(TaskID::Random()));
  EXPECT_FALSE(log_->GetObject(ObjectID::ForTaskReturn(tasks_[10].id, 7)));
  EXPECT_FALSE(log_->GetObject(ObjectID::ForPut()));
}

TEST_F(PacksTest, AfterAReopenAndBesideTheWriter) {
  AppendTasks(0, 500);
  Reopen();
  ExpectAllReadBack(*log_);
  std::unique_ptr<LineageLog> reader;
  ASSERT_TRUE(LineageLog::OpenReadOnly(dir_.path(), &reader).ok());
  ExpectAllReadBack(*reader);
}

TEST_F(PacksTest, ARecordWrittenAgainWinsInThisProcessAndTheNext) {
  AppendTasks(0, 200);
  TaskRecord retried = tasks_[100];
  retried.attempt = 7;
  ObjectRecord moved = objects_[100];
  moved.node = "node-elsewhere";
  // Appended together with fresh records, so the batch holds both kinds.
  log_->Append(retried);
  log_->Append(moved);
  AppendTasks(200, 10);
  EXPECT_EQ(log_->GetTask(retried.id)->attempt, 7u);
  EXPECT_EQ(log_->GetObject(moved.id)->node, "node-elsewhere");

  // A later process re-records an id of this one's (a rebuild after a
  // restart): it wins too, though that process never packed this source.
  Reopen();
  EXPECT_EQ(log_->GetTask(retried.id)->attempt, 7u);
  TaskRecord rebuilt = tasks_[150];
  rebuilt.attempt = 2;
  log_->Append(rebuilt);
  ASSERT_TRUE(log_->Flush(10000));
  EXPECT_EQ(log_->GetTask(rebuilt.id)->attempt, 2u);
  Reopen();
  EXPECT_EQ(log_->GetTask(rebuilt.id)->attempt, 2u);
  ExpectSame(*log_->GetTask(tasks_[149].id), tasks_[149]);
}

TEST_F(PacksTest, TheSameIdTwiceInOneBatchKeepsTheLaterRecord) {
  TaskRecord task = PlainTask(1);
  log_->Append(task);
  task.attempt = 3;
  log_->Append(task);
  ASSERT_TRUE(log_->Flush(10000));
  EXPECT_EQ(log_->GetTask(task.id)->attempt, 3u);
}

TEST_F(PacksTest, RetentionRemovesCountsAndMarksPackedRecords) {
  AppendTasks(0, 1000);  // dozens of packs: several chunks of removal
  now_ = kStart + 40 * kDayMs;
  const size_t old = tasks_.size();
  AppendTasks(300, 5);
  RetentionPolicy policy;
  policy.max_age = hours(24 * 30);
  policy.max_bytes = 0;
  RetentionReport report;
  ASSERT_TRUE(log_->ApplyRetention(policy, &report).ok());
  EXPECT_EQ(report.removed_tasks, old);
  EXPECT_EQ(report.removed_objects, old);
  for (size_t i = 0; i < old; ++i) {
    EXPECT_FALSE(log_->GetTask(tasks_[i].id));
    EXPECT_FALSE(log_->GetObject(objects_[i].id));
    EXPECT_TRUE(log_->RemovedByRetention(tasks_[i].id));
  }
  for (size_t i = old; i < tasks_.size(); ++i) {
    ExpectSame(*log_->GetTask(tasks_[i].id), tasks_[i]);
    EXPECT_FALSE(log_->RemovedByRetention(objects_[i].id));
  }
}

// The case the retention marks guard: a pack removed while a newer record of
// one of its ids stays under its own key. A later process that records the
// id again must not pack it (its pack would be read after the stale key).
TEST_F(PacksTest, ARecordWrittenAgainAfterItsPackWasRemovedIsTheOneRead) {
  AppendTasks(0, 50);
  now_ = kStart + 40 * kDayMs;
  TaskRecord again = tasks_[10];
  again.attempt = 1;
  log_->Append(again);  // under its own key, 40 days younger than the pack
  ASSERT_TRUE(log_->Flush(10000));
  RetentionPolicy policy;
  policy.max_age = hours(24 * 30);
  policy.max_bytes = 0;
  RetentionReport report;
  ASSERT_TRUE(log_->ApplyRetention(policy, &report).ok());
  EXPECT_EQ(report.removed_tasks, 49u) << "the retried one is still in the log";
  ASSERT_EQ(log_->GetTask(again.id)->attempt, 1u);

  Reopen();
  again.attempt = 5;
  log_->Append(again);
  ASSERT_TRUE(log_->Flush(10000));
  EXPECT_EQ(log_->GetTask(again.id)->attempt, 5u);
  Reopen();
  EXPECT_EQ(log_->GetTask(again.id)->attempt, 5u);
}

// An id can change kinds: a checkpoint call's record (an actor task, under
// its own key) is replaced by a plain "put" record of its value, which must
// then not be packed behind it, in this process or a later one.
TEST_F(PacksTest, AnActorTaskReplacedByAPlainRecordIsTheOneRead) {
  for (bool reopen_between : {false, true}) {
    TaskRecord call = PlainTask(1);
    call.actor = testing::ActorIdFor(1);
    log_->Append(call);
    ASSERT_TRUE(log_->Flush(10000));
    if (reopen_between) Reopen();
    TaskRecord put = PlainTask(2);
    put.id = call.id;
    put.returns = {ObjectID::ForTaskReturn(call.id, 0)};
    put.function = "lumen.put";
    log_->Append(put);
    AppendTasks(10, 3);  // fresh records after it are packed as usual
    ExpectSame(*log_->GetTask(call.id), put);
    Reopen();
    ExpectSame(*log_->GetTask(call.id), put);
  }
}

}  // namespace
}  // namespace lumen::storage
