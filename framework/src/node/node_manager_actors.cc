// The node manager's actors: each lives in a worker process of its own
// (Worker::actor); its calls are queued here and sent in submission order;
// its process's death restarts it or ends it. An actor's life (ActorState):
//
//   pending --(factory ran: ActorCreated)--> alive --(its process died, restarts left)--> restarting
//      |                                     ^   |                                            |
//      |                                     |   +--(its process died, none left)--+          |
//      |                                     +---------(factory ran again)---------|----------+
//      +--(creation failed: a name taken, an argument gone, the factory threw)--> dead
//   and from any state to dead: KillActor(no_restart), ExitActor, or its creator died.
//
// A dead actor fails its queued and future calls with ActorDiedError naming
// the cause; replay_on_restart re-runs its recorded calls after a restart
// (node_manager_replay.cc). An actor another node hosts (ActorState::peer)
// has the same life here, its process there (node_manager_peer_actors.cc).
// Every function here REQUIRES mu_.
#include <signal.h>

#include <algorithm>

#include "lumen/errors.h"
#include "node/node_manager.h"
#include "node/node_manager_records.h"
#include "runtime/deadline.h"
#include "runtime/validation.h"

namespace lumen::internal {


bool NodeManager::IsPool(const Worker& w) const { return w.actor.IsNil() && !w.driver && !w.peer_link; }

ObjectError NodeManager::RefuseActor(const TaskSpec& factory, const ActorOptions& options) const {
  auto bad = [](std::string why) { return ObjectError{ErrorKind::kBadCall, std::move(why), ""}; };
  std::string ns = options.ns.empty() ? options_.ns : options.ns;
  if (!options.name.empty() && named_actors_.count({ns, options.name}))
    return bad("an actor named '" + options.name + "' already exists in namespace '" + ns +
               "'; pick another name, or get it with lumen::GetActor");
  if (!options.checkpoint_method.empty() &&
      (options.restore_function.empty() || options.checkpoint_every <= 0 || options.max_concurrency != 1))
    return bad("actor '" + factory.function + "': checkpoints need a restore factory, a period of at least one call, and "
               "calls that run one at a time (max_concurrency 1), since a state covers exactly the calls before it");
  ObjectError infeasible = FeasibilityError(factory, ActorWhat(factory, options), ActorAsk(factory));
  if (infeasible.kind != ErrorKind::kNone) return infeasible;
  std::string shortage = FdShortage(kFdsPerWorker);
  if (!shortage.empty()) return bad("cannot create actor '" + factory.function + "': " + shortage);
  return {};
}

void NodeManager::CreateActorLocked(const ActorID& id, TaskSpec factory, ActorOptions options, Worker* owner) {
  if (factory.name.empty()) factory.name = factory.function;
  ActorState& a = actors_[id];
  a.id = id;
  a.owner = owner ? owner->number : -1;
  a.job = owner ? owner->job : kEmbeddedJob;
  if (!options.detached) options.detached = options_.actors_detached_by_default;
  if (options.ns.empty()) options.ns = options_.ns;
  for (const TaskArg& arg : factory.args) {
    const std::vector<ObjectID> refs = ArgRefs(arg);
    for (const ObjectID& ref : refs) {
      AddRefLocked(ref);
      a.pins.push_back(ref);
    }
  }
  a.creation = std::move(factory);
  a.options = std::move(options);
  a.creation_task = TaskID::Random();
  std::string error;
  if (!a.options.name.empty()) {
    auto [it, inserted] = named_actors_.emplace(std::make_pair(a.options.ns, a.options.name), id);
    if (!inserted) error = "an actor named '" + a.options.name + "' already exists in namespace '" + a.options.ns + "'";
  }
  for (const TaskArg& arg : a.creation.args) {  // arguments must still exist and not have failed
    if (!arg.by_ref || !error.empty()) continue;
    auto it = objects_.find(arg.ref);
    if (it == objects_.end()) error = "argument object " + arg.ref.Hex() + " no longer exists";
    else if (it->second.state == Entry::kFailed) error = "an argument failed: " + it->second.error.message;
  }
  a.recorded_creation = a.creation_task;
  lineage_.ActorCreation(a.creation_task, id, a.creation, OwnerName(owner));
  if (error.empty()) error = FdShortage(kFdsPerWorker);
  if (!error.empty()) {
    ActorIsDead(a, "its creation failed: " + error);
    return;
  }
  RecordActor(a);
  StartActorWhenItFits(a);
}

void NodeManager::ActorCreated(ActorState& a, Payload payload) {
  if (a.state == ActorState::kDead) return;
  if (payload.kind == Payload::kError) {  // the factory threw: dead, with its message
    ActorIsDead(a, "its creation failed: " + payload.error.message);
    if (a.worker >= 0) {
      auto w = workers_.find(a.worker);
      if (w != workers_.end()) CloseConnection(*w->second);
    }
    return;
  }
  a.state = ActorState::kAlive;
  RecordActor(a);
  DispatchActor(a);
}

// Sends the actor its queued calls, in order; a call whose arguments are not
// ready yet holds back the calls behind it.
void NodeManager::DispatchActor(ActorState& a) {
  if (a.peer >= 0) return DispatchRemoteActor(a);
  if (a.state != ActorState::kAlive || a.worker < 0) return;
  auto w = workers_.find(a.worker);
  if (w == workers_.end() || !w->second->conn) return;
  while (Task* call = NextCall(a)) {
    a.queue.pop_front();
    // In order, never stolen: no sequence number.
    w->second->conn->Queue(ExecuteOf(ExecKind::kActorCall, 0, call->id, call->spec));
    call->worker = a.worker;
    a.in_flight.push_back(call->id);
    TaskHistory::Started(call->history, a.worker, w->second->pid, UnixMillis());
  }
}

// The call at the front of its queue if its arguments are ready, else
// nullptr; calls failed or cancelled meanwhile are dropped.
NodeManager::Task* NodeManager::NextCall(ActorState& a) {
  while (!a.queue.empty()) {
    auto t = tasks_.find(a.queue.front());
    if (t != tasks_.end()) return dependencies_.Waits(t->first) ? nullptr : &t->second;
    a.queue.pop_front();
  }
  return nullptr;
}

void NodeManager::OnActorWorkerDeath(ActorState& a, const std::string& why) {
  a.worker = -1;
  a.last_exit = "its process died (" + why + ")";
  if (a.state == ActorState::kDead) return;  // killed or exited: its calls failed already
  // The node is stopping: the log keeps the actor as it was, so that a later
  // start on the same storage dir restores it (or records why not).
  if (stopping_) return;
  bool can_restart = a.options.max_restarts < 0 || a.restarts < a.options.max_restarts;
  if (!can_restart) {
    ActorIsDead(a, "its process died (" + why + ") and its restarts are spent (max_restarts=" +
                       std::to_string(a.options.max_restarts) + ")");
    return;
  }
  ++a.restarts;
  a.state = ActorState::kRestarting;
  // Calls it was running: re-sent to the new incarnation (in order) while
  // they have retries left, else failed.
  for (auto it = a.in_flight.rbegin(); it != a.in_flight.rend(); ++it) {
    auto t = tasks_.find(*it);
    if (t == tasks_.end()) continue;
    Task& task = t->second;
    task.worker = -1;
    if (task.checkpoint) {  // not re-sent: the next one is asked for after more calls
      ObjectID state = task.result;
      FailTask(task, {ErrorKind::kActorDied, "the actor's process died while taking a checkpoint", ""});
      RemoveRefLocked(state);
    } else if (a.options.max_task_retries < 0 || task.attempt < a.options.max_task_retries) {
      ++task.attempt;
      a.queue.push_front(task.id);
    } else {
      FailTask(task, {ErrorKind::kActorDied,
                      "the actor's process died (" + why + ") while running '" + task.spec.name +
                          "' (max_task_retries=" + std::to_string(a.options.max_task_retries) + ")",
                      ""});
    }
  }
  a.in_flight.clear();
  QueueReplay(a);
  a.creation_task = TaskID::Random();
  RecordActor(a);
  StartActorWhenItFits(a);  // here again (it holds its resources), or placed anew once it left its node
}

void NodeManager::KillActorLocked(const ActorID& id, bool no_restart, const std::string& cause) {
  auto it = actors_.find(id);
  if (it == actors_.end()) return;
  ActorState& a = it->second;
  if (a.state == ActorState::kDead) return;
  int worker = a.worker;
  if (no_restart) ActorIsDead(a, cause);
  if (a.peer >= 0) {  // another node hosts it: that node restarts it, within the restarts it was given
    if (Worker* link = ClientByNumber(a.link); link && link->conn) link->conn->Queue(KillActorMsg{id, false});
    return;
  }
  if (worker >= 0) {
    auto w = workers_.find(worker);
    if (w != workers_.end()) {
      CloseConnection(*w->second);  // SIGKILL; the death arrives through CAF
      if (!w->second->conn && !w->second->ever_connected && w->second->pid > 0) ::kill(w->second->pid, SIGKILL);
    }
  } else {
    for (auto& [n, w] : workers_)  // still starting
      if (w->actor == id && !w->dead && w->pid > 0) ::kill(w->pid, SIGKILL);
  }
}

// Dead for good: every pending and later call fails at once.
void NodeManager::ActorIsDead(ActorState& a, std::string cause) {
  if (a.peer >= 0) LeavePeer(a, /*kill=*/true);
  a.state = ActorState::kDead;
  a.death_cause = std::move(cause);
  ObjectError error{ErrorKind::kActorDied, "actor " + a.id.Hex() + " is dead: " + a.death_cause, ""};
  std::deque<TaskID> calls = std::move(a.in_flight);
  calls.insert(calls.end(), a.queue.begin(), a.queue.end());
  a.in_flight.clear();
  a.queue.clear();
  for (const TaskID& id : calls) {
    auto t = tasks_.find(id);
    if (t != tasks_.end()) FailTask(t->second, error);
  }
  if (!a.options.name.empty()) {
    auto n = named_actors_.find({a.options.ns, a.options.name});
    if (n != named_actors_.end() && n->second == a.id) named_actors_.erase(n);
  }
  std::vector<ObjectID> pins = std::move(a.pins);
  a.pins.clear();
  for (const ObjectID& pin : pins) RemoveRefLocked(pin);
  RecordActor(a);  // dead in the log before the copies of its states go (ReleaseReplayState)
  ReleaseReplayState(a);
  ReleaseActorResources(a);
}

storage::ActorState NodeManager::StoredState(const ActorState& a) {
  switch (a.state) {
    case ActorState::kPending: return storage::ActorState::kPending;
    case ActorState::kAlive: return storage::ActorState::kAlive;
    case ActorState::kRestarting: return storage::ActorState::kRestarting;
    case ActorState::kDead: return storage::ActorState::kDead;
  }
  return storage::ActorState::kDead;
}

void NodeManager::RecordActor(const ActorState& a) {
  static const Job kNoJob;
  auto job = jobs_.find(a.job);
  const Job& j = job == jobs_.end() ? kNoJob : job->second;
  static const ObjectID kNone;  // a dead actor names no state: their copies go (ReleaseReplayState)
  bool dead = a.state == ActorState::kDead;
  lineage_.ActorChanged(a.id, a.recorded_creation, a.options,
                        {StoredState(a), a.restarts, a.death_cause, dead ? kNone : a.recorded_checkpoint,
                         dead ? 0 : a.recorded_checkpoint_calls, j.binary, j.argv});
}

}  // namespace lumen::internal
