// The lineage log's contract: round trips, replacement by id, sequence
// numbers and acknowledgements, concurrent appends, reopening.
#include "lumen/storage/lineage_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "expect_same.h"
#include "temp_dir.h"
#include "test_records.h"

namespace lumen::storage {
namespace {

using testing::ActorIdFor;
using testing::ExpectSame;
using testing::FullActor;
using testing::FullObject;
using testing::FullTask;
using testing::TaskIdFor;
using testing::TempDir;

std::unique_ptr<LineageLog> OpenLog(const std::string& dir, LineageOptions options = {}) {
  std::unique_ptr<LineageLog> log;
  Status s = LineageLog::Open(dir, options, &log);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return log;
}

TEST(LineageLog, RoundTripsEveryRecordKindWithAllFields) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  for (uint64_t i = 0; i < 6; ++i) {  // covers each modulo-varied field
    log->Append(FullTask(i));
    log->Append(FullObject(i));
    log->Append(FullActor(i, static_cast<ActorState>(i % 4)));
  }
  ASSERT_TRUE(log->Flush(10000));
  for (uint64_t i = 0; i < 6; ++i) {
    auto task = log->GetTask(TaskIdFor(i));
    ASSERT_TRUE(task);
    ExpectSame(*task, FullTask(i));
    auto object = log->GetObject(FullObject(i).id);
    ASSERT_TRUE(object);
    ExpectSame(*object, FullObject(i));
    auto actor = log->GetActor(ActorIdFor(i));
    ASSERT_TRUE(actor);
    ExpectSame(*actor, FullActor(i, static_cast<ActorState>(i % 4)));
  }
}

TEST(LineageLog, DefaultRecordsRoundTrip) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  TaskRecord task;
  task.id = TaskIdFor(1);
  log->Append(task);
  ObjectRecord object;
  object.id = ObjectID::ForTaskReturn(task.id, 0);
  log->Append(object);
  ASSERT_TRUE(log->Flush(10000));
  ExpectSame(*log->GetTask(task.id), task);
  ExpectSame(*log->GetObject(object.id), object);
}

TEST(LineageLog, UnknownIdsAreAbsent) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  EXPECT_FALSE(log->GetTask(TaskIdFor(9)));
  EXPECT_FALSE(log->GetObject(FullObject(9).id));
  EXPECT_FALSE(log->GetActor(ActorIdFor(9)));
  EXPECT_TRUE(log->AllActors().empty());
}

TEST(LineageLog, ALaterRecordReplacesTheEarlierOne) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  ActorRecord actor = FullActor(7, ActorState::kPending);
  log->Append(actor);
  actor.state = ActorState::kAlive;
  log->Append(actor);
  actor.state = ActorState::kRestarting;
  actor.restarts = 1;
  log->Append(actor);
  actor.state = ActorState::kDead;
  actor.death_cause = "out of restarts";
  log->Append(actor);
  TaskRecord retry = FullTask(7);
  log->Append(retry);
  retry.attempt = 4;
  log->Append(retry);
  ASSERT_TRUE(log->Flush(10000));

  ExpectSame(*log->GetActor(actor.id), actor);
  EXPECT_EQ(log->GetTask(retry.id)->attempt, 4u);
  auto all = log->AllActors();
  ASSERT_EQ(all.size(), 1u);
  ExpectSame(all[0], actor);
}

// Replay reads an actor's calls back in the order it ran them, whatever
// order their ids (and so their keys) have, without its creation or other
// actors' calls, and only after a checkpoint when asked.
TEST(LineageLog, ActorCallsComeBackInTheOrderTheyRan) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  ActorID actor = ActorIdFor(1), other = ActorIdFor(2);
  TaskRecord creation;
  creation.id = TaskIdFor(100);
  creation.actor = actor;
  creation.actor_creation = true;
  log->Append(creation);
  for (uint64_t i = 0; i < 6; ++i) {
    TaskRecord call;
    call.id = TaskIdFor(200 + i);
    call.actor = i == 5 ? other : actor;
    call.actor_call_index = 6 - i;  // ids ascend, the order they ran descends
    log->Append(call);
  }
  TaskRecord not_run;  // submitted, never ran: no index
  not_run.id = TaskIdFor(300);
  not_run.actor = actor;
  log->Append(not_run);
  ASSERT_TRUE(log->Flush(10000));
  auto calls = log->ActorCalls(actor, 0);
  ASSERT_EQ(calls.size(), 5u);
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].actor_call_index, i + 2);
    EXPECT_EQ(calls[i].id, TaskIdFor(204 - i));
  }
  auto after = log->ActorCalls(actor, 4);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].actor_call_index, 5u);
  EXPECT_TRUE(log->ActorCalls(ActorIdFor(3), 0).empty());
}

