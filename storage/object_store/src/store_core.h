// StoreCore: the server's state — index, allocator, pins, LRU order, spilling.
//
// Every entry point locks one mutex, so the socket server's thread and any
// number of LocalClient callers can share a core. Callers are identified by a
// ClientId; pins and unsealed creations are recorded per client so that a
// dead client's share can be undone in one DropClient call.
//
// Life of an object: Create (unsealed, owned by its creator, invisible) ->
// Seal (sealed, visible, in LRU while unpinned) -> [Spill <-> Restore] ->
// Delete or Evict. A pinned object never moves: its bytes stay at its offset
// until its last pin is released.
//
// An object's bytes may live in its spill file instead, mapped by each caller
// in place of the segment (Placement::fd): a Get of a spilled object that
// finds no room to come back (pinned objects hold it, or split it so that no
// piece is large enough) reads the file where it is; a Create that finds the
// room there but split writes its bytes to a file ("spilled at birth"). Only
// a Create for which the free space is truly too small fails kStoreFull.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "allocator.h"
#include "lumen/storage/object_id.h"
#include "lumen/storage/object_store.h"
#include "lumen/storage/status.h"
#include "segment.h"

namespace lumen::storage {

using ClientId = uint64_t;
// The owning process's LocalClients share this id; it is never dropped.
inline constexpr ClientId kLocalClientId = 0;

// Where a caller finds an object's bytes: at `offset` in the segment, or,
// when `fd` >= 0, in the file behind `fd` from its first byte (read-only for
// Get, writable for Create). The caller owns `fd` and must close it.
struct Placement {
  uint64_t offset = 0;
  int fd = -1;
  uint32_t pins = 0;  // Get: the caller's pins of the object now, this one included
};

class StoreCore {
 public:
  StoreCore(std::unique_ptr<Segment> segment, std::string spill_dir);
  StoreCore(const StoreCore&) = delete;
  StoreCore& operator=(const StoreCore&) = delete;

  // The ObjectStore operations, on behalf of `client`. Offsets are relative
  // to the segment's base.
  Status Create(ClientId client, const ObjectID& id, uint64_t size, bool reconstructable,
                Placement* where);
  Status Seal(ClientId client, const ObjectID& id);
  Status Abort(ClientId client, const ObjectID& id);
  Status Get(ClientId client, const ObjectID& id, Placement* where, uint64_t* size);
  Status Release(ClientId client, const ObjectID& id);
  // kPermissionDenied unless `client` is kLocalClientId, created `id` or pins it.
  Status Delete(ClientId client, const ObjectID& id);
  Status Contains(const ObjectID& id, bool* present);
  StoreStats Stats();

  ClientId AddClient();
  // The client is gone: releases all its pins and frees its unsealed objects.
  void DropClient(ClientId client);

  void SetEvictionListener(std::function<void(const ObjectID&)> listener);
  // Fails every later call with kDisconnected and removes the spill files.
  // The segment stays mapped until the core is destroyed, so pointers held by
  // LocalClient users stay readable.
  void Shutdown();

  const Segment& segment() const { return *segment_; }

 private:
  enum class State { kUnsealed, kSealed, kSpilled };
  struct Entry {
    State state = State::kUnsealed;
    uint64_t offset = 0;  // valid unless in_file
    uint64_t size = 0;
    bool in_file = false;  // the bytes are in the spill file: spilled, or created there
    bool reconstructable = false;
    bool deleted = false;  // Delete while pinned: freed by the last Release
    ClientId creator = 0;
    uint32_t pins = 0;
    bool in_lru = false;
    std::list<ObjectID>::iterator lru;
  };
  struct Client {
    std::unordered_map<ObjectID, uint32_t> pins;
    std::unordered_set<ObjectID> creating;
  };

  Status ClosedError() const;
  // Allocates `size` bytes, evicting then spilling unpinned objects as needed.
  // Appends evicted ids to *evicted.
  Status Allocate(uint64_t size, uint64_t* offset, std::vector<ObjectID>* evicted);
  Status StoreFullError(uint64_t size, const std::string& detail) const;
  void Evict(const ObjectID& id, std::vector<ObjectID>* evicted);
  Status Spill(const ObjectID& id);
  Status Restore(const ObjectID& id, Entry* entry, std::vector<ObjectID>* evicted);
  // After `failed` (an Allocate of `size`): true if it failed only because
  // pinned objects split free space that would hold the object.
  bool Fragmented(const Status& failed, uint64_t size) const;
  // A new object's bytes in its spill file, sized, open read-write in *fd.
  Status CreateInFile(const ObjectID& id, uint64_t size, int* fd);
  void Unpin(const ObjectID& id, Entry* entry, uint32_t count);
  // Frees an in-memory entry's bytes and forgets it.
  void Erase(const ObjectID& id);
  void AddToLru(const ObjectID& id, Entry* entry);
  void RemoveFromLru(Entry* entry);
  std::string SpillPath(const ObjectID& id) const;
  uint64_t PinnedBytes() const;
  void Notify(const std::vector<ObjectID>& evicted);

  const std::unique_ptr<Segment> segment_;
  const std::string spill_dir_;

  std::mutex mu_;
  bool closed_ = false;
  Allocator allocator_;
  std::unordered_map<ObjectID, Entry> objects_;
  std::unordered_map<ClientId, Client> clients_;
  ClientId next_client_ = kLocalClientId + 1;
  // Unpinned sealed in-memory objects, least recently used first; split by
  // what making room does to them.
  std::list<ObjectID> evictable_lru_;  // reconstructable: dropped
  std::list<ObjectID> spillable_lru_;  // not reconstructable: written to disk
  uint64_t evictable_bytes_ = 0;
  uint64_t spillable_bytes_ = 0;
  size_t num_spilled_ = 0;
  uint64_t evictions_ = 0, spills_ = 0, restores_ = 0, spilled_bytes_ = 0;
  uint64_t reads_in_place_ = 0, creates_in_file_ = 0;

  std::mutex listener_mu_;  // never held with mu_
  std::function<void(const ObjectID&)> listener_;
};

}  // namespace lumen::storage
