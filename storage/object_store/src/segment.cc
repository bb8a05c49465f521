#include "segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace lumen::storage {

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

Status SysError(const std::string& what, int err) {
  return {StatusCode::kIOError, what + ": " + std::strerror(err)};
}

}  // namespace

Segment::Segment(std::string label, int fd, uint8_t* base, size_t size)
    : label_(std::move(label)), fd_(fd), base_(base), size_(size) {}

Segment::~Segment() {
  stop_prefault_ = true;
  if (prefaulter_.joinable()) prefaulter_.join();
  munmap(base_, size_);
  if (fd_ >= 0) close(fd_);
}

void Segment::PrefaultInBackground() {
  prefaulter_ = std::thread([this] {
    constexpr size_t kChunk = size_t{16} << 20;  // small enough to stop promptly
    for (size_t off = 0; off < size_ && !stop_prefault_; off += kChunk)
      Prefault(base_ + off, std::min(kChunk, size_ - off));
  });
}

Status Segment::Create(const std::string& label, size_t size, std::unique_ptr<Segment>* out) {
  const std::string what = "cannot create the shared-memory segment '" + label + "' of " +
                           std::to_string(size) + " bytes";
  int fd = memfd_create(label.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return SysError(what + ": memfd_create", errno);
  // The size is fixed for good: a client that could shrink the segment would
  // make the server's next touch of the lost pages a SIGBUS.
  if (ftruncate(fd, static_cast<off_t>(size)) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    const int err = errno;
    close(fd);
    return SysError(what, err);
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    const int err = errno;
    close(fd);
    return SysError(what + ": mmap", err);
  }
  out->reset(new Segment(label, fd, static_cast<uint8_t*>(base), size));
  (*out)->PrefaultInBackground();
  return Status::OK();
}

Status Segment::Open(int fd, const std::string& label, size_t expected_size,
                     std::unique_ptr<Segment>* out) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return SysError("cannot map the shared-memory segment '" + label + "'", err);
  }
  if (static_cast<uint64_t>(st.st_size) != expected_size || expected_size == 0) {
    close(fd);
    return {StatusCode::kInvalid, "segment '" + label + "' has " + std::to_string(st.st_size) +
                                      " bytes, the server announced " + std::to_string(expected_size)};
  }
  void* base = mmap(nullptr, expected_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int err = errno;
  close(fd);  // the mapping keeps the memory alive
  if (base == MAP_FAILED) return SysError("cannot map the shared-memory segment '" + label + "'", err);
  out->reset(new Segment(label, -1, static_cast<uint8_t*>(base), expected_size));
  return Status::OK();
}

void Segment::Populate(const uint8_t* p, size_t n) const {
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + n;
  // Best effort: on kernels without it, the first touch faults the pages in.
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ);
}

}  // namespace lumen::storage
