#include "store_core.h"

#include <utility>

#include "spill.h"

namespace lumen::storage {

namespace {
std::string Bytes(uint64_t n) { return std::to_string(n) + " bytes"; }
}  // namespace

StoreCore::StoreCore(std::unique_ptr<Segment> segment, std::string spill_dir)
    : segment_(std::move(segment)), spill_dir_(std::move(spill_dir)),
      allocator_(segment_->size()) {
  clients_[kLocalClientId];
}

Status StoreCore::ClosedError() const {
  return {StatusCode::kDisconnected, "object store server '" + segment_->label() + "' has shut down"};
}

Status StoreCore::Create(ClientId client, const ObjectID& id, uint64_t size, bool reconstructable,
                         Placement* where) {
  std::vector<ObjectID> evicted;
  Status status;
  {
    std::lock_guard lock(mu_);
    if (closed_) return ClosedError();
    // The raw size first: rounding 2^64 - 1 up wraps around to 0.
    if (size > allocator_.capacity() || Allocator::RoundUp(size) > allocator_.capacity()) {
      return {StatusCode::kObjectTooLarge, "object " + id.Hex() + " of " + Bytes(size) +
                                               " is larger than the store's capacity of " +
                                               Bytes(allocator_.capacity())};
    }
    if (auto it = objects_.find(id); it != objects_.end()) {
      return {StatusCode::kAlreadyExists,
              "object " + id.Hex() +
                  (it->second.deleted ? " was deleted but is still pinned" : " already exists")};
    }
    *where = {};
    status = Allocate(size, &where->offset, &evicted);
    const bool in_file = Fragmented(status, size);
    if (in_file) status = CreateInFile(id, size, &where->fd);
    if (status.ok()) {
      Entry& e = objects_[id];
      e.offset = where->offset;
      e.size = size;
      e.in_file = in_file;
      e.reconstructable = reconstructable;
      e.creator = client;
      clients_[client].creating.insert(id);
      if (in_file) ++creates_in_file_;
    }
  }
  Notify(evicted);
  return status;
}

Status StoreCore::Seal(ClientId client, const ObjectID& id) {
  std::lock_guard lock(mu_);
  if (closed_) return ClosedError();
  auto it = objects_.find(id);
  if (it == objects_.end()) return {StatusCode::kNotFound, "cannot seal " + id.Hex() + ": no such object"};
  Entry& e = it->second;
  if (e.state != State::kUnsealed) {
    return {StatusCode::kInvalid, "cannot seal " + id.Hex() + ": already sealed"};
  }
  if (e.creator != client) {
    return {StatusCode::kInvalid, "cannot seal " + id.Hex() + ": created by another client"};
  }
  clients_[client].creating.erase(id);
  if (e.in_file) {  // created in its spill file: sealed there
    e.state = State::kSpilled;
    ++num_spilled_;
    return Status::OK();
  }
  e.state = State::kSealed;
  AddToLru(id, &e);
  return Status::OK();
}

Status StoreCore::Abort(ClientId client, const ObjectID& id) {
  std::lock_guard lock(mu_);
  if (closed_) return ClosedError();
  auto it = objects_.find(id);
  if (it == objects_.end()) return {StatusCode::kNotFound, "cannot abort " + id.Hex() + ": no such object"};
  if (it->second.state != State::kUnsealed) {
    return {StatusCode::kInvalid, "cannot abort " + id.Hex() + ": already sealed"};
  }
  if (it->second.creator != client) {
    return {StatusCode::kInvalid, "cannot abort " + id.Hex() + ": created by another client"};
  }
  clients_[client].creating.erase(id);
  Erase(id);
  return Status::OK();
}

Status StoreCore::Get(ClientId client, const ObjectID& id, Placement* where, uint64_t* size) {
  std::vector<ObjectID> evicted;
  Status status;
  {
    std::lock_guard lock(mu_);
    if (closed_) return ClosedError();
    auto it = objects_.find(id);
    if (it == objects_.end() || it->second.deleted || it->second.state == State::kUnsealed) {
      return {StatusCode::kNotFound, "object " + id.Hex() + " is not in the store" +
                                         (it != objects_.end() && !it->second.deleted
                                              ? " (created but not sealed yet)"
                                              : "")};
    }
    Entry& e = it->second;
    *where = {};
    if (e.state == State::kSpilled) {
      status = Restore(id, &e, &evicted);
      // No room to come back (pinned objects hold it or split it): read it
      // where it is. Its file stays while pinned, and a mapping outlives
      // even its removal by a later restore.
      if (status.code() == StatusCode::kStoreFull) {
        status = OpenSpillFile(SpillPath(id), &where->fd);
        if (status.ok()) ++reads_in_place_;
      }
    }
    if (status.ok()) {
      if (e.pins++ == 0) RemoveFromLru(&e);
      where->pins = ++clients_[client].pins[id];
      where->offset = e.offset;
      *size = e.size;
    }
  }
  Notify(evicted);
  return status;
}

Status StoreCore::Release(ClientId client, const ObjectID& id) {
  std::lock_guard lock(mu_);
  if (closed_) return ClosedError();
  auto& pins = clients_[client].pins;
  auto pin = pins.find(id);
  if (pin == pins.end()) {
    return {StatusCode::kInvalid, "cannot release " + id.Hex() + ": not pinned by this client"};
  }
  if (--pin->second == 0) pins.erase(pin);
  Unpin(id, &objects_.at(id), 1);
  return Status::OK();
}

Status StoreCore::Delete(ClientId client, const ObjectID& id) {
  std::lock_guard lock(mu_);
  if (closed_) return ClosedError();
  auto it = objects_.find(id);
  if (it == objects_.end() || it->second.deleted) {
    return {StatusCode::kNotFound, "cannot delete " + id.Hex() + ": no such object"};
  }
  Entry& e = it->second;
  // The owning process keeps the cluster's reference counts: it decides. A
  // socket client may drop only what it made or holds, never another's data.
  if (client != kLocalClientId && e.creator != client && !clients_[client].pins.contains(id)) {
    return {StatusCode::kPermissionDenied,
            "cannot delete " + id.Hex() + ": this client neither created it nor holds a pin on it"};
  }
  if (e.state == State::kUnsealed) {
    return {StatusCode::kInvalid, "cannot delete " + id.Hex() + ": not sealed (its creator may Abort it)"};
  }
  if (e.pins > 0) {
    e.deleted = true;
  } else {
    Erase(id);
  }
  return Status::OK();
}

Status StoreCore::Contains(const ObjectID& id, bool* present) {
  std::lock_guard lock(mu_);
  if (closed_) return ClosedError();
  auto it = objects_.find(id);
  *present = it != objects_.end() && !it->second.deleted && it->second.state != State::kUnsealed;
  return Status::OK();
}

StoreStats StoreCore::Stats() {
  std::lock_guard lock(mu_);
  StoreStats s;
  s.capacity_bytes = allocator_.capacity();
  s.used_bytes = allocator_.used();
  s.num_objects = objects_.size() - num_spilled_;
  s.num_spilled = num_spilled_;
  s.evictions = evictions_;
  s.spills = spills_;
  s.spilled_bytes = spilled_bytes_;
  s.restores = restores_;
  s.reads_in_place = reads_in_place_;
  s.creates_in_file = creates_in_file_;
  s.pinned_bytes = PinnedBytes();
  s.num_clients = clients_.size() - 1;  // minus the local client
  return s;
}

ClientId StoreCore::AddClient() {
  std::lock_guard lock(mu_);
  ClientId id = next_client_++;
  clients_[id];
  return id;
}

void StoreCore::DropClient(ClientId client) {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  for (const auto& [id, count] : it->second.pins) Unpin(id, &objects_.at(id), count);
  for (const ObjectID& id : it->second.creating) Erase(id);
  clients_.erase(it);
}

void StoreCore::SetEvictionListener(std::function<void(const ObjectID&)> listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

void StoreCore::Shutdown() {
  std::lock_guard lock(mu_);
  if (closed_) return;
  closed_ = true;
  for (const auto& [id, e] : objects_) {
    if (e.in_file) RemoveSpillFile(SpillPath(id));
  }
}

Status StoreCore::Allocate(uint64_t size, uint64_t* offset, std::vector<ObjectID>* evicted) {
  if (allocator_.Allocate(size, offset)) return Status::OK();
  const bool can_spill = !spill_dir_.empty();
  // Give up before touching anything when even emptying the LRU cannot help.
  const uint64_t reclaimable = evictable_bytes_ + (can_spill ? spillable_bytes_ : 0);
  if (allocator_.free_bytes() + reclaimable < Allocator::RoundUp(size)) {
    return StoreFullError(size, can_spill ? "" : "; no spill_dir configured");
  }
  while (!allocator_.Allocate(size, offset)) {
    if (!evictable_lru_.empty()) {
      Evict(evictable_lru_.front(), evicted);
    } else if (can_spill && !spillable_lru_.empty()) {
      Status s = Spill(spillable_lru_.front());
      if (!s.ok()) return StoreFullError(size, "; spilling failed: " + s.message());
    } else {
      return StoreFullError(size, "; free space is fragmented by pinned objects");
    }
  }
  return Status::OK();
}

Status StoreCore::StoreFullError(uint64_t size, const std::string& detail) const {
  return {StatusCode::kStoreFull,
          "object store full: cannot allocate " + Bytes(size) + " (capacity " +
              Bytes(allocator_.capacity()) + ", used " + Bytes(allocator_.used()) + ", pinned " +
              Bytes(PinnedBytes()) + ", evictable " + Bytes(evictable_bytes_) + ", spillable " +
              Bytes(spillable_bytes_) + ")" + detail};
}

void StoreCore::Evict(const ObjectID& id, std::vector<ObjectID>* evicted) {
  evicted->push_back(id);  // copy first: `id` may refer into the LRU list
  Erase(evicted->back());
  ++evictions_;
}

Status StoreCore::Spill(const ObjectID& lru_id) {
  const ObjectID id = lru_id;  // `lru_id` refers into the LRU list
  Entry& e = objects_.at(id);
  Status s = WriteSpillFile(SpillPath(id), segment_->base() + e.offset, e.size);
  if (!s.ok()) return s;
  RemoveFromLru(&e);
  allocator_.Free(e.offset, e.size);
  e.state = State::kSpilled;
  e.in_file = true;
  ++num_spilled_;
  ++spills_;
  spilled_bytes_ += e.size;
  return Status::OK();
}

Status StoreCore::Restore(const ObjectID& id, Entry* e, std::vector<ObjectID>* evicted) {
  uint64_t offset;
  Status s = Allocate(e->size, &offset, evicted);
  if (!s.ok()) {
    return {s.code(), "cannot restore spilled object " + id.Hex() + ": " + s.message()};
  }
  const std::string path = SpillPath(id);
  s = ReadSpillFile(path, segment_->base() + offset, e->size);
  if (!s.ok()) {
    allocator_.Free(offset, e->size);
    return s;
  }
  RemoveSpillFile(path);
  e->state = State::kSealed;
  e->in_file = false;
  e->offset = offset;
  --num_spilled_;
  ++restores_;
  return Status::OK();
}

bool StoreCore::Fragmented(const Status& failed, uint64_t size) const {
  return failed.code() == StatusCode::kStoreFull && !spill_dir_.empty() &&
         allocator_.free_bytes() >= Allocator::RoundUp(size);
}

Status StoreCore::CreateInFile(const ObjectID& id, uint64_t size, int* fd) {
  Status s = CreateSpillFile(SpillPath(id), size, fd);
  if (!s.ok()) return {s.code(), "cannot create object " + id.Hex() + " in a file: " + s.message()};
  return s;
}

void StoreCore::Unpin(const ObjectID& id, Entry* e, uint32_t count) {
  e->pins -= count;
  if (e->pins > 0) return;
  if (e->deleted) {
    Erase(id);
  } else if (e->state == State::kSealed) {  // a spilled one stays on disk
    AddToLru(id, e);
  }
}

void StoreCore::Erase(const ObjectID& id) {
  auto it = objects_.find(id);
  Entry& e = it->second;
  if (e.in_file) {
    RemoveSpillFile(SpillPath(id));
    if (e.state == State::kSpilled) --num_spilled_;
  } else {
    RemoveFromLru(&e);
    allocator_.Free(e.offset, e.size);
  }
  objects_.erase(it);
}

void StoreCore::AddToLru(const ObjectID& id, Entry* e) {
  auto& lru = e->reconstructable ? evictable_lru_ : spillable_lru_;
  e->lru = lru.insert(lru.end(), id);
  e->in_lru = true;
  (e->reconstructable ? evictable_bytes_ : spillable_bytes_) += Allocator::RoundUp(e->size);
}

void StoreCore::RemoveFromLru(Entry* e) {
  if (!e->in_lru) return;
  (e->reconstructable ? evictable_lru_ : spillable_lru_).erase(e->lru);
  (e->reconstructable ? evictable_bytes_ : spillable_bytes_) -= Allocator::RoundUp(e->size);
  e->in_lru = false;
}

std::string StoreCore::SpillPath(const ObjectID& id) const {
  return spill_dir_ + "/" + segment_->label() + "-" + id.Hex() + ".spill";
}

uint64_t StoreCore::PinnedBytes() const {
  uint64_t total = 0;
  for (const auto& [id, e] : objects_) {
    if (!e.in_file && (e.pins > 0 || e.state == State::kUnsealed)) {
      total += Allocator::RoundUp(e.size);
    }
  }
  return total;
}

void StoreCore::Notify(const std::vector<ObjectID>& evicted) {
  if (evicted.empty()) return;
  std::function<void(const ObjectID&)> listener;
  {
    std::lock_guard lock(listener_mu_);
    listener = listener_;
  }
  if (!listener) return;
  for (const ObjectID& id : evicted) listener(id);
}

}  // namespace lumen::storage
