// Another node's store figures for the dashboard, asked of its store server
// on a thread of their own. A stopped node's server never answers (its
// client waits up to a minute before it gives up), and neither the head's
// lock nor the page may wait on it: Get waits a bounded time, else returns
// the figures last known; while a question is still out, none is repeated.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "lumen/storage/object_store.h"

namespace lumen::internal {

class StoreStatsProbe {
 public:
  explicit StoreStatsProbe(std::shared_ptr<storage::ObjectStore> store)
      : store_(std::move(store)), state_(std::make_shared<State>()) {}

  storage::StoreStats Get(std::chrono::milliseconds bound) {
    std::unique_lock lock(state_->mu);
    if (state_->asking) return state_->last;  // the last question is still out: its server is stuck
    state_->asking = true;
    uint64_t answers = state_->answers;
    // Detached: it holds only what it shares, and ends when the server answers or its client gives up.
    std::thread([state = state_, store = store_] {
      storage::StoreStats stats = store->Stats();
      std::lock_guard done(state->mu);
      state->last = stats;
      state->asking = false;
      ++state->answers;
      state->cv.notify_all();
    }).detach();
    state_->cv.wait_for(lock, bound, [&] { return state_->answers != answers; });
    return state_->last;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool asking = false;
    uint64_t answers = 0;
    storage::StoreStats last;
  };
  std::shared_ptr<storage::ObjectStore> store_;
  std::shared_ptr<State> state_;
};

}  // namespace lumen::internal
