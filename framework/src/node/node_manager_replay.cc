// Replay: how an actor with replay_on_restart comes back with its state.
//
// Every call it runs is kept (ActorState::history) and recorded in the
// lineage log with its place in the order it ran (actor_call_index). A new
// incarnation, after its process died or at a later cluster's start
// (RestoreActors), runs its factory and then those calls, in order, before
// any new call.
//
// Checkpoints bound that: every checkpoint_every calls the node queues a call
// of checkpoint_method next (ahead of calls not yet sent), whose result is
// the actor's state. Calls finish in order, one at a time, so that state
// covers exactly the calls that finished before it. It is kept (pinned,
// and recorded like a Put: small states are durable in the log itself), the
// calls it covers are dropped from the history, and a replay starts with
// restore_function(state) and only the calls after it. A state too large
// for the log is kept in the store for restarts in this process and, with
// a storage dir the user named, copied to disk like a large Put
// (put_copies.h): a later cluster then starts from it too, the actor's
// process once the copy is back in the store. Without a copy, a later
// cluster replays the calls the log holds (retention keeps every call of a
// live actor).
//
// The actor's record names a state only once it is durable (its copy
// written), and the copy of the state it named before is deleted only once
// that record is durable (RetireCopy): at any crash the record names a
// whole state, and at most the superseded copy is left, which the next
// Init or `lumen gc` sweeps (PutCopies::NeededBy). So a long-lived actor
// keeps one copy on disk, and an actor dead for good none.
//
// Restoring at a cluster's start re-runs each recorded call under its
// original task id, so its output gets its original object id: a FromID of
// it in the new process gets the replayed value (kept until a newer
// checkpoint covers it). Every function here REQUIRES mu_, but the public
// RestoreActors, which takes it.
#include <cstdio>

#include "lumen/errors.h"
#include "node/node_manager.h"
#include "node/node_manager_records.h"
#include "runtime/deadline.h"

