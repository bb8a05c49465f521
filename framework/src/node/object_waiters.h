// The clients' Get and Wait requests that wait for objects to complete.
//
// A request names objects and how many of them must complete before it is
// answered (every one for a Get, num_objects for a Wait), and a deadline.
// The node hands each request here: one already satisfied comes straight
// back; the others are filed until enough of their objects complete (ready
// or failed: either ends a wait) or their deadline passes. The node says
// "object X completed" and "it is now T" and gets back the requests now due,
// each exactly once, and builds and sends the replies itself: this class
// knows objects only by id and clients only by number.
//
// A filed request keeps its key in the list of every object it waits for.
// Answering or dropping it leaves those keys (and its deadline) behind; they
// are skipped when their object completes or their deadline passes, which
// is cheaper than removing them from every list and bounded by the requests
// made.
//
// Not thread-safe: NodeManager's mu_ guards every field, and every function
// REQUIRES it but NextDeadline, which the I/O loop reads without the lock
// to bound its epoll_wait.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lumen/storage/object_id.h"

namespace lumen::internal {

struct ObjectRequest {
  using Clock = std::chrono::steady_clock;
  int client = 0;            // who asked: the node's number for that client
  uint64_t id = 0;           // the client's own id for the request, echoed in the reply
  bool is_wait = false;      // a Wait (answered with which are ready) or a Get (with the values)
  std::vector<ObjectID> ids; // in the client's order; an id may repeat, and counts each time
  int num_objects = 0;       // a Wait's completions needed
  Clock::time_point deadline = Clock::time_point::max();  // max(): none
};

class ObjectWaiters {
 public:
  using Clock = ObjectRequest::Clock;

  // Files `request` until enough of its objects complete, unless enough are
  // complete already: then it comes back, to be answered now as satisfied.
  // `is_pending(id)` says whether object `id` is still to complete; it is
  // asked again for each id while filing, and must not change its answer.
  template <class IsPending>
  std::optional<ObjectRequest> Add(ObjectRequest request, IsPending&& is_pending) {
    int complete = 0;
    for (const ObjectID& id : request.ids) complete += !is_pending(id);
    int needed = request.is_wait ? request.num_objects : static_cast<int>(request.ids.size());
    if (needed - complete <= 0) return request;
    auto [key, filed] = File(std::move(request), needed - complete);
    for (const ObjectID& id : filed.ids)
      if (is_pending(id)) waiting_[id].push_back(key);
    return std::nullopt;
  }

  // Object `id` completed (ready or failed): the requests that now have
  // all they wait for, forgotten here, in the order they were filed.
  std::vector<ObjectRequest> Completed(const ObjectID& id);

  // The requests whose deadline is at or before `now`, forgotten here, in
  // deadline order: answer them as timed out (none of them is satisfied).
  std::vector<ObjectRequest> Expired(Clock::time_point now);

  // Forgets the requests of a client that is gone: none is answered.
  void DropClient(int client);

  // The soonest deadline filed (max() if none). It may belong to a request
  // answered since: the I/O loop then only wakes early. Needs no lock.
  Clock::time_point NextDeadline() const { return next_deadline_.load(); }

  size_t size() const { return requests_.size(); }  // requests filed, not answered

 private:
  struct Filed {
    ObjectRequest request;
    int remaining = 0;  // completions still needed
  };
  // Stores `request` under a new key; returns the key and the stored request.
  std::pair<uint64_t, const ObjectRequest&> File(ObjectRequest request, int remaining);

  std::unordered_map<uint64_t, Filed> requests_;                 // by key
  std::unordered_map<ObjectID, std::vector<uint64_t>> waiting_;  // pending object -> keys, one per mention
  std::multimap<Clock::time_point, uint64_t> deadlines_;         // soonest first
  std::atomic<Clock::time_point> next_deadline_{Clock::time_point::max()};
  uint64_t next_key_ = 1;
};

}  // namespace lumen::internal
