// Answers lumen::Flush for clients that ask over the socket (FlushMsg): one
// thread of its own waits for the disk, so the node's I/O thread never does.
// Requests are served in order, each by one call of `flush` (which returns ""
// once everything acknowledged before it is durable, or why not), and each
// answer goes to `done`. No lock of the node's is held while it runs.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace lumen::internal {

class DurabilityFlusher {
 public:
  using Flush = std::function<std::string()>;
  using Done = std::function<void(int client, uint64_t request, const std::string& error)>;
  DurabilityFlusher(Flush flush, Done done);
  // Serves what was asked before it, then stops (each flush is bounded).
  ~DurabilityFlusher();

  void Request(int client, uint64_t request);

 private:
  void Run();

  Flush flush_;
  Done done_;
  std::mutex mu_;  // guards queue_, stopping_
  std::condition_variable cv_;
  std::deque<std::pair<int, uint64_t>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lumen::internal
