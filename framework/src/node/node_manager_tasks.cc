// The node manager's tasks: submission (dependencies, pins, the lineage
// record), the frames that run them, and their results.
// Every function here REQUIRES mu_ (but the public Submit, which takes it).
#include <algorithm>
#include <sstream>

#include "lumen/errors.h"
#include "node/node_manager.h"
#include "node/node_manager_records.h"
#include "runtime/deadline.h"
#include "node/placement_groups.h"
#include "runtime/validation.h"

namespace lumen::internal {

// ---- tasks -----------------------------------------------------------------

bool NodeManager::RetriesLeft(const Task& task) const {
  return task.spec.max_retries < 0 || task.attempt < task.spec.max_retries;
}

ObjectID NodeManager::SubmitLocked(TaskID id, TaskSpec spec, Worker* owner, bool rebuild, int attempt) {
  if (spec.name.empty()) spec.name = spec.function;
  ObjectID result = ObjectID::ForTaskReturn(id, 0);
  Entry& entry = objects_[result];
  entry.state = Entry::kPending;
  if (!rebuild) entry.refs += 1;
  if (owner) owner->refs[result] += 1;

  Task& task = tasks_[id];
  task.id = id;
  task.result = result;
  task.rebuild = rebuild;
  task.attempt = attempt;
  task.depth = owner && !owner->driver ? DepthOfTasksFrom(*owner) : 0;
  task.job = owner ? owner->job : rebuild ? RebuildJob() : kEmbeddedJob;
  // Refused at Remote when the client asked (SubmitRefusal); here too for
  // the rest (rebuilds, a cached answer gone stale): its Get throws.
  ObjectError failure = spec.actor.IsNil() ? SubmitRefusal(spec) : FeasibilityError(spec, "'" + spec.name + "'", {});
  ActorState* actor = nullptr;
  bool waits = false;  // for an argument not complete yet
  if (!spec.actor.IsNil()) {
    auto a = actors_.find(spec.actor);
    if (a == actors_.end()) {
      failure = {ErrorKind::kActorDied, "no actor with id " + spec.actor.Hex() + " exists", ""};
    } else if (a->second.state == ActorState::kDead) {
      failure = {ErrorKind::kActorDied, "actor " + spec.actor.Hex() + " is dead: " + a->second.death_cause, ""};
    } else {
      actor = &a->second;
      if (actor->options.replay_on_restart) task.owner = OwnerName(owner);
    }
  }
  for (const TaskArg& arg : spec.args) {
    const std::vector<ObjectID> refs = ArgRefs(arg);
    for (const ObjectID& ref : refs) {
      if (!objects_.count(ref) && KnownToLineage(ref)) objects_[ref].state = Entry::kLost;
      if (arg.by_ref) StartRebuild(ref);  // no-op unless its bytes are gone
      auto it = objects_.find(ref);
      if (it == objects_.end()) {
        if (failure.kind == ErrorKind::kNone)
          failure = {ErrorKind::kLost, "argument object " + ref.Hex() + " of task '" + spec.name +
                                           "' no longer exists (every reference to it was dropped)", ""};
        continue;
      }
      AddRefLocked(ref);
      task.pins.push_back(ref);
      if (!arg.by_ref) continue;
      if (it->second.state == Entry::kPending) {
        dependencies_.Add(id, ref);
        waits = true;
      } else if (it->second.state == Entry::kFailed && failure.kind == ErrorKind::kNone) {
        failure = it->second.error;  // errors flow to dependent tasks
      }
    }
  }
  lineage_.TaskSubmitted(id, spec, OwnerName(owner), result, attempt);
  task.history = history_.Submitted(id, spec, rebuild, UnixMillis());
  task.spec = std::move(spec);
  if (failure.kind != ErrorKind::kNone) {
    FailTask(task, std::move(failure));
  } else if (actor) {
    actor->queue.push_back(id);  // in submission order, whatever its dependencies
    DispatchActor(*actor);
  } else if (!waits) {
    Enqueue(task, /*front=*/false);
  }
  return result;
}

ExecuteMsg NodeManager::ExecuteOf(ExecKind kind, uint64_t seq, const TaskID& id, const TaskSpec& spec) const {
  ExecuteMsg m;
  m.kind = kind;
  m.seq = seq;
  m.id = id;
  m.function = spec.function;
  m.name = spec.name;
  if (kind == ExecKind::kCreateActor)  // the actor's GPUs, for its whole life
    for (const auto& [actor_id, a] : actors_)
      if (a.creation_task == id) m.gpu_ids = a.gpus;
  for (const TaskArg& arg : spec.args) {
    ExecuteMsg::Arg& out = m.args.emplace_back();
    if (!arg.by_ref) {
      out.bytes = arg.value.bytes;
      continue;
    }
    const Entry& e = objects_.at(arg.ref);
    if (e.in_store) {
      out.in_store = true;
      out.id = arg.ref;
      out.size = e.size;
    } else {
      out.bytes = e.bytes;
    }
  }
  return m;
}

void NodeManager::TaskDone(Worker& w, const TaskID& id, Payload payload) {
  auto pos = std::find(w.in_flight.begin(), w.in_flight.end(), id);
  if (pos != w.in_flight.end()) w.in_flight.erase(pos);
  SettleLease(w);
  if (!w.actor.IsNil()) {
    auto a = actors_.find(w.actor);
    if (a != actors_.end()) {
      if (id == a->second.creation_task) return ActorCreated(a->second, std::move(payload));
      auto& in_flight = a->second.in_flight;
      if (!in_flight.empty() && in_flight.front() == id) {  // calls finish in order (one at a time)
        in_flight.pop_front();
      } else if (auto pos = std::find(in_flight.begin(), in_flight.end(), id); pos != in_flight.end()) {
        in_flight.erase(pos);
      }
    }
  }
  auto t = tasks_.find(id);
  if (t == tasks_.end()) return;
  TaskFinished(t->second, std::move(payload), OwnerName(&w));
}

// A run of `task` ended with `payload`, where `where` says (a worker here,
// or another node): its result, a retry, or its failure.
void NodeManager::TaskFinished(Task& task, Payload payload, const std::string& where) {
  const TaskID id = task.id;
  task.worker = -1;
  bool lost_checkpoint = false;
  if (!task.spec.actor.IsNil() && !task.replay)
    if (auto a = actors_.find(task.spec.actor); a != actors_.end() && a->second.options.replay_on_restart) {
      if (task.checkpoint) {
        lost_checkpoint = !CheckpointTaken(a->second, task, payload);
      } else {
        RecordCall(a->second, task);  // it ran: a restart re-runs it
      }
    }
  if (task.cancelled) {
    if (payload.kind == Payload::kInStore) deletes_.push_back(task.result);
    FinishTask(id);
    return;
  }
  Retry retry = payload.kind == Payload::kError ? RetryOf(payload.error.kind) : Retry::kNever;
  // An object lost for good fails each run at once: a bound, whatever the
  // task's retries (-1 included), so that it ends instead of spinning.
  if (retry == Retry::kRebuildingFirst && ++task.lost_retries > Task::kMaxLostRetries) retry = Retry::kNever;
  if ((retry == Retry::kRebuildingFirst || (retry == Retry::kWhenAsked && task.spec.retry_exceptions)) &&
      task.spec.actor.IsNil() && RetriesLeft(task) && Reachable(task)) {
    ++task.attempt;  // an argument evicted before it was read goes first: it is rebuilt, then this runs
    Enqueue(task, /*front=*/retry == Retry::kRebuildingFirst);
    return;
  }
  if (task.rebuild && payload.kind == Payload::kError) payload.error = RebuildFailure(task, payload.error);
  if (payload.kind != Payload::kError) lineage_.ResultStored(task.result, id, where, payload.size);
  if (payload.kind == Payload::kError) {
    history_.Ended(task.history, TaskHistory::State::kFailed, payload.error.message, UnixMillis());
  } else {
    history_.Ended(task.history, TaskHistory::State::kFinished, "", UnixMillis());
  }
  Complete(task.result, std::move(payload));
  if (lost_checkpoint) RemoveRefLocked(task.result);  // nothing keeps a state that never came
  FinishTask(id);
}

void NodeManager::FailTask(Task& task, ObjectError error) {
  if (error.kind == ErrorKind::kCancelled) {
    history_.Ended(task.history, TaskHistory::State::kCancelled, "cancelled", UnixMillis());
  } else {
    history_.Ended(task.history, TaskHistory::State::kFailed, error.message, UnixMillis());
  }
  Payload p;
  p.kind = Payload::kError;
  p.error = std::move(error);
  Complete(task.result, std::move(p));
  FinishTask(task.id);
}

void NodeManager::FinishTask(const TaskID& id) {
  auto t = tasks_.find(id);
  if (t == tasks_.end()) return;
  history_.Ended(t->second.history, TaskHistory::State::kCancelled, "dropped: nothing holds its result", UnixMillis());
  std::vector<ObjectID> pins = std::move(t->second.pins);
  dependencies_.Forget(id);
  tasks_.erase(t);
  for (const ObjectID& pin : pins) RemoveRefLocked(pin);
}

}  // namespace lumen::internal
