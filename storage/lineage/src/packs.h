// Packs: many fresh task and object records in one RocksDB value, so the
// writer pays one memtable insert (and one key's overhead in every table
// file) per pack instead of per record.
//
// A pack holds records of one kind (plain tasks, or objects) whose ids come
// from one source prefix (object_id.cc: an id's first 8 bytes are its
// process's counter, the next 8 its prefix; an object's source is its task
// part). Its key is the kind, then Key() of the highest source id in it.
// The packs of one (kind, prefix) cover disjoint counter ranges: each holds
// counters above every earlier pack's of that (kind, prefix) and up to its
// key, so the one pack that can hold an id is the first key >= the id's.
//
// Precedence: a record is packed only while its source counter is above the
// (kind, prefix)'s high-water mark; once an id is at or below the mark, any
// later record of it goes to its family's own key. The mark covers every
// pack and every task written under its own key (an id may change kinds: an
// actor call's record is replaced by a plain "put" of its value). So a
// family key, when there is one, is always newer than the packed record:
// readers look there first.
#pragma once

#include <rocksdb/db.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lumen/storage/object_id.h"

namespace lumen::storage::lineage {

enum class PackKind : uint8_t { kTask = 't', kObject = 'o' };

constexpr size_t kPackKeySize = 1 + TaskID::kSize;
// A pack is closed at this many record bytes: a reader decodes a whole pack's
// block to find one record, so packs stay near a table block's size.
constexpr size_t kPackMaxBytes = 32 * 1024;

uint64_t SourcePrefix(const TaskID& source);
uint64_t SourceCounter(const TaskID& source);
TaskID SourceOf(uint64_t prefix, uint64_t counter);

// The key of the pack of `kind` whose highest source id is `last`.
std::string PackKey(PackKind kind, const TaskID& last);

// What a stored pack says about itself (for retention).
struct PackInfo {
  PackKind kind = PackKind::kTask;
  uint64_t prefix = 0;
  uint64_t min_counter = 0, max_counter = 0;
  uint64_t recorded_ms = 0;
  uint32_t count = 0;  // records in it
};
// False if `key`/`value` is not a well-formed pack.
bool ReadPackInfo(std::string_view key, std::string_view value, PackInfo* out);
// The ids of the records in a well-formed pack (views into `value`).
std::vector<std::string_view> PackedIds(std::string_view value);

// Builds the packs of one write batch. Records are added in append order; a
// later record of the same id replaces an earlier one. It keeps views, not
// copies (the writer's hot path): what Add is given must outlive Finish.
class PackBuilder {
 public:
  // `id` is the record's id (16 bytes for tasks, 20 for objects), `record`
  // its compact form.
  void Add(PackKind kind, std::string_view id, std::string_view record);
  bool empty() const { return groups_.empty(); }
  // One (key, value) per pack, ranges split at kPackMaxBytes (never inside
  // one source id's records); then the builder is empty again.
  struct Pack {
    PackKind kind;
    TaskID last;
    std::string key, value;
  };
  void Finish(uint64_t recorded_ms, std::vector<Pack>* out);

 private:
  struct Entry {
    std::string_view id, record;
    size_t order;  // append order, for "the later one wins"
  };
  struct Group {
    PackKind kind;
    uint64_t prefix;
    std::vector<Entry> entries;
  };
  std::vector<Group> groups_;  // few: one per (kind, source prefix) in a batch
};

// The record of `id` (its compact form) in the pack that may hold it, copied
// into *record, and when the pack was written; false if there is none.
// `packs` may be null (a log from before packs).
bool FindPacked(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* packs, PackKind kind, std::string_view id,
                std::string* record, uint64_t* recorded_ms);

// The highest source counter packed so far for (kind, prefix); 0 if none.
uint64_t PackedHighWater(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* packs, PackKind kind, uint64_t prefix);
// The highest counter of `prefix` among the 16-byte keys of `family` (the
// tasks'); 0 if none.
uint64_t OwnKeyHighWater(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, uint64_t prefix);

}  // namespace lumen::storage::lineage
