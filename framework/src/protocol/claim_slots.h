// Which of the tasks sent ahead to a worker it has started.
//
// The node pipelines small tasks to a busy worker so it never waits for the
// next one; if that worker then runs a slow task (or is stopped), the tasks
// behind it must not wait while another worker idles. The node and the worker
// share one small page (a memfd the worker inherits). Each task sent gets a
// slot, by its sequence number; the worker claims a task before running it
// and the node may steal one the worker has not claimed. Both sides use one
// compare-and-swap, so a task runs at most once, and a process killed at any
// point wedges nothing (there are no locks).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace lumen::internal {

class ClaimSlots {
 public:
  // More than the tasks a worker may have in flight, so a slot is reused only
  // once its earlier task finished or was stolen.
  static constexpr uint64_t kSlots = 64;

  // Node side: a fresh shared page; fd() is what the worker inherits.
  static std::unique_ptr<ClaimSlots> Create();
  // Worker side: maps the page behind `fd` (and closes it); null on failure.
  static std::unique_ptr<ClaimSlots> Open(int fd);
  ~ClaimSlots();
  ClaimSlots(const ClaimSlots&) = delete;
  ClaimSlots& operator=(const ClaimSlots&) = delete;

  int fd() const { return fd_; }
  void CloseFd();  // node side, once the worker has been forked

  // Node: task `seq` (1, 2, ...) is on its way to the worker.
  void Offer(uint64_t seq);
  // Node: true if the worker had not claimed `seq`, which it now never will.
  bool Steal(uint64_t seq);
  // Worker: true if `seq` is still this worker's to run.
  bool Claim(uint64_t seq);

 private:
  ClaimSlots(int fd, std::atomic<uint64_t>* slots) : fd_(fd), slots_(slots) {}
  std::atomic<uint64_t>& Slot(uint64_t seq) { return slots_[seq % kSlots]; }

  int fd_;
  std::atomic<uint64_t>* slots_;  // seq * 4 + state
};

}  // namespace lumen::internal
