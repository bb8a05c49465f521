// FileViews: the objects a process reaches through a spill file's mapping
// instead of the segment (StoreCore's Placement::fd).
//
// A view stays mapped while this process holds any pin of its object,
// whichever way each pin's bytes came: a restore may bring the object back
// into the segment while an earlier reader still reads the file. So a view
// starts with every pin the server counts for this process (Placement::pins)
// and follows each later Get and Release of the object. A creator's writable
// view ends at Seal or Abort, as a creator's right to write does.
//
// Not thread-safe, and more: each call must be made in one critical section
// with the store call it follows (its owner's request mutex), so that the
// views see this process's pins in the server's order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "lumen/storage/object_id.h"
#include "lumen/storage/status.h"

namespace lumen::storage {

class FileViews {
 public:
  FileViews() = default;
  FileViews(const FileViews&) = delete;
  FileViews& operator=(const FileViews&) = delete;
  ~FileViews();  // unmaps what is left

  // Maps `size` bytes of the file behind `fd` (closed in every case): for a
  // Get after which this process holds `pins` pins of `id`, or for its
  // creator when `writable`. A view of `id` already mapped is shared.
  Status Map(const ObjectID& id, int fd, size_t size, bool writable, uint32_t pins, uint8_t** data);
  // A Get of `id` whose bytes came from the segment.
  void Pinned(const ObjectID& id) {
    if (!views_.empty()) Count(id, +1);
  }
  // A pin of `id` released.
  void Released(const ObjectID& id) {
    if (!views_.empty()) Count(id, -1);
  }
  // The creator of `id` sealed or aborted it.
  void CreationEnded(const ObjectID& id);

 private:
  struct View {
    uint8_t* data = nullptr;
    size_t length = 0;  // mapped bytes (at least 1)
    uint32_t pins = 0;
    bool creating = false;
  };
  using Views = std::unordered_map<ObjectID, View>;
  void Count(const ObjectID& id, int delta);
  // Unmaps `it` once nothing holds it.
  void MaybeUnmap(Views::iterator it);

  Views views_;
};

}  // namespace lumen::storage
