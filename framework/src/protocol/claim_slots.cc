#include "protocol/claim_slots.h"

#include <sys/mman.h>
#include <unistd.h>

namespace lumen::internal {
namespace {
enum : uint64_t { kOffered = 0, kClaimed = 1, kStolen = 2 };
constexpr size_t kBytes = ClaimSlots::kSlots * sizeof(std::atomic<uint64_t>);
static_assert(std::atomic<uint64_t>::is_always_lock_free, "slots are shared between processes");

std::atomic<uint64_t>* Map(int fd) {
  void* p = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  return p == MAP_FAILED ? nullptr : static_cast<std::atomic<uint64_t>*>(p);
}
}  // namespace

std::unique_ptr<ClaimSlots> ClaimSlots::Create() {
  int fd = ::memfd_create("lumen-claims", MFD_CLOEXEC);
  if (fd < 0 || ::ftruncate(fd, kBytes) != 0) {
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  std::atomic<uint64_t>* slots = Map(fd);
  if (!slots) {
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<ClaimSlots>(new ClaimSlots(fd, slots));
}

std::unique_ptr<ClaimSlots> ClaimSlots::Open(int fd) {
  std::atomic<uint64_t>* slots = Map(fd);
  ::close(fd);
  if (!slots) return nullptr;
  return std::unique_ptr<ClaimSlots>(new ClaimSlots(-1, slots));
}

ClaimSlots::~ClaimSlots() {
  CloseFd();
  ::munmap(slots_, kBytes);
}

void ClaimSlots::CloseFd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void ClaimSlots::Offer(uint64_t seq) { Slot(seq).store(seq * 4 + kOffered, std::memory_order_release); }

bool ClaimSlots::Steal(uint64_t seq) {
  uint64_t expected = seq * 4 + kOffered;
  return Slot(seq).compare_exchange_strong(expected, seq * 4 + kStolen, std::memory_order_acq_rel);
}

bool ClaimSlots::Claim(uint64_t seq) {
  uint64_t expected = seq * 4 + kOffered;
  return Slot(seq).compare_exchange_strong(expected, seq * 4 + kClaimed, std::memory_order_acq_rel);
}

}  // namespace lumen::internal
