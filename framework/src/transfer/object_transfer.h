// Objects between the stores of two nodes on one machine: a thread of its
// own copies an object's bytes from one segment straight into the other
// (one memcpy; never through a socket, never in one big message). A node
// pushes a task's arguments to the node it sends the task to and pulls the
// result back. Copies of one object to one store that are queued together
// are merged into one. Across machines: not yet (a TCP stream in chunks).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "lumen/storage/object_store.h"

namespace lumen::internal {

class ObjectTransfer {
 public:
  // The copy is done (or failed: why); runs on the transfer thread, holding no lock.
  using Done = std::function<void(const Status& status, uint64_t size)>;
  ObjectTransfer();
  ~ObjectTransfer();  // finishes what is queued

  // Copies `id` from `from` into `to` (already there: done at once, OK).
  void Copy(std::shared_ptr<storage::ObjectStore> from, std::shared_ptr<storage::ObjectStore> to, const ObjectID& id,
            bool reconstructable, Done done);

  // The copy itself, for the thread and for tests.
  static Status CopyNow(storage::ObjectStore& from, storage::ObjectStore& to, const ObjectID& id,
                        bool reconstructable, uint64_t* size);

 private:
  struct Job {
    std::shared_ptr<storage::ObjectStore> from, to;
    ObjectID id;
    bool reconstructable;
    std::vector<Done> done;
  };
  void Run();

  std::mutex mu_;  // guards queue_, stopping_
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lumen::internal
