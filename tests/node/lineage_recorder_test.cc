// The lineage recorder over a real log in a temporary directory: what each
// call leaves in the log, read back once durable.
#include "node/lineage_recorder.h"

#include <gtest/gtest.h>

#include "../storage/lineage/temp_dir.h"

namespace lumen::internal {
namespace {

class LineageRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(storage::LineageLog::Open(dir_.path(), storage::LineageOptions{}, &log_).ok());
  }
  void Durable() { ASSERT_TRUE(log_->Flush(10000)); }

  static BytesPtr BytesOf(const std::string& s) {
    auto b = std::make_shared<Bytes>(s.size());
    std::memcpy(b->data(), s.data(), s.size());
    return b;
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::LineageLog> log_;
};

TEST_F(LineageRecorderTest, ATaskIsRecordedWithItsOwnerArgumentsAndResult) {
  LineageRecorder recorder(log_.get(), "node-a");
  TaskSpec spec;
  spec.function = "Square";
  spec.name = "square 3";
  spec.max_retries = 5;
  TaskArg by_value;
  by_value.value.bytes = BytesOf("three");
  TaskArg by_ref;
  by_ref.by_ref = true;
  by_ref.ref = ObjectID::ForPut();
  spec.args = {by_value, by_ref};
  TaskID id = TaskID::Random();
  ObjectID result = ObjectID::ForTaskReturn(id, 0);
  recorder.TaskSubmitted(id, spec, "worker-2", result, 1);
  recorder.ResultStored(result, id, "worker-3", 42);
  Durable();
  auto task = log_->GetTask(id);
  ASSERT_TRUE(task);
  EXPECT_EQ(task->function, "Square");
  EXPECT_EQ(task->name, "square 3");
  EXPECT_EQ(task->owner, "worker-2");
  EXPECT_EQ(task->max_retries, 5);
  EXPECT_EQ(task->attempt, 1u);
  ASSERT_EQ(task->returns.size(), 1u);
  EXPECT_EQ(task->returns[0], result);
  ASSERT_EQ(task->args.size(), 2u);
  EXPECT_FALSE(task->args[0].by_ref);
  EXPECT_EQ(task->args[0].value, "three");
  EXPECT_TRUE(task->args[1].by_ref);
  EXPECT_EQ(task->args[1].ref, by_ref.ref);
  auto object = log_->GetObject(result);
  ASSERT_TRUE(object);
  EXPECT_EQ(object->created_by, id);
  EXPECT_FALSE(object->is_put);
  EXPECT_EQ(object->owner, "worker-3");
  EXPECT_EQ(object->size, 42u);
  EXPECT_EQ(object->node, "node-a");
}

TEST_F(LineageRecorderTest, ASmallPutIsAPutTaskHoldingItsValueALargeOneAnObject) {
  LineageRecorder recorder(log_.get(), "node-a");
  Payload small;
  small.bytes = BytesOf("tiny");
  small.size = 4;
  ObjectID small_id = ObjectID::ForPut();
  recorder.Put(small_id, small, "driver");
  Payload large;
  large.kind = Payload::kInStore;
  large.size = 1 << 20;
  ObjectID large_id = ObjectID::ForPut();
  recorder.Put(large_id, large, "worker-1");
  Durable();
  auto put_task = log_->GetTask(small_id.Task());
  ASSERT_TRUE(put_task);
  EXPECT_EQ(put_task->function, LineageRecorder::kPutTask);
  ASSERT_EQ(put_task->args.size(), 1u);
  EXPECT_EQ(put_task->args[0].value, "tiny");
  EXPECT_EQ(put_task->owner, "driver");
  EXPECT_FALSE(log_->GetTask(large_id.Task()));
  auto object = log_->GetObject(large_id);
  ASSERT_TRUE(object);
  EXPECT_TRUE(object->is_put);
  EXPECT_EQ(object->size, 1u << 20);
}

// The recorder fills its records in place, reusing their buffers: nothing of
// one record may show in the next.
TEST_F(LineageRecorderTest, RecordsInARowKeepNothingOfTheOneBefore) {
  LineageRecorder recorder(log_.get(), "node-a");
  TaskSpec factory;
  factory.function = "Counter::Make";
  TaskArg big;
  big.value.bytes = BytesOf(std::string(100, 'x'));
  factory.args = {big, big};
  factory.resources = {{"GPU", 1}};
  TaskID creation = TaskID::Random();
  recorder.ActorCreation(creation, ActorID::Random(), factory, "driver");
  TaskSpec call;
  call.function = "Counter::Add";
  call.actor = ActorID::Random();
  TaskID ran = TaskID::Random();
  recorder.ActorCallRan(ran, call, "driver", ObjectID::ForTaskReturn(ran, 0), 2, 9);
  TaskSpec plain;
  plain.function = "f";
  TaskArg by_ref;
  by_ref.by_ref = true;
  by_ref.ref = ObjectID::ForPut();
  plain.args = {by_ref};
  TaskID id = TaskID::Random();
  recorder.TaskSubmitted(id, plain, "worker-1", ObjectID::ForTaskReturn(id, 0), 0);
  Payload small;
  small.bytes = BytesOf("a longer value than the one after it");
  ObjectID first_put = ObjectID::ForPut(), second_put = ObjectID::ForPut();
  recorder.Put(first_put, small, "driver");
  small.bytes = BytesOf("short");
  recorder.Put(second_put, small, "worker-7");
  Durable();

  auto task = log_->GetTask(id);
  ASSERT_TRUE(task);
  EXPECT_EQ(task->function, "f");
  EXPECT_TRUE(task->actor.IsNil());
  EXPECT_FALSE(task->actor_creation);
  EXPECT_EQ(task->actor_call_index, 0u);
  EXPECT_EQ(task->attempt, 0u);
  EXPECT_TRUE(task->resources.empty());
  ASSERT_EQ(task->args.size(), 1u);
  EXPECT_TRUE(task->args[0].by_ref);
  EXPECT_TRUE(task->args[0].value.empty());
  EXPECT_EQ(task->returns, std::vector<ObjectID>{ObjectID::ForTaskReturn(id, 0)});
  auto made = log_->GetTask(creation);
  ASSERT_TRUE(made);
  EXPECT_TRUE(made->actor_creation);
  EXPECT_TRUE(made->returns.empty());
  EXPECT_EQ(log_->GetTask(ran)->actor_call_index, 9u);
  auto put = log_->GetTask(second_put.Task());
  ASSERT_TRUE(put);
  ASSERT_EQ(put->args.size(), 1u);
  EXPECT_EQ(put->args[0].value, "short");
  EXPECT_EQ(put->owner, "worker-7");
  EXPECT_EQ(put->returns, std::vector<ObjectID>{second_put});
  EXPECT_EQ(log_->GetTask(first_put.Task())->args[0].value, "a longer value than the one after it");
}

TEST_F(LineageRecorderTest, AnActorsCreationAndItsLatestStateAreRecorded) {
  LineageRecorder recorder(log_.get(), "node-a");
  ActorID actor = ActorID::Random();
  TaskID creation = TaskID::Random();
  TaskSpec factory;
  factory.function = "Counter::Make";
  recorder.ActorCreation(creation, actor, factory, "driver");
  ActorOptions options;
  options.class_name = "Counter";
  options.name = "c";
  options.ns = "jobs";
  options.detached = true;
  options.max_restarts = 3;
  options.replay_on_restart = true;
  options.checkpoint_method = "Counter::Snapshot";
  options.restore_function = "Counter::Restore";
  options.checkpoint_every = 10;
  ObjectID state = ObjectID::ForPut();
  const std::string binary = "/opt/app/driver";
  const std::vector<std::string> argv = {binary, "--rounds", "3"};
  recorder.ActorChanged(actor, creation, options, {storage::ActorState::kAlive, 0, "", ObjectID(), 0, binary, argv});
  recorder.ActorChanged(actor, creation, options, {storage::ActorState::kDead, 2, "killed", state, 20, binary, argv});
  Durable();
  auto task = log_->GetTask(creation);
  ASSERT_TRUE(task);
  EXPECT_TRUE(task->actor_creation);
  EXPECT_EQ(task->actor, actor);
  auto record = log_->GetActor(actor);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, storage::ActorState::kDead);  // the later record replaces the earlier
  EXPECT_EQ(record->restarts, 2u);
  EXPECT_EQ(record->death_cause, "killed");
  EXPECT_EQ(record->class_name, "Counter");
  EXPECT_EQ(record->ns, "jobs");
  // What re-creating it at a later start needs.
  EXPECT_TRUE(record->detached);
  EXPECT_EQ(record->max_restarts, 3);
  EXPECT_TRUE(record->replay_on_restart);
  EXPECT_EQ(record->checkpoint_method, "Counter::Snapshot");
  EXPECT_EQ(record->restore_function, "Counter::Restore");
  EXPECT_EQ(record->checkpoint_every, 10u);
  EXPECT_EQ(record->checkpoint, state);
  EXPECT_EQ(record->checkpoint_calls, 20u);
  EXPECT_EQ(record->binary, binary);
  EXPECT_EQ(record->argv, argv);
}

