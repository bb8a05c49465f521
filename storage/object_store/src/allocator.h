// Allocator: hands out 64-byte-aligned ranges of the segment by offset.
//
// Its bookkeeping lives in the server's private heap, never in the segment, so
// a client that scribbles over shared memory or dies mid-write cannot corrupt
// it. Best fit (smallest free block that fits, lowest offset on ties) with
// eager coalescing keeps fragmentation low for a mix of small and huge objects.
//
// Not thread-safe: the StoreCore's mutex guards it.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <utility>

namespace lumen::storage {

class Allocator {
 public:
  static constexpr uint64_t kAlignment = 64;

  // Manages [0, capacity) rounded down to kAlignment.
  explicit Allocator(uint64_t capacity);

  Allocator(const Allocator&) = delete;
  Allocator& operator=(const Allocator&) = delete;

  // Returns true and sets *offset to a block of RoundUp(size) bytes; false if
  // no free block is large enough (and for any size over the capacity, which
  // RoundUp could wrap around). A size of 0 still takes one unit, so every
  // object has its own offset.
  bool Allocate(uint64_t size, uint64_t* offset);
  // REQUIRES: [offset, offset + RoundUp(size)) came from Allocate and is live.
  void Free(uint64_t offset, uint64_t size);

  // REQUIRES: size <= UINT64_MAX - kAlignment + 1 (true of any size that fits
  // a capacity); larger sizes would wrap around to 0.
  static uint64_t RoundUp(uint64_t size) {
    if (size == 0) return kAlignment;
    return (size + kAlignment - 1) & ~(kAlignment - 1);
  }

  uint64_t capacity() const { return capacity_; }
  uint64_t used() const { return used_; }
  uint64_t free_bytes() const { return capacity_ - used_; }
  uint64_t largest_free_block() const;

 private:
  void Insert(uint64_t offset, uint64_t size);
  void Erase(std::map<uint64_t, uint64_t>::iterator it);

  const uint64_t capacity_;
  uint64_t used_ = 0;
  std::map<uint64_t, uint64_t> by_offset_;           // free block offset -> size
  std::set<std::pair<uint64_t, uint64_t>> by_size_;  // (size, offset) of free blocks
};

}  // namespace lumen::storage
