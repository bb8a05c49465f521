// Segment: the shared memory that holds the bytes of every object.
//
// An unnamed memfd, not a file in /dev/shm: the memory goes away with the last
// process that maps it or holds its descriptor, so a driver killed without
// Shutdown leaves nothing behind. The server creates it, seals its size (no
// client can shrink it under the server, which would make the server fault)
// and hands its descriptor to each client over the store's Unix socket
// (SCM_RIGHTS); no one can open it by name.
//
// The server prefaults every page, so that no writer pays for allocating
// shmem pages (~0.4 GB/s) on the data path. Clients only map it: nothing
// inside the segment is ever locked or interpreted, so a process killed at
// any instant leaves nothing behind but bytes. Objects are addressed by
// offset because each process maps the segment at its own address.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "lumen/storage/status.h"

namespace lumen::storage {

class Segment {
 public:
  // Creates a segment of `size` bytes and maps it read-write. `label` names it
  // in /proc/PID/maps ("/memfd:<label> (deleted)") and in messages only. A
  // background thread prefaults it (allocating the pages costs ~1 s per
  // 512 MiB: start-up need not wait for it; a page touched first by a client
  // is simply allocated then).
  static Status Create(const std::string& label, size_t size, std::unique_ptr<Segment>* out);
  // Maps the segment behind `fd` (as received from the server) whole and
  // read-write, and closes `fd` in every case: the mapping keeps the memory.
  // kInvalid unless its size is `expected_size`. Page tables fill lazily (see
  // Populate): a client that touches little of a large segment should not pay
  // for all of it.
  static Status Open(int fd, const std::string& label, size_t expected_size,
                     std::unique_ptr<Segment>* out);

  ~Segment();  // stops prefaulting, unmaps, closes the descriptor
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  // Maps the pages of [p, p + n) into this process in one call. The pages
  // exist already (the server prefaulted them); this only saves a fault per
  // page. Measured on a 100 MiB first write: demand faults 1.3 GB/s,
  // MADV_POPULATE_WRITE first 2.0 GB/s, MADV_POPULATE_READ first 3.6 GB/s
  // (shmem maps shared pages writable on a read fault, with fault-around).
  void Populate(const uint8_t* p, size_t n) const;

  // The descriptor to pass to clients: the creator's only (-1 in a client).
  int fd() const { return fd_; }
  uint8_t* base() const { return base_; }
  size_t size() const { return size_; }
  const std::string& label() const { return label_; }
  bool Contains(const void* p, size_t n) const {
    auto* b = static_cast<const uint8_t*>(p);
    return b >= base_ && n <= size_ && b - base_ <= static_cast<ptrdiff_t>(size_ - n);
  }

 private:
  Segment(std::string label, int fd, uint8_t* base, size_t size);

  void PrefaultInBackground();

  const std::string label_;
  const int fd_;
  uint8_t* const base_;
  const size_t size_;
  std::atomic<bool> stop_prefault_{false};
  std::thread prefaulter_;
};

}  // namespace lumen::storage
