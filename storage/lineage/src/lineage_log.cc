// LineageLog on RocksDB: one column family per record kind, keyed by binary
// id, values are flat Cap'n Proto messages (records.cc); fresh plain tasks and
// objects are packed many to a value instead (packs.h). Appends go through a
// queue to one writer thread that turns them into WriteBatches
// (record_writer.cc); a second thread applies the retention policy
// (retention.cc) now and then.
#include "lumen/storage/lineage_log.h"
#include "private_files.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <variant>

#include "queries.h"
#include "compact_records.h"
#include "packs.h"
#include "record_writer.h"
#include "records.h"
#include "retention.h"
#include "rocks_db.h"

namespace lumen::storage {

namespace {

using lineage::Family;
using lineage::FromRocks;
using lineage::Key;
using lineage::PackKind;
using lineage::Parse;
using lineage::QueuedRecords;
using lineage::Record;
using lineage::RocksDb;

uint64_t SystemNowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

class RocksLineageLog final : public LineageLog {
 public:
  // `marks`: what retention removed before, as read from `rocks`.
  RocksLineageLog(const LineageOptions& options, std::unique_ptr<RocksDb> rocks,
                  const lineage::RetentionIndex::Ranges& marks)
      : options_(options), rocks_(std::move(rocks)), db_(rocks_->db()), encoder_(rocks_.get(), &retention_index_) {
    retention_index_.Commit(marks);
    if (options_.max_batch == 0) options_.max_batch = 1;
    if (!options_.now_ms) options_.now_ms = SystemNowMs;
    tasks_ = rocks_->family(lineage::kTaskFamily);
    objects_ = rocks_->family(lineage::kObjectFamily);
    actors_ = rocks_->family(lineage::kActorFamily);
    packs_ = rocks_->family(lineage::kPackFamily);
    groups_ = rocks_->family(lineage::kGroupFamily);
    if (rocks_->read_only()) {
      error_ = Status(StatusCode::kInvalid, "lineage log opened read-only: appends are refused");
      return;  // no threads: nothing to write
    }
    writer_ = std::thread([this] { WriterLoop(); });
    if (options_.retention.interval.count() > 0) retention_thread_ = std::thread([this] { RetentionLoop(); });
  }

  ~RocksLineageLog() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    {
      std::lock_guard lock(retention_wait_mu_);  // else the loop could miss the wake-up and sleep an interval
      stop_retention_ = true;
    }
    queue_cv_.notify_one();
    room_cv_.notify_all();
    retention_cv_.notify_one();
    if (retention_thread_.joinable()) retention_thread_.join();
    if (writer_.joinable()) writer_.join();  // drains the queue first
    // Left: callbacks for seqs never appended. Tell them rather than drop them.
    for (auto& [seq, callback] : callbacks_) {
      callback(Status(StatusCode::kDisconnected, "lineage log closed before record " +
                                                     std::to_string(seq) + " was appended"));
    }
    // rocks_ closes the database.
  }

  // Plain tasks and objects queue in compact form: encoded here with no
  // allocation (a reused per-thread buffer), copied in as bytes.
  uint64_t Append(const TaskRecord& record) override {
    if (!record.actor.IsNil()) return Enqueue(Record(record));
    return EnqueueCompact(PackKind::kTask, record);
  }
  uint64_t Append(const ObjectRecord& record) override { return EnqueueCompact(PackKind::kObject, record); }
  uint64_t Append(const ActorRecord& record) override { return Enqueue(Record(record)); }
  uint64_t Append(const PlacementGroupRecord& record) override { return Enqueue(Record(record)); }

