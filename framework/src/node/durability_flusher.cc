#include "node/durability_flusher.h"

namespace lumen::internal {

DurabilityFlusher::DurabilityFlusher(Flush flush, Done done)
    : flush_(std::move(flush)), done_(std::move(done)), thread_([this] { Run(); }) {}

DurabilityFlusher::~DurabilityFlusher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void DurabilityFlusher::Request(int client, uint64_t request) {
  {
    std::lock_guard lock(mu_);
    queue_.emplace_back(client, request);
  }
  cv_.notify_one();
}

void DurabilityFlusher::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    // One flush answers every request queued before it began.
    std::deque<std::pair<int, uint64_t>> batch;
    batch.swap(queue_);
    lock.unlock();
    std::string error = flush_();
    for (const auto& [client, request] : batch) done_(client, request, error);
    lock.lock();
  }
}

}  // namespace lumen::internal
