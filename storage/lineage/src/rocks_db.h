// The RocksDB side of the lineage log, shared by the writer (lineage_log.cc)
// and retention (retention.cc): the column families, the key of an id, and
// opening a log for writing or, beside a live writer, for reading.
#pragma once

#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "lumen/storage/object_id.h"
#include "lumen/storage/status.h"

namespace lumen::storage::lineage {

// The column families, in the order of the handles OpenRocks returns.
enum Family : size_t {
  kDefaultFamily,
  kTaskFamily,       // TaskRecord by TaskID
  kObjectFamily,     // ObjectRecord by ObjectID
  kActorFamily,      // ActorRecord by ActorID
  kRetentionFamily,  // what retention removed, by id source (retention.h)
  kPackFamily,       // fresh plain tasks and objects, many a value (packs.h)
  kGroupFamily,      // PlacementGroupRecord by its TaskID
  kFamilyCount,
};

Status FromRocks(const rocksdb::Status& s, const std::string& what);

// The RocksDB key of an id: its bytes in reverse order. Ids from one process
// are a little-endian counter then a fixed prefix (object_id.cc), so reversed
// they ascend, and the memtable's skiplist inserts them next to the previous
// one instead of at a random place: measured 135k -> 185k durable task
// records/s. Only speed depends on this; any id layout stays correct.
template <size_t N>
class Key {
 public:
  explicit Key(const BinaryID<N>& id) {
    for (size_t i = 0; i < N; ++i) bytes_[i] = static_cast<char>(id.data()[N - 1 - i]);
  }
  operator rocksdb::Slice() const { return {bytes_, N}; }  // NOLINT: a key is a slice

 private:
  char bytes_[N];
};

// The 16-byte id whose source (process prefix and counter) a stored key
// belongs to: the key's own id for tasks and actors, the task part of an
// object id. False if the key has neither length.
bool SourceOfKey(const rocksdb::Slice& key, TaskID* out);

// An open log database; closes it (and removes a read-only instance's own
// scratch directory) when destroyed. Handles are indexed by Family; in a
// read-only instance of a log older than a family, that handle is null.
class RocksDb {
 public:
  // `read_only`: a secondary instance, which RocksDB lets run beside the
  // process that holds the log's lock. kNotFound if `dir` holds no log then.
  static Status Open(const std::string& dir, bool read_only, std::unique_ptr<RocksDb>* out);
  ~RocksDb();
  RocksDb(const RocksDb&) = delete;
  RocksDb& operator=(const RocksDb&) = delete;

  rocksdb::DB* db() const { return db_; }
  rocksdb::ColumnFamilyHandle* family(Family f) const { return handles_[f]; }
  bool read_only() const { return !scratch_dir_.empty(); }

  // Bytes of the live table files of every family (what is on disk beside
  // the write-ahead log).
  uint64_t TableFileBytes() const;

 private:
  RocksDb() = default;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::string scratch_dir_;  // a secondary instance's info log lives here
};

}  // namespace lumen::storage::lineage
