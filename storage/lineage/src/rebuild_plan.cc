// RebuildPlan: a depth-first walk from the lost object to the tasks that make
// it and, recursively, its missing by-ref arguments. Iterative (an explicit
// stack) because real lineage chains can be far deeper than the thread stack.
#include <unordered_set>

#include "queries.h"

namespace lumen::storage::lineage {

namespace {

struct Frame {
  TaskRecord task;
  size_t next_arg = 0;
};

}  // namespace

Status BuildRebuildPlan(LineageLog& log, const ObjectID& target,
                        const std::function<bool(const ObjectID&)>& exists,
                        std::vector<TaskRecord>* plan) {
  plan->clear();
  if (exists(target)) return Status::OK();

  std::vector<Frame> stack;
  std::unordered_set<TaskID> planned;   // emitted: done with it
  std::unordered_set<TaskID> visiting;  // on the stack: reaching one again is a cycle

  // Pushes the task that returns `object`, unless it is already planned.
  auto visit = [&](const ObjectID& object) -> Status {
    // The object id embeds its task's id, so the common case costs one lookup.
    TaskID task_id = object.Task();
    if (planned.count(task_id)) return Status::OK();
    if (visiting.count(task_id)) {
      return {StatusCode::kInvalid, "cannot rebuild object " + target.Hex() + ": lineage of object " +
                                        object.Hex() + " is cyclic at task " + task_id.Hex()};
    }
    std::optional<TaskRecord> task = log.GetTask(task_id);
    if (!task) {
      // Say why: a Put object has no task to re-run; otherwise the record is missing.
      std::optional<ObjectRecord> record = log.GetObject(object);
      std::optional<RetentionMark> removed = log.RemovedByRetention(task_id);
      std::string why = record && record->is_put
                            ? "it was made by Put (owner " + record->owner +
                                  ") and is gone; only task results can be re-made"
                        : removed ? "the lineage of task " + task_id.Hex() + " that returns it was " + removed->Describe()
                                  : "the log has no record of task " + task_id.Hex() + " that returns it";
      return {StatusCode::kNotFound,
              "cannot rebuild object " + target.Hex() + ": object " + object.Hex() + " is needed but " + why};
    }
    visiting.insert(task_id);
    stack.push_back({std::move(*task), 0});
    return Status::OK();
  };

  if (Status s = visit(target); !s.ok()) return s;
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next_arg < top.task.args.size()) {
      const ArgRecord& arg = top.task.args[top.next_arg++];
      if (!arg.by_ref || exists(arg.ref)) continue;
      ObjectID needed = arg.ref;  // `top` dies if visit grows the stack
      if (Status s = visit(needed); !s.ok()) {
        plan->clear();  // a partial plan would rebuild the wrong thing
        return s;
      }
      continue;
    }
    // All missing arguments are planned before it: dependency order.
    visiting.erase(top.task.id);
    planned.insert(top.task.id);
    plan->push_back(std::move(top.task));
    stack.pop_back();
  }
  return Status::OK();
}

}  // namespace lumen::storage::lineage
