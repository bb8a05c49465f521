// One retention run: scan what is kept (and, for a size bound, how old the
// bytes are), pick the age cutoff, then remove older records in chunks, each
// chunk re-checked under the writer's lock and written in one batch with the
// marks that say it was removed. A crash between chunks leaves every removed
// record marked; never a silent hole.
#include "retention.h"

#include <rocksdb/write_batch.h>

#include <cstring>
#include <ctime>
#include <unordered_set>
#include <vector>

#include "packs.h"
#include "records.h"

namespace lumen::storage {

std::string FormatUtcMs(uint64_t ms) {
  if (ms == 0) return "unknown time";
  time_t seconds = static_cast<time_t>(ms / 1000);
  tm utc;
  gmtime_r(&seconds, &utc);
  char buf[40];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(buf + n, sizeof buf - n, ".%03uZ", static_cast<unsigned>(ms % 1000));
  return buf;
}

std::string RetentionMark::Describe() const {
  return "removed by retention on " + FormatUtcMs(removed_at_ms) + " (records older than " +
         FormatUtcMs(cutoff_ms) + ")";
}

namespace lineage {

namespace {

constexpr size_t kChunk = 1024;           // records re-checked per hold of the writer's lock
// Packs per hold: each holds hundreds of records, each looked up once (CountRemoved).
constexpr size_t kPackChunk = 8;
constexpr uint64_t kMinuteMs = 60 * 1000;  // the size bound's age resolution
// Packs first: a record's own key is newer than its packed copy (packs.h),
// so a run that stops between families never leaves the older one alone.
constexpr Family kRecordFamilies[] = {kPackFamily, kTaskFamily, kObjectFamily, kActorFamily};

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

Kind KindOf(Family f) { return f == kTaskFamily ? Kind::kTask : f == kObjectFamily ? Kind::kObject : Kind::kActor; }

// Whether retention may remove a record at all, whatever its age. Packs
// hold only objects and plain tasks: always.
bool Removable(Family f, const RecordAge& age, const std::unordered_set<ActorID>& live_actors) {
  if (f == kObjectFamily || f == kPackFamily) return true;
  if (f == kActorFamily) return age.state == ActorState::kDead;
  return age.actor.IsNil() || !live_actors.count(age.actor);
}

// The age of a stored record or pack.
Status AgeOf(Family f, const rocksdb::Slice& key, const rocksdb::Slice& value, RecordAge* age) {
  if (f != kPackFamily) return Peek(KindOf(f), {value.data(), value.size()}, age);
  PackInfo info;
  if (!ReadPackInfo({key.data(), key.size()}, {value.data(), value.size()}, &info))
    return {StatusCode::kInvalid, "corrupt lineage pack"};
  *age = RecordAge();
  age->recorded_ms = info.recorded_ms;
  return Status::OK();
}

// The id sources a stored record or pack holds (prefix, counters); false if
// the key is not one of ours.
bool SourcesOf(Family f, const rocksdb::Slice& key, const rocksdb::Slice& value, uint64_t* prefix,
               uint64_t* min_counter, uint64_t* max_counter) {
  if (f == kPackFamily) {
    PackInfo info;
    if (!ReadPackInfo({key.data(), key.size()}, {value.data(), value.size()}, &info)) return false;
    *prefix = info.prefix;
    *min_counter = info.min_counter;
    *max_counter = info.max_counter;
    return true;
  }
  TaskID source;
  if (!SourceOfKey(key, &source)) return false;
  *prefix = RetentionIndex::Prefix(source);
  *min_counter = *max_counter = RetentionIndex::Counter(source);
  return true;
}

// Counts the records that removing a stored entry takes out of the log into
// `report`. A packed record whose id has a key of its own
// is not one: that key holds its newer version, which stays.
void CountRemoved(RocksDb* rocks, Family f, const rocksdb::Slice& key, const rocksdb::Slice& value,
                      RetentionReport* report) {
  if (f != kPackFamily) {
    ++(f == kTaskFamily ? report->removed_tasks : f == kObjectFamily ? report->removed_objects : report->removed_actors);
    return;
  }
  PackInfo info;
  ReadPackInfo({key.data(), key.size()}, {value.data(), value.size()}, &info);
  const bool tasks = info.kind == PackKind::kTask;
  uint64_t removed = 0;
  for (std::string_view id : PackedIds({value.data(), value.size()})) {
    // Keys are reversed ids (rocks_db.h).
    std::string own(id.rbegin(), id.rend());
    rocksdb::PinnableSlice newer;
    if (!rocks->db()->Get(rocksdb::ReadOptions(), rocks->family(tasks ? kTaskFamily : kObjectFamily), own, &newer).ok())
      ++removed;
  }
  (tasks ? report->removed_tasks : report->removed_objects) += removed;
}

class Run {
 public:
  Run(const RetentionTarget& t, RetentionReport* report) : t_(t), report_(*report) {}

