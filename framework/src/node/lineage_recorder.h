// The node's one writer of lineage: every task submitted, actor created or
// changed, result stored and Put is recorded here, as the log's records.
// Over no log (lineage off) it records nothing. Not thread-safe: the node
// calls it under its lock; the log batches the appends off this path. The
// records of the hot paths (tasks, results, Puts) are filled in place in
// members, whose buffers are reused: the log copies what it keeps, so
// recording allocates nothing once they have grown.
#pragma once

#include <string>

#include "lumen/internal/core.h"
#include "lumen/storage/lineage_log.h"
#include "protocol/messages.h"

namespace lumen::internal {

class LineageRecorder {
 public:
  // A small Put is recorded as a "task" of this name whose one argument is
  // the value, so the log can restore it (in this process or a later one).
  static constexpr const char* kPutTask = "lumen.put";

  // `log` may be null; it outlives the recorder.
  LineageRecorder(storage::LineageLog* log, std::string node_name) : log_(log), node_(std::move(node_name)) {}
  bool on() const { return log_ != nullptr; }

  // `owner` names the submitting process: "driver" or "worker-N".
  void TaskSubmitted(const TaskID& id, const TaskSpec& spec, const std::string& owner, const ObjectID& result,
                     int attempt);
  void ActorCreation(const TaskID& creation_task, const ActorID& actor, const TaskSpec& factory,
                     const std::string& owner);
  // The actor's record now; `checkpoint` (nil: none) covers its calls 1..checkpoint_calls.
  struct ActorNow {
    storage::ActorState state;
    int restarts;
    const std::string& death_cause;
    const ObjectID& checkpoint;
    uint64_t checkpoint_calls;
    const std::string& binary;  // its process's (its job's)
    const std::vector<std::string>& argv;
  };
  void ActorChanged(const ActorID& actor, const TaskID& creation_task, const ActorOptions& options,
                    const ActorNow& now);
  // An actor of an earlier run, not restored: dead, for `cause`.
  void ActorEnded(storage::ActorRecord record, const std::string& cause);
  // A call on an actor with replay ran, as the actor's `index`-th call: its
  // record again, now with its place in the order (what replay reads back).
  void ActorCallRan(const TaskID& id, const TaskSpec& spec, const std::string& owner, const ObjectID& result,
                    int attempt, uint64_t index);
  // A task's result, stored by `worker` ("worker-N").
  void ResultStored(const ObjectID& result, const TaskID& task, const std::string& worker, uint64_t size);
  void Put(const ObjectID& id, const Payload& payload, const std::string& owner);

 private:
  void RecordObject(const ObjectID& id, const TaskID& made_by, bool is_put, const std::string& owner, uint64_t size);
  // task_ filled with the spec's fields (returns, attempt, call index reset).
  storage::TaskRecord& TaskRecordOf(const TaskID& id, const TaskSpec& spec, const std::string& owner);

  storage::LineageLog* log_;
  std::string node_;
  storage::TaskRecord task_;    // reused by each task record
  storage::TaskRecord put_;     // reused by each small Put
  storage::ObjectRecord object_;  // reused by each object record
};

}  // namespace lumen::internal