namespace lumen::internal {

namespace {
// What a call in the history holds a reference to while it is kept there.
std::vector<ObjectID> CallRefs(const TaskSpec& call) {
  std::vector<ObjectID> refs;
  for (const TaskArg& arg : call.args)
    for (const ObjectID& ref : ArgRefs(arg)) refs.push_back(ref);
  return refs;
}
}  // namespace

// ---- in this process -------------------------------------------------------

// Each call the actor ran since its checkpoint, in order, goes ahead of the
// calls it still owes; their results go nowhere (the originals stand).
void NodeManager::QueueReplay(ActorState& a) {
  for (auto it = a.history.rbegin(); it != a.history.rend(); ++it) {
    TaskID id = TaskID::Random();
    Task& t = tasks_[id];
    t.id = id;
    t.result = ObjectID::ForTaskReturn(id, 0);
    t.spec = *it;
    t.replay = true;
    a.queue.push_front(id);
  }
}

void NodeManager::RecordCall(ActorState& a, const Task& call) {
  a.history.push_back(call.spec);
  for (const ObjectID& ref : CallRefs(call.spec)) AddRefLocked(ref);
  ++a.calls_run;
  lineage_.ActorCallRan(call.id, call.spec, call.owner, call.result, call.attempt, a.calls_run);
  if (a.options.checkpoint_every > 0 &&
      a.calls_run - a.calls_at_request >= static_cast<uint64_t>(a.options.checkpoint_every))
    RequestCheckpoint(a);
}

// The state call runs next; its result is held (one reference) until it is
// the checkpoint, or dropped if it fails.
void NodeManager::RequestCheckpoint(ActorState& a) {
  a.calls_at_request = a.calls_run;
  TaskID id = TaskID::Random();
  Task& t = tasks_[id];
  t.id = id;
  t.result = ObjectID::ForTaskReturn(id, 0);
  t.checkpoint = true;
  t.spec.actor = a.id;
  t.spec.function = a.options.checkpoint_method;
  t.spec.name = a.options.checkpoint_method;
  t.spec.max_retries = 0;
  objects_[t.result].refs = 1;
  lineage_.TaskSubmitted(id, t.spec, "node", t.result, 0);
  t.history = history_.Submitted(id, t.spec, false, UnixMillis());
  a.queue.push_front(id);
  DispatchActor(a);
}

// False if the state call failed (the checkpoint before it stands).
bool NodeManager::CheckpointTaken(ActorState& a, const Task& task, const Payload& payload) {
  if (payload.kind == Payload::kError) {
    std::fprintf(stderr, "lumen: actor %s: its checkpoint (%s) failed, replay starts at the one before: %s\n",
                 a.id.Hex().c_str(), task.spec.function.c_str(), payload.error.message.c_str());
    return false;
  }
  uint64_t covered = a.calls_run;  // calls finish in order: exactly those finished before it
  lineage_.Put(task.result, payload, "actor-" + a.id.Hex());  // replaces the call's record: a put of its value
  // A state too large for the log: durable as a large Put is, and named by
  // the record once its copy is written (OnPutCopyDone).
  bool copying = QueuePutCopy(task.result, payload);
  if (copying) objects_[task.result].state_of = a.id;
  size_t dropped = std::min<size_t>(a.history.size(), covered - a.checkpoint_calls);
  for (size_t i = 0; i < dropped; ++i)
    for (const ObjectID& ref : CallRefs(a.history[i])) RemoveRefLocked(ref);
  a.history.erase(a.history.begin(), a.history.begin() + static_cast<std::ptrdiff_t>(dropped));
  std::vector<ObjectID> released = std::move(a.replay_outputs);
  a.replay_outputs.clear();
  if (!a.checkpoint.IsNil()) {
    if (a.checkpoint != a.recorded_checkpoint) RetireCopy(a.checkpoint);  // superseded before its copy was written
    released.push_back(a.checkpoint);
  }
  a.checkpoint = task.result;  // takes over the reference RequestCheckpoint made
  a.checkpoint_calls = covered;
  if (!copying) NameCheckpoint(a);  // durable with that record (in the log; or nowhere, without a storage dir)
  for (const ObjectID& id : released) RemoveRefLocked(id);
  return true;
}

// The latest state is durable: the record names it now, and the copy of
// the state it named before goes once that record is durable too.
void NodeManager::NameCheckpoint(ActorState& a) {
  ObjectID before = a.recorded_checkpoint;
  a.recorded_checkpoint = a.checkpoint;
  a.recorded_checkpoint_calls = a.checkpoint_calls;
  RecordActor(a);
  if (before != a.checkpoint) RetireCopy(before);
}

// Dead for good: the history, the checkpoint and the replayed outputs go,
// and the copies of its states once the log says it is dead (ActorIsDead
// records that first).
void NodeManager::ReleaseReplayState(ActorState& a) {
  std::vector<ObjectID> released = std::move(a.replay_outputs);
  a.replay_outputs.clear();
  for (const TaskSpec& call : a.history)
    for (const ObjectID& ref : CallRefs(call)) released.push_back(ref);
  a.history.clear();
  if (!a.checkpoint.IsNil()) released.push_back(a.checkpoint);
  RetireCopy(a.checkpoint);
  if (a.recorded_checkpoint != a.checkpoint) RetireCopy(a.recorded_checkpoint);
  a.checkpoint = a.recorded_checkpoint = ObjectID();
  for (const ObjectID& id : released) RemoveRefLocked(id);
}

// The factory call of its next incarnation: the restore factory with its
// latest state, or the original factory.
TaskSpec NodeManager::CreationOf(const ActorState& a) const {
  if (a.checkpoint.IsNil()) return a.creation;
  TaskSpec spec = a.creation;  // resources and placement as created
  spec.function = a.options.restore_function;
  spec.name = a.options.restore_function;
  TaskArg state;
  state.by_ref = true;
  state.ref = a.checkpoint;
  spec.args = {std::move(state)};
  return spec;
}

// ---- at a cluster's start ----------------------------------------------------

void NodeManager::RestoreActors() {
  if (!options_.lineage) return;
  Unlocker locked(this);
  for (const storage::ActorRecord& record : options_.lineage->AllActors()) {
    if (record.state == storage::ActorState::kDead) continue;
    if (record.detached && !record.name.empty()) {
      RestoreActorLocked(record);
      continue;
    }
    std::optional<storage::TaskRecord> creation = options_.lineage->GetTask(record.creation_task);
    std::string owner = creation ? creation->owner : "unknown";
    lineage_.ActorEnded(record, record.detached
                                    ? "it was detached but had no name, so no later driver could find it again"
                                    : "its owner (" + owner + ") died with the cluster it ran in");
    RetireCopy(record.checkpoint);  // after the record that says it is dead
  }
}

// Holds a reference to `id` for a restored actor, rebuilding it from the log
// if needed. False (and no reference) if it is not there now, and why; with
// `from_copy`, also true if it is on its way back from its durable copy
// (then *from_copy is set).
bool NodeManager::RestoredObject(const ObjectID& id, std::string* why, bool* from_copy) {
  AddRefLocked(id);
  StartRebuild(id);
  auto it = objects_.find(id);
  if (it == objects_.end()) {
    *why = UnknownObjectMessage(id);
    return false;
  }
  if (it->second.state == Entry::kReady) return true;
  if (from_copy && it->second.restoring) return *from_copy = true;
  *why = it->second.state == Entry::kFailed
             ? it->second.error.message
             : "object " + id.Hex() + " must be rebuilt by a task first, which restoring does not wait for yet";
  RemoveRefLocked(id);
  return false;
}

void NodeManager::RestoreActorLocked(const storage::ActorRecord& record) {
  auto give_up = [&](const std::string& why) {
    std::fprintf(stderr, "lumen: actor '%s' (%s) is not restored: %s\n", record.name.c_str(), record.id.Hex().c_str(),
                 why.c_str());
    lineage_.ActorEnded(record, "it could not be restored from the lineage log: " + why);
    RetireCopy(record.checkpoint);
  };
  std::optional<storage::TaskRecord> creation = options_.lineage->GetTask(record.creation_task);
  if (!creation) return give_up("its creation task " + record.creation_task.Hex() + " is not in the log");
  if (named_actors_.count({record.ns, record.name}))
    return give_up("another actor of the log holds the name '" + record.name + "' in namespace '" + record.ns + "'");
  int job = kEmbeddedJob;  // the driver's binary; a daemon has none but what the log says
  if (options_.serve_drivers) {
    std::string why;
    if ((job = RestoredJob(record, &why)) < 0) return give_up(why);
  }
  ActorState& a = actors_[record.id];
  a.job = job;
  a.id = record.id;
  a.restored = true;
  a.restarts = static_cast<int>(record.restarts);
  a.creation = SpecOf(*creation);
  if (a.creation.name.empty()) a.creation.name = a.creation.function;
  a.options.class_name = record.class_name;
  a.options.max_restarts = record.max_restarts;
  a.options.max_task_retries = record.max_task_retries;
  a.options.max_concurrency = record.max_concurrency;
  a.options.name = record.name;
  a.options.ns = record.ns;
  a.options.detached = true;
  a.options.replay_on_restart = record.replay_on_restart;
  a.options.checkpoint_method = record.checkpoint_method;
  a.options.restore_function = record.restore_function;
  a.options.checkpoint_every = static_cast<int>(record.checkpoint_every);
  a.recorded_creation = record.creation_task;
  a.creation_task = TaskID::Random();
  named_actors_.emplace(std::make_pair(record.ns, record.name), record.id);
  std::string why;
  for (const TaskArg& arg : a.creation.args) {
    if (!arg.by_ref) continue;
    if (!RestoredObject(arg.ref, &why)) return ActorIsDead(a, "it could not be restored: a factory argument: " + why);
    a.pins.push_back(arg.ref);
  }
  if (a.options.replay_on_restart) {
    if (!record.checkpoint.IsNil()) {
      if (RestoredObject(record.checkpoint, &why, &a.awaits_checkpoint)) {
        a.checkpoint = a.recorded_checkpoint = record.checkpoint;
        a.checkpoint_calls = a.recorded_checkpoint_calls = record.checkpoint_calls;
      } else {
        std::fprintf(stderr, "lumen: actor '%s': its checkpoint is not in the log (%s); replaying all its calls\n",
                     record.name.c_str(), why.c_str());
      }
    }
    std::vector<storage::TaskRecord> calls = options_.lineage->ActorCalls(record.id, a.checkpoint_calls);
    a.calls_run = calls.empty() ? a.checkpoint_calls : calls.back().actor_call_index;
    a.calls_at_request = a.checkpoint_calls;  // the next state N calls after the latest
    for (const storage::TaskRecord& call : calls) {
      std::vector<ObjectID> held;
      for (const storage::ArgRecord& arg : call.args) {
        if (!arg.by_ref) continue;
        if (!RestoredObject(arg.ref, &why)) {
          for (const ObjectID& id : held) RemoveRefLocked(id);
          return ActorIsDead(a, "it could not be restored: an argument of its recorded call " +
                                    std::to_string(call.actor_call_index) + " ('" + call.name + "'): " + why);
        }
        held.push_back(arg.ref);
      }
      for (const ObjectID& id : held) AddRefLocked(id);  // one for the history, one for the replayed call
      QueueRestoredCall(a, call);
    }
  }
  RecordActor(a);
  if (!a.awaits_checkpoint) StartActorWhenItFits(a);
}

// The durable copy of `id` was read back (or not): the restored actors
// whose state it is start now, or die saying why. REQUIRES mu_.
void NodeManager::CheckpointRestored(const ObjectID& id, const Payload& outcome) {
  for (auto& [actor_id, a] : actors_) {
    if (!a.awaits_checkpoint || a.checkpoint != id) continue;
    a.awaits_checkpoint = false;
    if (a.state == ActorState::kDead) continue;
    if (outcome.kind == Payload::kError) {
      ActorIsDead(a, "it could not be restored: its checkpoint: " + outcome.error.message);
    } else {
      StartActorWhenItFits(a);
    }
  }
}

// A recorded call, re-run under its original id: its output, held by the
// actor, gets its original object id. Its by-ref arguments are ready
// (RestoredObject) and pinned by the caller, once for the history and once
// for the call itself.
void NodeManager::QueueRestoredCall(ActorState& a, const storage::TaskRecord& call) {
  TaskSpec spec = SpecOf(call);
  spec.actor = a.id;
  if (spec.name.empty()) spec.name = spec.function;
  a.history.push_back(spec);
  Task& t = tasks_[call.id];
  t.id = call.id;
  t.result = call.returns.empty() ? ObjectID::ForTaskReturn(call.id, 0) : call.returns[0];
  t.replay = true;
  t.attempt = static_cast<int>(call.attempt);
  for (const TaskArg& arg : spec.args)
    if (arg.by_ref) t.pins.push_back(arg.ref);
  t.history = history_.Submitted(call.id, spec, /*rebuild=*/true, UnixMillis());
  t.spec = std::move(spec);
  Entry& out = objects_[t.result];
  out.state = Entry::kPending;
  ++out.refs;
  a.replay_outputs.push_back(t.result);
  a.queue.push_back(call.id);
}

}  // namespace lumen::internal