  Status Apply(const RetentionPolicy& policy, uint64_t now_ms) {
    report_ = RetentionReport();
    report_.disk_bytes_before = t_.rocks->TableFileBytes();
    if (Status s = FindLiveActors(); !s.ok()) return s;
    uint64_t age_ms = static_cast<uint64_t>(std::max<int64_t>(0, policy.max_age.count()));
    uint64_t cutoff = age_ms > 0 && now_ms > age_ms ? now_ms - age_ms : 0;
    if (policy.max_bytes > 0) {
      uint64_t size_cutoff = 0;
      if (Status s = SizeCutoff(policy.max_bytes, &size_cutoff); !s.ok()) return s;
      // A minute's bucket may end after now: never claim "older than" a future time.
      cutoff = std::max(cutoff, std::min(size_cutoff, now_ms + 1));
    }
    report_.cutoff_ms = cutoff;
    report_.retained_bytes = total_;  // recounted below if anything goes
    if (cutoff > 0) {
      report_.retained_bytes = 0;
      for (Family f : kRecordFamilies) {
        if (Status s = Remove(f, cutoff, now_ms); !s.ok()) return s;
      }
    }
    if (policy.compact && !Stopped()) {
      rocksdb::CompactRangeOptions options;
      options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;  // drop the tombstones
      for (Family f : kRecordFamilies) {
        rocksdb::Status s = t_.rocks->db()->CompactRange(options, t_.rocks->family(f), nullptr, nullptr);
        if (!s.ok()) return FromRocks(s, "lineage retention: compacting");
      }
    }
    report_.disk_bytes_after = t_.rocks->TableFileBytes();
    return Status::OK();
  }

 private:
  bool Stopped() const { return t_.stop && t_.stop->load(std::memory_order_relaxed); }

  // REQUIRES: the family exists (a writable log has them all).
  std::unique_ptr<rocksdb::Iterator> Scan(Family f) const {
    rocksdb::ReadOptions options;
    options.fill_cache = false;  // one pass over old data must not evict the hot records
    return std::unique_ptr<rocksdb::Iterator>(t_.rocks->db()->NewIterator(options, t_.rocks->family(f)));
  }

  Status FindLiveActors() {
    auto it = Scan(kActorFamily);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      RecordAge age;
      // A corrupt actor record might be a live one: keep its calls.
      Status s = Peek(Kind::kActor, {it->value().data(), it->value().size()}, &age);
      if (!s.ok() || age.state != ActorState::kDead) {
        TaskID id;
        if (SourceOfKey(it->key(), &id)) live_actors_.insert(id);
      }
    }
    return it->status().ok() ? Status::OK() : FromRocks(it->status(), "lineage retention: reading actors");
  }

  // The cutoff that brings the retained bytes to 90% of `max_bytes`, oldest
  // removable records first (0 if within the bound). Counts retained_bytes.
  Status SizeCutoff(uint64_t max_bytes, uint64_t* cutoff) {
    std::map<uint64_t, uint64_t> bytes_by_minute;  // removable records only
    uint64_t total = 0;
    for (Family f : kRecordFamilies) {
      auto it = Scan(f);
      for (it->SeekToFirst(); it->Valid() && !Stopped(); it->Next()) {
        uint64_t bytes = it->key().size() + it->value().size();
        total += bytes;
        RecordAge age;
        if (!AgeOf(f, it->key(), it->value(), &age).ok()) continue;
        if (Removable(f, age, live_actors_)) bytes_by_minute[age.recorded_ms / kMinuteMs] += bytes;
      }
      if (!it->status().ok()) return FromRocks(it->status(), "lineage retention: scanning");
    }
    *cutoff = 0;
    total_ = total;
    if (total <= max_bytes) return Status::OK();
    uint64_t excess = total - max_bytes / 10 * 9;
    uint64_t freed = 0;
    for (const auto& [minute, bytes] : bytes_by_minute) {
      freed += bytes;
      *cutoff = (minute + 1) * kMinuteMs;
      if (freed >= excess) break;
    }
    return Status::OK();
  }

  Status Remove(Family f, uint64_t cutoff, uint64_t now_ms) {
    std::vector<std::string> chunk;
    auto it = Scan(f);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      uint64_t bytes = it->key().size() + it->value().size();
      RecordAge age;
      bool old = AgeOf(f, it->key(), it->value(), &age).ok() && age.recorded_ms < cutoff;
      if (old && !Removable(f, age, live_actors_)) ++report_.kept_for_live_actors;
      if (!old || !Removable(f, age, live_actors_)) {
        report_.retained_bytes += bytes;
        continue;
      }
      chunk.emplace_back(it->key().data(), it->key().size());
      if (chunk.size() == (f == kPackFamily ? kPackChunk : kChunk)) {
        if (Stopped()) return Status::OK();
        if (Status s = RemoveChunk(f, chunk, cutoff, now_ms); !s.ok()) return s;
        chunk.clear();
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), "lineage retention: scanning");
    return chunk.empty() ? Status::OK() : RemoveChunk(f, chunk, cutoff, now_ms);
  }

