// Which tasks wait for which objects before they can run.
//
// A task depends on each of its by-reference arguments that is not complete
// yet (and on one that must be rebuilt first); an argument repeated is a
// dependency each time it appears. The node adds each dependency as it finds
// it; when an object completes it learns which tasks that made ready (they
// wait for nothing more), or, when the object failed, which tasks fail with
// it. Either way each task comes back once, in the order it began waiting
// for that object, and is then forgotten here. The tasks themselves, their
// queues and their failures are the node's: this class knows them by id.
//
// Not thread-safe: NodeManager's mu_ guards every field, and every function
// REQUIRES it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "lumen/storage/object_id.h"

namespace lumen::internal {

class TaskDependencies {
 public:
  // `task` cannot run until `dependency` completes (once more, if it already waits for it).
  void Add(const TaskID& task, const ObjectID& dependency);

  // Whether `task` still waits for an object.
  bool Waits(const TaskID& task) const { return missing_.contains(task); }

  // `dependency` is ready: the tasks that now wait for nothing more, in the
  // order they were added for it (a task added twice, at its second).
  std::vector<TaskID> Ready(const ObjectID& dependency);

  // `dependency` failed: every task that waited for it, waiting for nothing
  // more (each fails, whatever else it waited for).
  std::vector<TaskID> Failed(const ObjectID& dependency);

  // `task` ended before its dependencies completed (cancelled, failed,
  // dropped): it waits for nothing more. Harmless for a task not waiting.
  void Forget(const TaskID& task);

  size_t size() const { return missing_.size(); }  // tasks waiting

 private:
  // A task's entries in waiters_ carry the ticket it had when it began
  // waiting. Forgetting a task (or failing it) drops only its count: its
  // entries left in other objects' lists no longer match its ticket (it has
  // none, or a new one if it waits again under the same id, as a rebuild
  // does) and are skipped when those objects complete. So Forget is O(1)
  // and a completion costs one step per entry, whatever the fan-in.
  struct Waiter {
    TaskID task;
    uint64_t ticket;
  };
  struct Missing {
    int count = 0;  // dependencies not complete, a repeated one each time
    uint64_t ticket = 0;
  };
  std::unordered_map<ObjectID, std::vector<Waiter>> waiters_;  // pending object -> tasks, in the order they began waiting
  std::unordered_map<TaskID, Missing> missing_;                // tasks that wait
  uint64_t next_ticket_ = 1;
};

}  // namespace lumen::internal