TEST_F(LineageRecorderTest, ACallThatRanIsRecordedWithItsPlaceAndAnEndedActorWithItsCause) {
  LineageRecorder recorder(log_.get(), "node-a");
  ActorID actor = ActorID::Random();
  TaskSpec call;
  call.actor = actor;
  call.function = "Counter::Add";
  TaskID id = TaskID::Random();
  ObjectID result = ObjectID::ForTaskReturn(id, 0);
  recorder.TaskSubmitted(id, call, "driver", result, 0);
  recorder.ActorCallRan(id, call, "driver", result, 1, 7);
  storage::ActorRecord old;
  old.id = actor;
  old.state = storage::ActorState::kAlive;
  recorder.ActorEnded(old, "its owner (driver) died");
  Durable();
  auto calls = log_->ActorCalls(actor, 0);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].id, id);
  EXPECT_EQ(calls[0].actor_call_index, 7u);
  EXPECT_EQ(calls[0].attempt, 1u);
  EXPECT_EQ(calls[0].returns, std::vector<ObjectID>{result});
  auto record = log_->GetActor(actor);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, storage::ActorState::kDead);
  EXPECT_EQ(record->death_cause, "its owner (driver) died");
}

TEST_F(LineageRecorderTest, WithoutALogNothingIsRecordedAndNothingFails) {
  LineageRecorder off(nullptr, "node-a");
  EXPECT_FALSE(off.on());
  TaskSpec spec;
  spec.function = "f";
  TaskID id = TaskID::Random();
  off.TaskSubmitted(id, spec, "driver", ObjectID::ForTaskReturn(id, 0), 0);
  Payload p;
  p.bytes = BytesOf("x");
  off.Put(ObjectID::ForPut(), p, "driver");
  Durable();
  EXPECT_FALSE(log_->GetTask(id));
}

}  // namespace
}  // namespace lumen::internal