  Status RemoveChunk(Family f, const std::vector<std::string>& keys, uint64_t cutoff, uint64_t now_ms) {
    rocksdb::DB* db = t_.rocks->db();
    rocksdb::ColumnFamilyHandle* family = t_.rocks->family(f);
    rocksdb::WriteBatch batch;
    RetentionIndex::Ranges merged;
    RetentionReport counted;  // what this chunk removes, by kind
    uint64_t removed = 0, removed_bytes = 0;  // stored entries (records or packs) and their bytes
    std::lock_guard lock(*t_.write_mu);
    for (const std::string& key : keys) {
      // Re-read under the lock: the writer may have replaced it since the scan.
      rocksdb::PinnableSlice value;
      if (!db->Get(rocksdb::ReadOptions(), family, key, &value).ok()) continue;
      RecordAge age;
      if (!AgeOf(f, key, value, &age).ok() || age.recorded_ms >= cutoff || !Removable(f, age, live_actors_)) {
        continue;
      }
      uint64_t prefix, min_counter, max_counter;
      if (!SourcesOf(f, key, value, &prefix, &min_counter, &max_counter)) continue;
      auto [entry, fresh] = merged.try_emplace(prefix);
      if (fresh) entry->second = t_.index->Get(prefix);
      RetentionIndex::Range& range = entry->second;
      range.min_counter = std::min(range.min_counter, min_counter);
      range.max_counter = std::max(range.max_counter, max_counter);
      range.cutoff_ms = std::max(range.cutoff_ms, cutoff);
      range.removed_at_ms = now_ms;
      if (!batch.Delete(family, key).ok()) return {StatusCode::kIOError, "lineage retention: building a batch"};
      CountRemoved(t_.rocks, f, key, value, &counted);
      ++removed;
      removed_bytes += key.size() + value.size();
    }
    if (removed == 0) return Status::OK();
    for (const auto& [prefix, range] : merged) {
      rocksdb::Status s = batch.Put(t_.rocks->family(kRetentionFamily), RetentionIndex::EncodeKey(prefix),
                                    RetentionIndex::EncodeValue(range));
      if (!s.ok()) return FromRocks(s, "lineage retention: building a batch");
    }
    rocksdb::Status s = db->Write(rocksdb::WriteOptions(), &batch);
    if (!s.ok()) return FromRocks(s, "lineage retention: removing records");
    t_.index->Commit(merged);
    report_.removed_tasks += counted.removed_tasks;
    report_.removed_objects += counted.removed_objects;
    report_.removed_actors += counted.removed_actors;
    report_.removed_bytes += removed_bytes;
    return Status::OK();
  }

  const RetentionTarget& t_;
  RetentionReport& report_;
  std::unordered_set<ActorID> live_actors_;
  uint64_t total_ = 0;  // bytes of every record, when a size bound made us count them
};

}  // namespace

uint64_t RetentionIndex::Prefix(const TaskID& id) { return Load64(reinterpret_cast<const char*>(id.data()) + 8); }
uint64_t RetentionIndex::Counter(const TaskID& id) { return Load64(reinterpret_cast<const char*>(id.data())); }

std::string RetentionIndex::EncodeKey(uint64_t prefix) { return std::string(reinterpret_cast<char*>(&prefix), 8); }

std::string RetentionIndex::EncodeValue(const Range& r) {
  uint64_t fields[4] = {r.min_counter, r.max_counter, r.cutoff_ms, r.removed_at_ms};
  return std::string(reinterpret_cast<const char*>(fields), sizeof fields);
}

Status RetentionIndex::Read(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, Ranges* out) {
  Ranges& loaded = *out;
  loaded.clear();
  if (family) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), family));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 8 || it->value().size() != 32) continue;  // not ours: ignore, never guess
      const char* v = it->value().data();
      loaded[Load64(it->key().data())] = {Load64(v), Load64(v + 8), Load64(v + 16), Load64(v + 24)};
    }
    if (!it->status().ok()) return FromRocks(it->status(), "lineage log: reading the retention marks");
  }
  return Status::OK();
}

std::optional<RetentionMark> RetentionIndex::Lookup(const TaskID& id) const {
  std::lock_guard lock(mu_);
  auto it = ranges_.find(Prefix(id));
  if (it == ranges_.end()) return std::nullopt;
  uint64_t counter = Counter(id);
  if (counter < it->second.min_counter || counter > it->second.max_counter) return std::nullopt;
  return RetentionMark{it->second.cutoff_ms, it->second.removed_at_ms};
}

RetentionIndex::Range RetentionIndex::Get(uint64_t prefix) const {
  std::lock_guard lock(mu_);
  auto it = ranges_.find(prefix);
  return it == ranges_.end() ? Range() : it->second;
}

void RetentionIndex::Commit(const Ranges& merged) {
  std::lock_guard lock(mu_);
  for (const auto& [prefix, range] : merged) ranges_[prefix] = range;
}

Status RunRetention(const RetentionTarget& target, const RetentionPolicy& policy, uint64_t now_ms,
                    RetentionReport* report) {
  if (target.rocks->read_only()) return {StatusCode::kInvalid, "lineage log opened read-only: retention not applied"};
  return Run(target, report).Apply(policy, now_ms);
}

}  // namespace lineage
}  // namespace lumen::storage
