// The node manager's object directory: states, reference counts, Puts, and
// clients' Get/Wait requests. Every function here REQUIRES mu_.
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "lumen/errors.h"
#include "node/node_manager.h"
#include "node/node_manager_records.h"
#include "runtime/deadline.h"
#include "protocol/payloads.h"

namespace lumen::internal {

// ---- objects -----------------------------------------------------------------

// Completing an object can fail the tasks that depend on it, and so their
// results, down a chain of any length: a work list, never recursion (a chain
// of 200,000 tasks whose head failed once overflowed the stack).
void NodeManager::Complete(const ObjectID& id, Payload payload) {
  std::deque<std::pair<ObjectID, Payload>> work;
  work.emplace_back(id, std::move(payload));
  while (!work.empty()) {
    auto [oid, p] = std::move(work.front());
    work.pop_front();
    CompleteOne(oid, std::move(p), work);
  }
}

void NodeManager::CompleteOne(const ObjectID& id, Payload payload, std::deque<std::pair<ObjectID, Payload>>& work) {
  auto it = objects_.find(id);
  if (it == objects_.end()) {  // nobody holds a reference any more
    if (payload.kind == Payload::kInStore) deletes_.push_back(id);
    return;
  }
  Entry& e = it->second;
  if (e.state != Entry::kPending) return;  // e.g. cancelled before it finished
  switch (payload.kind) {
    case Payload::kInline:
      e.state = Entry::kReady;
      e.bytes = std::move(payload.bytes);
      e.size = e.bytes->size();
      break;
    case Payload::kInStore:
      e.state = Entry::kReady;
      e.in_store = true;
      e.size = payload.size;
      break;
    case Payload::kError:
      e.state = Entry::kFailed;
      e.error = std::move(payload.error);
      break;
  }
  for (const ObjectID& ref : payload.nested_refs) AddRefLocked(ref);
  std::vector<ObjectID> earlier = std::move(e.nested);  // a rebuilt object held these before
  e.nested = std::move(payload.nested_refs);
  for (const ObjectID& ref : earlier) RemoveRefLocked(ref);
  bool failed = e.state == Entry::kFailed;
  ObjectError error = failed ? e.error : ObjectError{};
  if (e.refs <= 0) {
    ++e.refs;  // freed through the usual path
    RemoveRefLocked(id);
  }
  bool answered = false;  // clients blocked in Get/Wait for it
  for (ObjectRequest& r : waiters_.Completed(id)) answered |= Answer(r, true);
  if (answered && std::this_thread::get_id() != thread_.get_id()) Wake();  // let the I/O loop send it
  // Wake the tasks that waited for it; a failure flows to them.
  if (failed) {
    for (const TaskID& dep : dependencies_.Failed(id)) {
      auto t = tasks_.find(dep);
      if (t == tasks_.end()) continue;
      Payload p;
      p.kind = Payload::kError;
      p.error = error;
      work.emplace_back(t->second.result, std::move(p));
      FinishTask(dep);
    }
    return;
  }
  for (const TaskID& dep : dependencies_.Ready(id)) {
    auto t = tasks_.find(dep);
    if (t == tasks_.end()) continue;
    if (t->second.spec.actor.IsNil()) {
      Enqueue(t->second, /*front=*/false);
    } else if (auto a = actors_.find(t->second.spec.actor); a != actors_.end()) {
      DispatchActor(a->second);
    }
  }
}

// A reference to an object this node no longer tracks (FromID, or a later
// process on the same storage dir) counts too when the lineage log knows
// it: the object is lost, and rebuilt when needed.
void NodeManager::AddRefLocked(const ObjectID& id) {
  auto it = objects_.find(id);
  if (it == objects_.end()) {
    if (!KnownToLineage(id)) return;
    it = objects_.emplace(id, Entry{}).first;
    it->second.state = Entry::kLost;
  }
  ++it->second.refs;
}

// Freeing an object drops the references it holds, which may free more
// (nested refs of any depth): a work list, not recursion.
void NodeManager::RemoveRefLocked(const ObjectID& first) {
  std::vector<ObjectID> work{first};
  while (!work.empty()) {
    ObjectID id = work.back();
    work.pop_back();
    auto it = objects_.find(id);
    if (it == objects_.end() || --it->second.refs > 0) continue;
    if (it->second.state == Entry::kPending) continue;  // freed when it completes
    if (it->second.in_store) deletes_.push_back(id);
    if (!it->second.peer_links.empty()) ReleaseOnPeers(id, it->second.peer_links);
    if (it->second.drop_copy) RetireCopy(id);  // a superseded actor state: its durable copy goes now
    work.insert(work.end(), it->second.nested.begin(), it->second.nested.end());
    objects_.erase(it);
  }
}

void NodeManager::CancelLocked(const ObjectID& id) {
  auto t = tasks_.find(id.Task());
  if (t == tasks_.end()) return;  // finished already (or a Put)
  CancelTask(t->second, "task '" + t->second.spec.name + "' was cancelled");
}

void NodeManager::CancelTask(Task& task, const std::string& why) {
  task.cancelled = true;
  history_.Ended(task.history, TaskHistory::State::kCancelled, "cancelled", UnixMillis());
  Payload p;
  p.kind = Payload::kError;
  p.error = {ErrorKind::kCancelled, why, ""};
  Complete(task.result, std::move(p));
  if (task.worker < 0) FinishTask(task.id);  // not running: nothing will report back
}

// False (and the task waits) if an argument's bytes are gone: it is being
// rebuilt, and the task becomes ready again when it is back.
bool NodeManager::ArgsPresent(Task& task) {
  bool present = true;
  for (const TaskArg& arg : task.spec.args) {
    if (!arg.by_ref || !NeedsRebuild(arg.ref)) continue;
    StartRebuild(arg.ref);
    auto it = objects_.find(arg.ref);
    if (it == objects_.end() || it->second.state != Entry::kPending) continue;  // failed: it flows below
    dependencies_.Add(task.id, arg.ref);
    present = false;
  }
  return present;
}

Payload NodeManager::PayloadOf(const ObjectID& id) {
  Payload p;
  auto it = objects_.find(id);
  if (it == objects_.end()) {
    p.kind = Payload::kError;
    p.error = {ErrorKind::kLost, UnknownObjectMessage(id), ""};
    return p;
  }
  const Entry& e = it->second;
  if (e.state == Entry::kFailed) {
    p.kind = Payload::kError;
    p.error = e.error;
  } else if (e.state == Entry::kLost) {
    p.kind = Payload::kError;
    p.error = {ErrorKind::kLost, "object " + id.Hex() + " was evicted and lineage is off: it cannot be rebuilt", ""};
  } else if (e.in_store) {
    p.kind = Payload::kInStore;
    p.size = e.size;
  } else {
    p.bytes = e.bytes;
    p.size = e.size;
  }
  return p;
}

// A client's Get or Wait: answered at once if satisfied, else when the
// objects it needs complete (Complete) or its deadline passes (CheckRequests).
// An object unknown here counts as complete: the reply says it is lost.
void NodeManager::AddRequest(ObjectRequest r) {
  for (const ObjectID& id : r.ids) StartRebuild(id);
  auto pending = [this](const ObjectID& id) {
    auto it = objects_.find(id);
    return it != objects_.end() && it->second.state == Entry::kPending;
  };
  if (std::optional<ObjectRequest> now = waiters_.Add(std::move(r), pending)) Answer(*now, true);
}

// Sends the reply to a request the waiters handed back.
bool NodeManager::Answer(ObjectRequest& r, bool satisfied) {
  Worker* client = ClientByNumber(r.client);
  if (!client || (!client->conn && !client->deliver)) return false;
  Worker& worker = *client;
  SetBlocked(worker, -1);
  if (r.is_wait) {
    WaitReplyMsg reply{r.id, {}};
    for (const ObjectID& id : r.ids) {
      auto o = objects_.find(id);
      reply.ready.push_back(o == objects_.end() || o->second.state != Entry::kPending);
    }
    Reply(worker, std::move(reply));
  } else {
    GetReplyMsg reply{r.id, !satisfied, {}, 0};
    if (satisfied) {
      for (const ObjectID& id : r.ids) reply.payloads.push_back(PayloadOf(id));
    } else {
      for (const ObjectID& id : r.ids) {
        auto o = objects_.find(id);
        reply.not_ready += o != objects_.end() && o->second.state == Entry::kPending;
      }
    }
    Reply(worker, std::move(reply));
  }
  return true;
}

// Answers the requests whose deadline passed (a Wait with what is ready).
void NodeManager::CheckRequests() {
  for (ObjectRequest& r : waiters_.Expired(Clock::now())) Answer(r, false);
}

// A task whose result no process can reach any more is not worth re-running.
bool NodeManager::Reachable(const Task& task) const {
  auto it = objects_.find(task.result);
  return it != objects_.end() && it->second.refs > 0;
}

// Tasks submitted by a worker run one level deeper than the task it runs.
int NodeManager::DepthOfTasksFrom(const Worker& w) const {
  if (!IsPool(w) || w.in_flight.empty()) return 1;
  auto t = tasks_.find(w.in_flight.front());
  return t == tasks_.end() ? 1 : t->second.depth + 1;
}

std::string NodeManager::UnknownObjectMessage(const ObjectID& id) const {
  std::string what = "object " + id.Hex();
  if (!options_.lineage)
    return what + " is unknown here: it never existed in this cluster, or every reference to it was dropped "
                  "(lineage is off, so the runtime cannot tell which)";
  if (!options_.lineage->GetObject(id) && !options_.lineage->GetTask(id.Task()))
    return what + " never existed in this cluster: the lineage log has no record of it";
  return what + " no longer exists: every reference to it was dropped";
}

}  // namespace lumen::internal