TEST(LineageLog, AllActorsListsEachActorOnce) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  for (uint64_t i = 0; i < 50; ++i) log->Append(FullActor(i));
  for (uint64_t i = 0; i < 50; i += 2) log->Append(FullActor(i, ActorState::kDead));
  ASSERT_TRUE(log->Flush(10000));
  auto all = log->AllActors();
  ASSERT_EQ(all.size(), 50u);
  std::set<ActorID> ids;
  for (const auto& a : all) {
    ids.insert(a.id);
    uint64_t index;
    std::memcpy(&index, a.id.data(), sizeof index);
    EXPECT_EQ(a.state, index % 2 == 0 ? ActorState::kDead : ActorState::kAlive);
  }
  EXPECT_EQ(ids.size(), 50u);
}

// Placement groups outlive the log's process: each comes back with its
// bundles, strategy and name, in creation order, and a later record (its
// removal) replaces the first.
TEST(LineageLog, PlacementGroupsComeBackAfterAReopen) {
  TempDir dir;
  PlacementGroupRecord spread;
  spread.id = TaskIdFor(2);
  spread.name = "pg";
  spread.bundles = {{{"CPU", 1}}, {{"CPU", 0.5}, {"GPU", 2}}};
  spread.strategy = PlacementStrategy::kSpread;
  spread.created_ms = 10;
  PlacementGroupRecord removed;
  removed.id = TaskIdFor(1);
  removed.bundles = {{{"memory", 1024}}};
  removed.strategy = PlacementStrategy::kStrictSpread;
  removed.created_ms = 20;
  {
    auto log = OpenLog(dir.path());
    log->Append(spread);
    log->Append(removed);
    removed.removed = true;
    log->Append(removed);
    ASSERT_TRUE(log->Flush(10000));
  }
  auto log = OpenLog(dir.path());
  auto all = log->AllPlacementGroups();
  ASSERT_EQ(all.size(), 2u);
  for (const auto& [got, want] : {std::pair{all[0], spread}, std::pair{all[1], removed}}) {
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.bundles, want.bundles);
    EXPECT_EQ(got.strategy, want.strategy);
    EXPECT_EQ(got.removed, want.removed);
    EXPECT_EQ(got.created_ms, want.created_ms);
    EXPECT_GT(got.recorded_ms, 0u);
  }
}

TEST(LineageLog, SequenceNumbersCountFromOneAndBecomeDurable) {
  TempDir dir;
  LineageOptions options;
  options.max_batch = 7;  // many batches per drain
  auto log = OpenLog(dir.path(), options);
  EXPECT_EQ(log->DurableSeq(), 0u);
  EXPECT_TRUE(log->Flush(0));  // nothing queued: trivially durable
  for (uint64_t i = 0; i < 100; ++i) EXPECT_EQ(log->Append(FullObject(i)), i + 1);
  EXPECT_TRUE(log->WaitDurable(100, 10000));
  EXPECT_GE(log->DurableSeq(), 100u);
  EXPECT_TRUE(log->LastError().ok());
  for (uint64_t i = 0; i < 100; ++i) EXPECT_TRUE(log->GetObject(FullObject(i).id)) << i;
}

// Appends faster than the writer wait for it past max_queued: what is not
// yet durable stays within the queue plus the batch being written.
TEST(LineageLog, AppendsBeyondMaxQueuedWaitForTheWriter) {
  TempDir dir;
  LineageOptions options;
  options.max_queued = 16;
  options.max_batch = 16;
  options.batch_delay = std::chrono::milliseconds(20);  // a slow writer
  auto log = OpenLog(dir.path(), options);
  uint64_t worst = 0;
  for (uint64_t i = 0; i < 400; ++i) {
    uint64_t seq = log->Append(FullObject(i));
    worst = std::max(worst, seq - std::min(seq, log->DurableSeq()));
  }
  EXPECT_LE(worst, 2 * options.max_queued) << "queued records beyond the bound";
  EXPECT_TRUE(log->Flush(10000));
  for (uint64_t i = 0; i < 400; ++i) EXPECT_TRUE(log->GetObject(FullObject(i).id)) << i;
}

