// The node's shared-memory object store.
//
// One unnamed shared-memory segment (a memfd) per node holds every sealed
// object of the node. A StoreServer owns the segment: only it allocates,
// frees, and keeps the index, reference pins and LRU order. Clients in other
// processes receive the segment's descriptor when they connect to the
// server's Unix socket (mode 0600: the server's user only), map it, and talk
// to the server over that socket; they never take a lock inside shared
// memory, so a client killed at any instant cannot wedge the store. Nothing
// of the segment outlives the last process that maps it, even a SIGKILLed
// server. When a client's connection drops, the server releases its pins
// and reclaims the objects it created but never sealed.
//
// Objects are immutable once sealed. An object created as `reconstructable`
// may be evicted (least recently used first) when space is needed, since
// lineage can rebuild it; any other sealed object is spilled to disk instead
// and restored transparently by Get. Only when neither frees enough space does
// Create fail with kStoreFull, and the message names the sizes. When the room
// is there but pinned objects split it, so that no piece holds the object, a
// spilled object is read in place from its file (mapped, not restored) and a
// new one is created in a file: neither fails while the room is there.
//
// Thread safety: every ObjectStore is safe to use from many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "lumen/storage/object_id.h"
#include "lumen/storage/status.h"

namespace lumen::storage {

struct StoreConfig {
  // Names the store in messages, spill files and /proc/PID/maps, e.g.
  // "lumen-<session>". Only a label: the segment has no name in any file
  // system, and goes away with the last process that maps it.
  std::string label;
  std::string socket_path;           // Unix socket the server listens on
  size_t capacity_bytes = 512ull << 20;
  std::string spill_dir;             // where unevictable objects go when full; created if missing
};

struct StoreStats {
  size_t capacity_bytes = 0;
  size_t used_bytes = 0;
  size_t num_objects = 0;            // in memory
  size_t num_spilled = 0;            // on disk now
  uint64_t evictions = 0;            // total since start
  uint64_t spills = 0;
  uint64_t spilled_bytes = 0;        // written to disk by spills, total since start
  uint64_t restores = 0;
  // Pinned objects split the free space, so no piece held the object:
  uint64_t reads_in_place = 0;       // Gets of a spilled object served from its file
  uint64_t creates_in_file = 0;      // Creates whose bytes went to a spill file at once
  size_t pinned_bytes = 0;           // held by Get pins or by unsealed creations
  size_t num_clients = 0;            // socket connections now (LocalClient not counted)
};

// A sealed object pinned for this process: valid until Release.
struct ObjectBuffer {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Allocates `size` bytes for `id` and returns a writable pointer into this
  // process's mapping. The object is invisible to Get until Seal.
  // kAlreadyExists if `id` exists; kObjectTooLarge (naming the size and the
  // capacity) if size > capacity; kStoreFull if no room could be made.
  virtual Status Create(const ObjectID& id, size_t size, bool reconstructable, uint8_t** data) = 0;
  virtual Status Seal(const ObjectID& id) = 0;
  // Frees an object this client created and has not sealed.
  virtual Status Abort(const ObjectID& id) = 0;

  // Pins the sealed object `id` (restoring it from disk if spilled) and
  // returns a read-only view into this process's mapping. kNotFound if it is
  // absent or unsealed (evicted objects are absent: rebuild them from lineage).
  virtual Status Get(const ObjectID& id, ObjectBuffer* out) = 0;
  // Drops one pin taken by Get.
  virtual Status Release(const ObjectID& id) = 0;
  // Deletes `id`; memory is freed once the last pin is released. A client
  // connected over the socket may delete only what it created or pins now
  // (else kPermissionDenied, and nothing changes); the server's LocalClient
  // may delete anything.
  virtual Status Delete(const ObjectID& id) = 0;
  virtual bool Contains(const ObjectID& id) = 0;
  virtual StoreStats Stats() = 0;
  // Cuts a client off its server: a call waiting for an answer, and every
  // later one, fails with kDisconnected. For a server whose process stopped
  // (SIGSTOP), which nothing else would tell before the reply timeout. Any
  // thread; a no-op for the server's LocalClient.
  virtual void Disconnect() {}

  // Convenience: Create, copy `size` bytes, Seal.
  Status Put(const ObjectID& id, const void* bytes, size_t size, bool reconstructable);
};

// Owns the segment and serves clients. Runs its own thread; destroying it
// disconnects clients and removes the socket and spilled files (the segment
// goes with the last mapping).
class StoreServer {
 public:
  // Creates the segment (prefaulted), binds the socket, starts serving.
  static Status Start(const StoreConfig& config, std::unique_ptr<StoreServer>* out);
  virtual ~StoreServer() = default;

  // An ObjectStore for the owning process: same semantics as a client's,
  // served by direct calls instead of the socket.
  virtual std::shared_ptr<ObjectStore> LocalClient() = 0;
  // Called with each object evicted to make room, so the owner can mark it
  // lost and rebuild it from lineage when needed. Runs on the server's thread
  // for socket clients' requests and on the caller's thread for LocalClient
  // calls; never under the store's lock, so it may call the store.
  virtual void SetEvictionListener(std::function<void(const ObjectID&)> listener) = 0;
  virtual const StoreConfig& config() const = 0;
};

// Connects to a server on this node over its socket and maps its segment.
Status ConnectToStore(const std::string& socket_path, std::shared_ptr<ObjectStore>* out);

}  // namespace lumen::storage
