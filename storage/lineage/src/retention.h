// Retention inside the log: the marks of what was removed, and one run of a
// policy (lineage_retention.h states the contract).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>

#include "lumen/storage/lineage_retention.h"
#include "rocks_db.h"

namespace lumen::storage::lineage {

// What was removed, per id source: an id's last 8 bytes are its process's
// random prefix, its first 8 a counter that process counts up (object_id.cc).
// Thread safety: all methods may be called from any thread.
class RetentionIndex {
 public:
  struct Range {
    uint64_t min_counter = UINT64_MAX;
    uint64_t max_counter = 0;
    uint64_t cutoff_ms = 0;      // records of this source written before it were removed
    uint64_t removed_at_ms = 0;  // the latest run that removed some
  };
  using Ranges = std::map<uint64_t, Range>;  // by source prefix

  // Reads the marks from `family` (null: a log from before retention; none).
  static Status Read(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, Ranges* out);
  std::optional<RetentionMark> Lookup(const TaskID& id) const;
  // The current range of a source (an empty one for a new source).
  Range Get(uint64_t prefix) const;
  // After a removal is on disk (or at open): these ranges become the answer.
  void Commit(const Ranges& merged);

  static uint64_t Prefix(const TaskID& id);
  static uint64_t Counter(const TaskID& id);
  static std::string EncodeKey(uint64_t prefix);
  static std::string EncodeValue(const Range& range);

 private:
  mutable std::mutex mu_;
  Ranges ranges_;  // guarded by mu_
};

// What a run works on. `write_mu` serialises it with the log's writer: held
// while a chunk of records is re-checked and removed, so a record re-written
// since the scan saw it (a retry, a rebuild) is seen and kept.
struct RetentionTarget {
  RocksDb* rocks;
  std::mutex* write_mu;
  RetentionIndex* index;
  const std::atomic<bool>* stop;  // set: the run ends early, OK, at a chunk boundary
};

// Applies `policy` as of `now_ms` (lineage_retention.h says what it removes).
Status RunRetention(const RetentionTarget& target, const RetentionPolicy& policy, uint64_t now_ms,
                    RetentionReport* report);

}  // namespace lumen::storage::lineage