  bool WaitDurable(uint64_t seq, int64_t timeout_ms) override {
    std::unique_lock lock(mu_);
    auto done = [&] { return durable_seq_ >= seq || !error_.ok(); };
    if (done()) return durable_seq_ >= seq;
    ++hurry_;  // someone waits: the batch goes now, not after batch_delay
    queue_cv_.notify_one();
    if (timeout_ms < 0) {
      durable_cv_.wait(lock, done);
    } else {
      durable_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), done);
    }
    --hurry_;
    return durable_seq_ >= seq;
  }

  bool Flush(int64_t timeout_ms) override {
    uint64_t last;
    {
      std::lock_guard lock(mu_);
      last = next_seq_ - 1;
    }
    return WaitDurable(last, timeout_ms);
  }

  void WhenDurable(uint64_t seq, std::function<void(const Status&)> done) override {
    Status outcome;
    {
      std::lock_guard lock(mu_);
      if (durable_seq_ < seq && error_.ok()) {
        callbacks_.emplace(seq, std::move(done));
        return;
      }
      outcome = durable_seq_ >= seq ? Status::OK() : error_;
    }
    done(outcome);
  }

  uint64_t DurableSeq() const override {
    std::lock_guard lock(mu_);
    return durable_seq_;
  }
  uint64_t AppendedSeq() const override {
    std::lock_guard lock(mu_);
    return next_seq_ - 1;
  }

  Status LastError() const override {
    std::lock_guard lock(mu_);
    return error_;
  }

  std::optional<TaskRecord> GetTask(const TaskID& id) override {
    std::optional<TaskRecord> record = Get<TaskRecord>(tasks_, id);
    return record ? record : GetPacked<TaskRecord>(PackKind::kTask, id);
  }
  std::optional<ObjectRecord> GetObject(const ObjectID& id) override {
    std::optional<ObjectRecord> record = Get<ObjectRecord>(objects_, id);
    return record ? record : GetPacked<ObjectRecord>(PackKind::kObject, id);
  }
  std::optional<ActorRecord> GetActor(const ActorID& id) override { return Get<ActorRecord>(actors_, id); }

  std::vector<ActorRecord> AllActors() override {
    std::vector<ActorRecord> actors;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), actors_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ActorRecord record;
      // A corrupt record is skipped rather than hiding every other actor.
      if (Parse(std::string_view(it->value().data(), it->value().size()), &record).ok()) {
        actors.push_back(std::move(record));
      }
    }
    return actors;
  }

  std::vector<PlacementGroupRecord> AllPlacementGroups() override {
    std::vector<PlacementGroupRecord> groups;
    if (!groups_) return groups;  // a read-only open of a log from before placement groups
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), groups_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      PlacementGroupRecord record;
      if (Parse(std::string_view(it->value().data(), it->value().size()), &record).ok())
        groups.push_back(std::move(record));
    }
    std::stable_sort(groups.begin(), groups.end(), [](const PlacementGroupRecord& a, const PlacementGroupRecord& b) {
      return a.created_ms < b.created_ms;
    });
    return groups;
  }

  std::vector<TaskRecord> ActorCalls(const ActorID& actor, uint64_t after) override {
    std::vector<TaskRecord> calls;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), tasks_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view bytes(it->value().data(), it->value().size());
      lineage::RecordAge age;  // the actor field alone first: most tasks are not this actor's
      if (!lineage::Peek(lineage::Kind::kTask, bytes, &age).ok() || age.actor != actor) continue;
      TaskRecord record;
      if (Parse(bytes, &record).ok() && !record.actor_creation && record.actor_call_index > after)
        calls.push_back(std::move(record));
    }
    std::sort(calls.begin(), calls.end(),
              [](const TaskRecord& a, const TaskRecord& b) { return a.actor_call_index < b.actor_call_index; });
    return calls;
  }

  Status RebuildPlan(const ObjectID& target, const std::function<bool(const ObjectID&)>& exists,
                     std::vector<TaskRecord>* plan) override {
    return lineage::BuildRebuildPlan(*this, target, exists, plan);
  }

  Status ApplyRetention(const RetentionPolicy& policy, RetentionReport* report) override {
    // One run at a time: two would both re-check and remove the same chunk.
    std::lock_guard lock(retention_run_mu_);
    return lineage::RunRetention({rocks_.get(), &write_mu_, &retention_index_, &stop_retention_}, policy,
                                 options_.now_ms(), report);
  }

  std::optional<RetentionMark> RemovedByRetention(const TaskID& id) override {
    return retention_index_.Lookup(id);
  }

 private:
  template <typename R>
  uint64_t EnqueueCompact(PackKind kind, const R& record) {
    thread_local std::string compact;
    compact.clear();
    lineage::AppendCompact(record, &compact);
    uint64_t seq = Enqueue([&] { queue_.AddCompact(kind, compact); });
    if (compact.capacity() > (size_t{1} << 20)) std::string().swap(compact);  // one huge record: not kept for good
    return seq;
  }
  uint64_t Enqueue(Record&& record) {
    // The copy into `record` happened outside the lock; inside, only a move.
    return Enqueue([&] { queue_.Add(std::move(record)); });
  }

  // Runs `push` (which adds one record to queue_) under the lock.
  template <typename Push>
  uint64_t Enqueue(Push&& push) {
    if (rocks_->read_only()) return 0;  // refused: LastError says why
    uint64_t seq;
    bool wake;
    {
      std::unique_lock lock(mu_);
      if (options_.max_queued && queue_.size() >= options_.max_queued) WaitForRoom(lock);
      seq = next_seq_++;
      push();
      wake = writer_idle_;
      writer_idle_ = false;
    }
    // Signal only when the writer sleeps: a futex call per append would cost
    // more than the append itself.
    if (wake) queue_cv_.notify_one();
    return seq;
  }

  // Backpressure: until the writer takes the queue. REQUIRES mu_ (in `lock`).
  void WaitForRoom(std::unique_lock<std::mutex>& lock) {
    bool room = room_cv_.wait_for(lock, std::chrono::seconds(10),
                                  [&] { return queue_.size() < options_.max_queued || stopping_; });
    if (!room && !warned_full_) {
      warned_full_ = true;
      std::fprintf(stderr, "lumen: lineage log: %zu records have waited 10 s for the disk; queueing beyond the bound\n",
                   queue_.size());
    }
  }

  // The record under its own key. Readers ask there first: when there is
  // one, it is newer than a packed record of the same id (packs.h).
  template <typename T, typename Id>
  std::optional<T> Get(rocksdb::ColumnFamilyHandle* cf, const Id& id) {
    rocksdb::PinnableSlice value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, Key(id), &value);
    if (!s.ok()) return std::nullopt;
    T record;
    if (!Parse(std::string_view(value.data(), value.size()), &record).ok()) return std::nullopt;
    return record;
  }

  template <typename T, typename Id>
  std::optional<T> GetPacked(PackKind kind, const Id& id) {
    std::string compact;
    uint64_t recorded_ms = 0;
    T record;
    if (!lineage::FindPacked(db_, packs_, kind, id.Binary(), &compact, &recorded_ms) ||
        !lineage::ParseCompact(compact, recorded_ms, &record).ok())
      return std::nullopt;
    return record;
  }

  // Applies the policy right after Open, then every interval, until closed.
  void RetentionLoop() {
    for (;;) {
      RetentionReport report;
      Status s = ApplyRetention(options_.retention, &report);
      if (!s.ok() && !stop_retention_) std::fprintf(stderr, "lumen: lineage retention: %s\n", s.message().c_str());
      std::unique_lock lock(retention_wait_mu_);
      if (retention_cv_.wait_for(lock, options_.retention.interval, [&] { return stop_retention_.load(); })) return;
    }
  }

  void WriterLoop() {
    QueuedRecords batch;
    for (;;) {
      uint64_t first_seq;
      {
        std::unique_lock lock(mu_);
        writer_idle_ = queue_.empty();
        queue_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        // Group commit: give a small batch a moment to grow, so the writer
        // wakes at most ~1/batch_delay times a second, not once per append
        // (each wake-up costs the appending threads a core on small machines).
        queue_cv_.wait_for(lock, options_.batch_delay,
                           [&] { return queue_.size() >= options_.max_batch || stopping_ || hurry_ > 0; });
        writer_idle_ = false;
        if (queue_.empty()) return;  // stopping, and all drained
        first_seq = next_seq_ - queue_.size();
        batch.swap(queue_);  // queue_ gets the emptied buffer, capacity kept
      }
      room_cv_.notify_all();
      for (size_t begin = 0; begin < batch.size(); begin += options_.max_batch) {
        size_t end = std::min(batch.size(), begin + options_.max_batch);
        Status s = WriteRange(batch, begin, end);
        Finish(first_seq + end - 1, s);
        if (!s.ok()) break;
      }
      batch.clear();  // frees the records outside the lock
    }
  }

  // Writes batch[begin, end) as one atomic WriteBatch, unless the log failed.
  Status WriteRange(const QueuedRecords& batch, size_t begin, size_t end) {
    {
      std::lock_guard lock(mu_);
      if (!error_.ok()) return error_;  // failed for good: never write past a hole
    }
    rocksdb::WriteBatch& wb = batch_;
    wb.Clear();  // keeps its buffer: no regrowing it for every batch
    uint64_t now_ms = options_.now_ms();  // one clock read a batch: the records' age for retention
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync_writes;
    // Retention re-checks what it removes under it; the encoder reads the
    // packs' high-water marks under it.
    std::lock_guard write_lock(write_mu_);
    if (Status s = encoder_.Build(batch, begin, end, now_ms, &wb); !s.ok()) return s;
    rocksdb::Status s = db_->Write(wo, &wb);
    if (wb.GetDataSize() > (size_t{1} << 20)) batch_ = rocksdb::WriteBatch();  // a huge one is not kept for good
    if (!s.ok()) return FromRocks(s, "lineage log: writing records");
    return Status::OK();
  }

  // Publishes the outcome of writing everything up to `last_seq`.
  void Finish(uint64_t last_seq, const Status& s) {
    std::vector<std::pair<std::function<void(const Status&)>, Status>> due;
    bool newly_failed = false;
    {
      std::lock_guard lock(mu_);
      if (s.ok()) {
        durable_seq_ = last_seq;
      } else if (error_.ok()) {
        error_ = Status(s.code(), s.message() + " (lineage is degraded: records after " +
                                      std::to_string(durable_seq_) + " are refused)");
        newly_failed = true;
      }
      auto end = error_.ok() ? callbacks_.upper_bound(durable_seq_) : callbacks_.end();
      for (auto it = callbacks_.begin(); it != end; ++it) {
        due.emplace_back(std::move(it->second), it->first <= durable_seq_ ? Status::OK() : error_);
      }
      callbacks_.erase(callbacks_.begin(), end);
    }
    durable_cv_.notify_all();
    // Appends are fire-and-forget for most callers: say it loudly, once.
    if (newly_failed) std::fprintf(stderr, "lumen: %s\n", LastError().message().c_str());
    for (auto& [callback, outcome] : due) callback(outcome);
  }

  LineageOptions options_;
  const std::unique_ptr<RocksDb> rocks_;
  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* tasks_;
  rocksdb::ColumnFamilyHandle* objects_;
  rocksdb::ColumnFamilyHandle* actors_;
  rocksdb::ColumnFamilyHandle* packs_;  // null in a read-only open of a log from before packs
  rocksdb::ColumnFamilyHandle* groups_;  // null in a read-only open of a log from before placement groups

  mutable std::mutex mu_;
  std::condition_variable queue_cv_;    // writer waits for records or stop
  std::condition_variable room_cv_;     // appenders wait for room (max_queued)
  bool warned_full_ = false;
  std::condition_variable durable_cv_;  // WaitDurable waits for progress or error
  QueuedRecords queue_;                 // seqs next_seq_ - size() .. next_seq_ - 1
  uint64_t next_seq_ = 1;
  uint64_t durable_seq_ = 0;
  Status error_;                        // the first write error; sticky
  bool stopping_ = false;
  bool writer_idle_ = false;            // the writer sleeps (or is about to)
  size_t hurry_ = 0;                    // callers in WaitDurable: no batch delay while any wait
  std::multimap<uint64_t, std::function<void(const Status&)>> callbacks_;

  std::mutex write_mu_;                 // held around each db_->Write of records, and by retention
  lineage::RetentionIndex retention_index_;
  lineage::RecordWriter encoder_;       // writer thread only, under write_mu_
  rocksdb::WriteBatch batch_;           // likewise: the batch being written, reused
  std::mutex retention_run_mu_;         // one ApplyRetention at a time
  std::mutex retention_wait_mu_;        // only for retention_cv_
  std::condition_variable retention_cv_;
  std::atomic<bool> stop_retention_{false};

  std::thread writer_;                  // last: start after everything above
  std::thread retention_thread_;
};

// Both opens: the database, its retention marks, then the log around them.
Status OpenLog(const std::string& dir, bool read_only, const LineageOptions& options,
               std::unique_ptr<LineageLog>* out) {
  std::unique_ptr<RocksDb> rocks;
  if (Status s = RocksDb::Open(dir, read_only, &rocks); !s.ok()) return s;
  lineage::RetentionIndex::Ranges marks;
  Status s = lineage::RetentionIndex::Read(rocks->db(), rocks->family(lineage::kRetentionFamily), &marks);
  if (!s.ok()) return s;
  *out = std::make_unique<RocksLineageLog>(options, std::move(rocks), marks);
  return Status::OK();
}

}  // namespace

Status LineageLog::Open(const std::string& dir, const LineageOptions& options,
                        std::unique_ptr<LineageLog>* out) {
  return OpenLog(dir, false, options, out);
}

Status LineageLog::OpenReadOnly(const std::string& dir, std::unique_ptr<LineageLog>* out) {
  return OpenLog(dir, true, LineageOptions(), out);
}

}  // namespace lumen::storage
