#include "allocator.h"

#include <cassert>
#include <iterator>

namespace lumen::storage {

Allocator::Allocator(uint64_t capacity) : capacity_(capacity & ~(kAlignment - 1)) {
  if (capacity_ > 0) Insert(0, capacity_);
}

bool Allocator::Allocate(uint64_t size, uint64_t* offset) {
  if (size > capacity_) return false;
  const uint64_t need = RoundUp(size);
  auto fit = by_size_.lower_bound({need, 0});
  if (fit == by_size_.end()) return false;
  const auto [block_size, block_offset] = *fit;
  Erase(by_offset_.find(block_offset));
  if (block_size > need) Insert(block_offset + need, block_size - need);
  used_ += need;
  *offset = block_offset;
  return true;
}

void Allocator::Free(uint64_t offset, uint64_t size) {
  uint64_t start = offset;
  uint64_t length = RoundUp(size);
  assert(start + length <= capacity_);
  used_ -= length;
  auto next = by_offset_.lower_bound(start);
  if (next != by_offset_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      length += prev->second;
      Erase(prev);
    }
  }
  if (next != by_offset_.end() && start + length == next->first) {
    length += next->second;
    Erase(next);
  }
  Insert(start, length);
}

uint64_t Allocator::largest_free_block() const {
  return by_size_.empty() ? 0 : by_size_.rbegin()->first;
}

void Allocator::Insert(uint64_t offset, uint64_t size) {
  by_offset_.emplace(offset, size);
  by_size_.emplace(size, offset);
}

void Allocator::Erase(std::map<uint64_t, uint64_t>::iterator it) {
  by_size_.erase({it->second, it->first});
  by_offset_.erase(it);
}

}  // namespace lumen::storage
