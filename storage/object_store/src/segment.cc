#include "segment.h"

#include <sys/mman.h>
#include <unistd.h>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>

namespace lumen::storage {

namespace bip = boost::interprocess;

namespace {

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

// MADV_POPULATE_WRITE (Linux 5.14+) allocates every page of the fresh segment
// in one call; older kernels get a write per page, which costs the same faults.
void Prefault(uint8_t* base, size_t size) {
  if (madvise(base, size, MADV_POPULATE_WRITE) == 0) return;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  for (size_t i = 0; i < size; i += page) {
    volatile uint8_t* p = base + i;
    *p = *p;
  }
}

}  // namespace

Segment::Segment(std::string name, std::unique_ptr<bip::mapped_region> region)
    : name_(std::move(name)),
      region_(std::move(region)),
      base_(static_cast<uint8_t*>(region_->get_address())),
      size_(region_->get_size()) {}

Segment::~Segment() {
  stop_prefault_ = true;
  if (prefaulter_.joinable()) prefaulter_.join();
}

void Segment::PrefaultInBackground() {
  prefaulter_ = std::thread([this] {
    constexpr size_t kChunk = size_t{16} << 20;  // small enough to stop promptly
    for (size_t off = 0; off < size_ && !stop_prefault_; off += kChunk)
      Prefault(base_ + off, std::min(kChunk, size_ - off));
  });
}

Status Segment::Create(const std::string& name, size_t size, std::unique_ptr<Segment>* out) {
  try {
    bip::shared_memory_object shm(bip::create_only, name.c_str(), bip::read_write);
    try {
      shm.truncate(static_cast<bip::offset_t>(size));
      auto region = std::make_unique<bip::mapped_region>(shm, bip::read_write);
      out->reset(new Segment(name, std::move(region)));
    } catch (const bip::interprocess_exception&) {
      bip::shared_memory_object::remove(name.c_str());
      throw;
    }
  } catch (const bip::interprocess_exception& e) {
    if (e.get_error_code() == bip::already_exists_error) {
      return {StatusCode::kAlreadyExists,
              "shared-memory segment '" + name + "' already exists (another store, or left by a "
              "crashed one: remove /dev/shm/" + name + ")"};
    }
    return {StatusCode::kIOError, "cannot create shared-memory segment '" + name + "' of " +
                                      std::to_string(size) + " bytes: " + e.what()};
  }
  (*out)->PrefaultInBackground();
  return Status::OK();
}

Status Segment::Open(const std::string& name, size_t expected_size, std::unique_ptr<Segment>* out) {
  try {
    bip::shared_memory_object shm(bip::open_only, name.c_str(), bip::read_write);
    bip::offset_t actual = 0;
    if (!shm.get_size(actual) || static_cast<size_t>(actual) != expected_size) {
      return {StatusCode::kInvalid, "segment '" + name + "' has " + std::to_string(actual) +
                                        " bytes, the server announced " +
                                        std::to_string(expected_size)};
    }
    auto region = std::make_unique<bip::mapped_region>(shm, bip::read_write);
    out->reset(new Segment(name, std::move(region)));
  } catch (const bip::interprocess_exception& e) {
    return {StatusCode::kIOError, "cannot map shared-memory segment '" + name + "': " + e.what()};
  }
  return Status::OK();
}

void Segment::Populate(const uint8_t* p, size_t n) const {
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + n;
  // Best effort: on kernels without it, the first touch faults the pages in.
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ);
}

void Segment::Unlink(const std::string& name) { bip::shared_memory_object::remove(name.c_str()); }

}  // namespace lumen::storage
