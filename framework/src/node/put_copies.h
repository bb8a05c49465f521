// Durable copies of large Puts, written behind the Put.
//
// A Put over the inline limit lives in the store only, so the lineage log's
// record cannot bring it back. With a storage dir the user named, the node
// hands each such Put to this class, whose one thread writes the object's
// bytes to `<dir>/<id hex>` off the Put's path: through a temporary file
// renamed into place, so a copy is whole or absent. Flush returns once every
// copy queued before it is written; from then on it survives a kill -9 of
// this process (as the log's records do: not fsynced). Restore reads a copy
// back into the store, on the same thread: a later process on the same dir,
// or this one once the object was dropped. Remove deletes a copy nothing
// needs any more (a superseded actor state), in queue order too.
//
// The node keeps a queued object alive until `done` says its copy ended, so
// the thread always finds it in the store. Thread-safe; `done` runs on this
// class's thread with no lock of its held, and may call back into it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "lumen/storage/object_store.h"

namespace lumen::storage {
class LineageLog;
}

namespace lumen::internal {

class PutCopies {
 public:
  enum class Job { kCopy, kRestore, kRemove };
  // A copy or restore ended (a removal says nothing): for kRestore, `size`
  // is the restored object's (in the store now).
  using Done = std::function<void(Job, const ObjectID&, const Status&, uint64_t size)>;

  // Creates `dir` (0700) if missing. Throws lumen::Error if it cannot.
  PutCopies(std::string dir, std::shared_ptr<storage::ObjectStore> store, Done done);
  ~PutCopies();  // ends the jobs queued so far, then stops

  void Copy(const ObjectID& id);
  void Restore(const ObjectID& id);
  // Deletes the copy of `id` once the jobs queued before ended and `first()`
  // said yes: it runs on this class's thread and may block there, e.g. until
  // the record that stopped naming the copy is durable; false keeps the
  // copy (a sweep removes it later). No copy there is no error.
  void Remove(const ObjectID& id, std::function<bool()> first);
  // Whether a whole copy of `id` is on disk.
  bool Has(const ObjectID& id) const;
  // Blocks until every copy queued before the call was written (or failed);
  // false on timeout or if one failed (LastError says why).
  bool Flush(int64_t timeout_ms);
  Status LastError() const;
  const std::string& dir() const { return dir_; }

  // Removes from `dir` the copies `keep` says no (e.g. of Puts whose record
  // retention removed) and half-written ones a killed process left; returns
  // how many, and their bytes in `*bytes`. For a dir no PutCopies writes now.
  static size_t Sweep(const std::string& dir, const std::function<bool(const ObjectID&)>& keep, uint64_t* bytes);
  // Sweep's `keep` for the dir beside `log`: a copy an actor that is not
  // dead names as its checkpoint, or one of an object the log still records
  // that is no actor's state (a large Put). Not kept: copies of records
  // retention removed, and states superseded or of dead actors that a
  // killed process had no time to delete. Reads the actors now; `log`
  // must outlive the result.
  static std::function<bool(const ObjectID&)> NeededBy(storage::LineageLog& log);

 private:
  std::string PathOf(const ObjectID& id) const;
  Status WriteCopy(const ObjectID& id);
  Status ReadCopy(const ObjectID& id, uint64_t* size);
  void Run();

  const std::string dir_;
  const std::shared_ptr<storage::ObjectStore> store_;
  const Done done_;
  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable wake_, written_;
  struct Queued {
    Job job;
    ObjectID id;
    std::function<bool()> first;  // kRemove's
  };
  std::deque<Queued> jobs_;
  uint64_t copies_queued_ = 0, copies_ended_ = 0;  // in queue order
  Status last_error_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the rest is set
};

}  // namespace lumen::internal