// The batch delay bounds the writer's wake-ups for appends nobody waits on;
// a caller blocked in WaitDurable or Flush has its batch written at once.
TEST(LineageLog, AWaiterDoesNotWaitForTheBatchDelay) {
  TempDir dir;
  LineageOptions options;
  options.batch_delay = std::chrono::seconds(60);
  auto log = OpenLog(dir.path(), options);
  uint64_t seq = log->Append(FullObject(1));
  EXPECT_TRUE(log->WaitDurable(seq, 30000));
  log->Append(FullObject(2));
  EXPECT_TRUE(log->Flush(30000));
  EXPECT_TRUE(log->GetObject(FullObject(2).id));
}

TEST(LineageLog, WaitDurableTimesOutForARecordNeverAppended) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  log->Append(FullObject(1));
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(log->WaitDurable(5, 50));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_TRUE(log->LastError().ok());  // a timeout is not an error
}

TEST(LineageLog, WhenDurableRunsOnceTheRecordIsWritten) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  std::atomic<int> acked{0};
  for (uint64_t i = 0; i < 1000; ++i) {
    uint64_t seq = log->Append(FullTask(i));
    log->WhenDurable(seq, [&, seq, l = log.get()](const Status& s) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      EXPECT_GE(l->DurableSeq(), seq);
      acked.fetch_add(1);
    });
  }
  ASSERT_TRUE(log->Flush(10000));
  // Callbacks run on the writer thread right after it publishes progress.
  for (int i = 0; i < 1000 && acked.load() < 1000; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(acked.load(), 1000);

  bool ran_inline = false;
  log->WhenDurable(1, [&](const Status& s) { ran_inline = s.ok(); });
  EXPECT_TRUE(ran_inline);  // already durable: runs on this thread, now
}

TEST(LineageLog, WhenDurableForARecordNeverAppendedRunsAtClose) {
  TempDir dir;
  Status outcome;
  {
    auto log = OpenLog(dir.path());
    log->WhenDurable(3, [&](const Status& s) { outcome = s; });
  }
  EXPECT_EQ(outcome.code(), StatusCode::kDisconnected);
}

TEST(LineageLog, ConcurrentAppendsAreAllKeptWithUniqueSequenceNumbers) {
  TempDir dir;
  LineageOptions options;
  options.max_batch = 100;
  auto log = OpenLog(dir.path(), options);
  constexpr int kThreads = 4;
  constexpr uint64_t kPerThread = 20000;
  std::vector<std::vector<uint64_t>> seqs(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; i < kPerThread; ++i) {
        uint64_t index = t * kPerThread + i;
        seqs[t].push_back(index % 2 ? log->Append(FullTask(index)) : log->Append(FullObject(index)));
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(log->Flush(30000));
  std::set<uint64_t> all;
  for (const auto& s : seqs) {
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));  // each thread's appends in order
    all.insert(s.begin(), s.end());
  }
  ASSERT_EQ(all.size(), kThreads * kPerThread);
  EXPECT_EQ(*all.begin(), 1u);
  EXPECT_EQ(*all.rbegin(), kThreads * kPerThread);
  EXPECT_EQ(log->DurableSeq(), kThreads * kPerThread);
  for (uint64_t index = 0; index < kThreads * kPerThread; ++index) {
    bool found = index % 2 ? log->GetTask(TaskIdFor(index)).has_value()
                           : log->GetObject(FullObject(index).id).has_value();
    ASSERT_TRUE(found) << index;
  }
}

TEST(LineageLog, ReopenAfterCleanCloseKeepsEverythingIncludingUnflushedAppends) {
  TempDir dir;
  {
    LineageOptions options;
    options.sync_writes = true;
    auto log = OpenLog(dir.path(), options);
    for (uint64_t i = 0; i < 500; ++i) {
      log->Append(FullTask(i));
      log->Append(FullObject(i));
    }
    log->Append(FullActor(1, ActorState::kRestarting));
    // No Flush: the destructor must drain the queue.
  }
  auto log = OpenLog(dir.path());
  for (uint64_t i = 0; i < 500; ++i) {
    auto task = log->GetTask(TaskIdFor(i));
    ASSERT_TRUE(task) << i;
    ExpectSame(*task, FullTask(i));
    ASSERT_TRUE(log->GetObject(FullObject(i).id)) << i;
  }
  ExpectSame(*log->GetActor(ActorIdFor(1)), FullActor(1, ActorState::kRestarting));
  // Sequence numbers are per open log.
  EXPECT_EQ(log->Append(FullTask(1000)), 1u);
}

TEST(LineageLog, ASecondOpenOfTheSameDirectoryFails) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  std::unique_ptr<LineageLog> second;
  Status s = LineageLog::Open(dir.path(), {}, &second);
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find(dir.path()), std::string::npos) << s.message();
}

}  // namespace
}  // namespace lumen::storage
