// The log's queue and the writer thread's encoder. Plain tasks and objects
// wait in the queue in compact form (compact_records.h), encoded by the
// appending thread into one reused buffer; the writer packs the fresh ones
// (packs.h) and gives every other record (actors, actor tasks, placement
// groups, records written again) a key of its own, as a flat Cap'n Proto message.
#pragma once

#include <rocksdb/write_batch.h>

#include <capnp/common.h>
#include <kj/array.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "lumen/storage/lineage_log.h"
#include "packs.h"
#include "retention.h"
#include "rocks_db.h"

namespace lumen::storage::lineage {

using Record = std::variant<TaskRecord, ObjectRecord, ActorRecord, PlacementGroupRecord>;

// Records in append order. Not thread-safe: the log guards its queue.
class QueuedRecords {
 public:
  // `compact`: the compact form of a plain task or an object.
  void AddCompact(PackKind kind, std::string_view compact);
  void Add(Record&& record);
  size_t size() const { return slots_.size(); }
  bool empty() const { return slots_.empty(); }
  void clear();  // keeps the buffers' capacity
  void swap(QueuedRecords& other) noexcept;

 private:
  friend class RecordWriter;
  enum class Type : uint8_t { kTask, kObject, kFull };
  struct Slot {
    Type type;
    size_t begin, size;  // in bytes_ (compact), or the index in records_ (full)
  };
  std::vector<Slot> slots_;
  std::string bytes_;
  std::vector<Record> records_;
};

// Not thread-safe: the log's writer thread only.
class RecordWriter {
 public:
  // `marks`: what retention removed (their counters are never packed again).
  RecordWriter(RocksDb* rocks, const RetentionIndex* marks);

  // Adds queued records [begin, end) to `wb`, each stamped `now_ms`.
  // REQUIRES the log's write lock (the one retention takes), held until `wb`
  // is written: a high-water mark read here must not race a retention run.
  Status Build(const QueuedRecords& queue, size_t begin, size_t end, uint64_t now_ms, rocksdb::WriteBatch* wb);

 private:
  // The flat message of `r` in scratch_.
  template <typename R>
  void Encode(const R& r, uint64_t now_ms);
  Status PutOwn(const Record& r, uint64_t now_ms, rocksdb::WriteBatch* wb);
  // A compact record: packed if its id is above its high-water mark, else
  // decoded and written under its own key.
  Status AddCompact(PackKind kind, std::string_view compact, uint64_t now_ms, rocksdb::WriteBatch* wb);
  uint64_t& HighWater(PackKind kind, uint64_t prefix);

  RocksDb* rocks_;
  const RetentionIndex* marks_;
  kj::Array<capnp::word> first_segment_;
  std::string scratch_;
  PackBuilder packs_;
  std::vector<PackBuilder::Pack> built_;
  std::map<std::pair<PackKind, uint64_t>, uint64_t> high_water_;  // per (kind, source prefix)
};

}  // namespace lumen::storage::lineage
