// Rebuilding objects from the lineage log.
//
// An object whose bytes are gone is kLost: the store evicted it (task
// results are stored as reconstructable), or it is known only to the log (a
// ref made by FromID after every reference was dropped, or in a later
// process on the same storage dir). The first Get, Wait or task that needs it
// asks the log for the tasks that make it (RebuildPlan: only what is missing,
// inputs first), and re-submits them under their original ids, so their
// results get their original ids too; a task already running is not
// submitted again, so concurrent callers share one rebuild. Small Puts are
// recorded as a "put task" whose argument is the value itself; large ones
// come back from their durable copy (node_manager_put_copies.cc). A rebuild is
// bounded by each task's retries; its failure is an
// ObjectReconstructionFailedError naming the task, its attempt and the cause,
// and an object that cannot be rebuilt fails with ObjectLostError saying why.
// Every function here REQUIRES mu_.
#include <cstring>

#include "lumen/errors.h"
#include "node/node_manager.h"
#include "node/node_manager_records.h"

namespace lumen::internal {

namespace {
// A recorded value's bytes, 8-byte aligned as objects are read.
BytesPtr BytesOf(const std::string& value) {
  auto bytes = std::make_shared<Bytes>(value.size());
  std::memcpy(bytes->data(), value.data(), value.size());
  return bytes;
}
}  // namespace

// The log answers from what is on disk: a record appended a moment ago may
// still be queued. True if some were and now are written (bounded): then a
// lookup that missed is worth once more.
bool NodeManager::CaughtUpWithLog(int64_t timeout_ms) const {
  storage::LineageLog& log = *options_.lineage;
  return log.DurableSeq() < log.AppendedSeq() && log.Flush(timeout_ms);
}

bool NodeManager::KnownToLineage(const ObjectID& id) const {
  if (!options_.lineage) return false;
  auto known = [&] {
    return options_.lineage->GetTask(id.Task()).has_value() || options_.lineage->GetObject(id).has_value();
  };
  return known() || (CaughtUpWithLog(/*timeout_ms=*/200) && known());
}

bool NodeManager::NeedsRebuild(const ObjectID& id) const {
  auto it = objects_.find(id);
  return it != objects_.end() && it->second.state == Entry::kLost;
}

bool NodeManager::HasObject(const ObjectID& id) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(id);
  return it != objects_.end() && it->second.state == Entry::kReady;
}

void NodeManager::OnEvicted(const ObjectID& id) {
  Unlocker locked(this);
  MarkEvicted(id);
}

void NodeManager::MarkEvicted(const ObjectID& id) {
  auto it = objects_.find(id);
  if (it == objects_.end() || it->second.state != Entry::kReady || !it->second.in_store) return;
  it->second.state = Entry::kLost;
  it->second.in_store = false;
  ++rebuild_stats_.evicted;
}

// A recorded task as it is submitted again (its actor, if any, left nil:
// the caller says whose call it is).
TaskSpec NodeManager::SpecOf(const storage::TaskRecord& rec) {
  TaskSpec spec;
  spec.function = rec.function;
  spec.name = rec.name;
  spec.max_retries = rec.max_retries;
  spec.retry_exceptions = rec.retry_exceptions;
  spec.resources = rec.resources;
  for (const storage::ArgRecord& a : rec.args) {
    TaskArg arg;
    arg.by_ref = a.by_ref;
    arg.ref = a.ref;
    if (!a.by_ref) arg.value.bytes = BytesOf(a.value);
    spec.args.push_back(std::move(arg));
  }
  return spec;
}

ObjectError NodeManager::RebuildFailure(const Task& task, const ObjectError& cause) const {
  if (cause.kind == ErrorKind::kReconstructionFailed) return cause;
  return {ErrorKind::kReconstructionFailed,
          "rebuilding object " + task.result.Hex() + " from lineage failed: task '" + task.spec.name +
              "' (attempt " + std::to_string(task.attempt) + ") " + cause.message,
          cause.exception_type};
}

void NodeManager::StartRebuild(const ObjectID& id) {
  auto target = objects_.find(id);
  if (target == objects_.end() || target->second.state != Entry::kLost) return;
  auto fail = [&](const std::string& why) {
    Entry& e = objects_[id];
    e.state = Entry::kPending;
    Payload p;
    p.kind = Payload::kError;
    p.error = {ErrorKind::kLost, "object " + id.Hex() + " is lost and cannot be rebuilt: " + why, ""};
    Complete(id, std::move(p));
  };
  if (!options_.lineage) return fail("lineage is off (Config::enable_lineage)");
  // What exists: ready or failed objects, pending ones whose task runs or
  // that come back from a durable copy, and large Puts that have one (read
  // back from here on).
  auto exists = [&](const ObjectID& oid) {
    auto it = objects_.find(oid);
    if (it != objects_.end()) {
      const Entry& e = it->second;
      if (e.state == Entry::kReady || e.state == Entry::kFailed || e.restoring ||
          (e.state == Entry::kPending && tasks_.count(oid.Task()) > 0))
        return true;
    }
    return RestoreFromCopy(oid);
  };
  std::vector<storage::TaskRecord> plan;
  Status s = options_.lineage->RebuildPlan(id, exists, &plan);
  // E.g. the record of the task that made an object just evicted.
  if (s.code() == StatusCode::kNotFound && CaughtUpWithLog(/*timeout_ms=*/2000))
    s = options_.lineage->RebuildPlan(id, exists, &plan);
  if (!s.ok()) return fail(s.message() + (s.message().find("made by Put") != std::string::npos ? WhyNoCopy() : ""));
  for (const storage::TaskRecord& rec : plan) {
    if (!rec.actor.IsNil()) {
      auto actor = actors_.find(rec.actor);
      if (!rec.actor_creation && rec.actor_call_index > 0 && actor != actors_.end() &&
          rec.actor_call_index <= actor->second.checkpoint_calls)
        return fail("it is the output of call " + std::to_string(rec.actor_call_index) + " to actor " +
                    rec.actor.Hex() + ", which its latest checkpoint covers: replay starts after it");
      return fail("it is made by " + std::string(rec.actor_creation ? "the creation of" : "a call to") + " actor " +
                  rec.actor.Hex() + ", and actor calls are not rebuilt (only actors with replay restore theirs)");
    }
    if (rec.function == LineageRecorder::kPutTask && (rec.args.size() != 1 || rec.args[0].by_ref))
      return fail("it was made by Put, and its durable copy was not written");
  }
  // Objects completed here at once (Puts) are held until every task of the
  // plan has pinned its arguments.
  std::vector<ObjectID> held;
  for (const storage::TaskRecord& rec : plan) {
    ++rebuild_stats_.tasks;
    if (rec.function == LineageRecorder::kPutTask) {
      for (const ObjectID& ret : rec.returns) {
        Entry& e = objects_[ret];
        if (e.state != Entry::kLost && e.state != Entry::kPending) continue;
        e.state = Entry::kPending;
        ++e.refs;
        held.push_back(ret);
        Payload p;
        p.bytes = BytesOf(rec.args[0].value);
        p.size = p.bytes->size();
        Complete(ret, std::move(p));
      }
      continue;
    }
    if (tasks_.count(rec.id)) continue;  // already running: each task once
    SubmitLocked(rec.id, SpecOf(rec), nullptr, /*rebuild=*/true, static_cast<int>(rec.attempt) + 1);
  }
  for (const ObjectID& h : held) RemoveRefLocked(h);
}

}  // namespace lumen::internal
