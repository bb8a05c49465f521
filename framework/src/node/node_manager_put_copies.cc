// Durable copies of large Puts (put_copies.h), as the node uses them: a Put
// kept alive until its copy is written, and an object read back from its
// copy when a Get, Wait or task needs it and its bytes are gone (dropped,
// or written by an earlier process on the same storage dir). Small Puts
// need none: their value is in their lineage record.
#include "node/node_manager.h"
#include "node/node_manager_records.h"

namespace lumen::internal {

// REQUIRES mu_.
bool NodeManager::QueuePutCopy(const ObjectID& id, const Payload& payload) {
  if (!copies_ || payload.kind != Payload::kInStore) return false;
  if (!payload.nested_refs.empty()) return false;  // the references it holds would not come back with it
  ++objects_[id].refs;  // held until the copy is written: the copier finds it in the store
  copies_->Copy(id);
  return true;
}

// REQUIRES mu_. The copy of an actor's state that no record names any more
// (or will: superseded before its copy was written) is deleted, but only
// once nothing here refers to it (a call's argument, a FromID) and the log
// holds durably what it holds now: the record that stopped naming it, so a
// crash never leaves a record naming a deleted copy. Queued after its own
// copy job, so it never races the write. Without a copier, at shutdown
// included, what is left is swept at the next Init or `lumen gc`.
void NodeManager::RetireCopy(const ObjectID& id) {
  if (!copies_ || id.IsNil()) return;
  if (auto it = objects_.find(id); it != objects_.end() && it->second.refs > 0) {
    it->second.drop_copy = true;  // RemoveRefLocked retires it when it frees it
    return;
  }
  storage::LineageLog* log = options_.lineage;
  uint64_t seq = log ? log->AppendedSeq() : 0;
  copies_->Remove(id, [log, seq] { return !log || log->WaitDurable(seq, kFlushBoundMs); });
}

// REQUIRES mu_. Whether `id` is on its way back from a durable copy.
bool NodeManager::RestoreFromCopy(const ObjectID& id) {
  if (!copies_ || !copies_->Has(id)) return false;
  Entry& e = objects_[id];
  if (e.restoring) return true;
  e.state = Entry::kPending;
  e.restoring = true;
  ++e.refs;  // held until it is back
  ++rebuild_stats_.tasks;
  copies_->Restore(id);
  return true;
}

// REQUIRES mu_. Appended to why a Put cannot be rebuilt.
std::string NodeManager::WhyNoCopy() const {
  return copies_ ? "; it has no durable copy (its process ended before lumen::Flush, or it holds references)"
                 : "; large Puts get a durable copy only when Config::storage_dir names a directory";
}

void NodeManager::OnPutCopyDone(PutCopies::Job job, const ObjectID& id, const Status& status,
                                uint64_t size) {
  Unlocker locked(this);
  if (job == PutCopies::Job::kRestore) {
    objects_[id].restoring = false;
    Payload p;
    if (status.ok()) {
      p.kind = Payload::kInStore;
      p.size = size;
    } else {
      p.kind = Payload::kError;
      p.error = {ErrorKind::kLost, "object " + id.Hex() + " is lost: its durable copy could not be read back: " +
                                       status.message(), ""};
    }
    Complete(id, Payload(p));
    CheckpointRestored(id, p);  // an actor's state: the actor may start now
  } else if (auto it = objects_.find(id); it != objects_.end() && !it->second.state_of.IsNil()) {
    // An actor's state, durable now: its record names it, if it is still the latest.
    auto a = actors_.find(it->second.state_of);
    it->second.state_of = ActorID();
    if (status.ok() && a != actors_.end() && a->second.checkpoint == id && a->second.state != ActorState::kDead)
      NameCheckpoint(a->second);
  }
  RemoveRefLocked(id);  // the hold taken when the job was queued
}

std::string NodeManager::MakeDurable(int64_t timeout_ms) {
  std::string why;
  if (!FlushPutCopies(timeout_ms, &why)) return why;
  if (!options_.lineage) return "lineage is off (Config::enable_lineage), so nothing is made durable";
  if (options_.lineage->Flush(timeout_ms)) return "";
  Status error = options_.lineage->LastError();
  return "the lineage log could not make everything durable" +
         (error.ok() ? " within " + std::to_string(timeout_ms / 1000) + " s" : ": " + error.message());
}

bool NodeManager::FlushPutCopies(int64_t timeout_ms, std::string* why) {
  if (!copies_ || copies_->Flush(timeout_ms)) return true;
  Status error = copies_->LastError();
  *why = error.ok() ? "the durable copies of large Puts were not all written within " +
                          std::to_string(timeout_ms / 1000) + " s"
                    : error.message();
  return false;
}

}  // namespace lumen::internal
