// The node's tasks that are ready to run, in the order they should start.
//
// Deeper tasks first: a task submitted from inside a running task (depth 1,
// 2, ...) starts before new top-level work, so workers blocked in Get never
// starve the tasks they wait for (a fan-out of tasks that each Get a subtask
// needs only a few more workers, never one per waiting task). Within a depth,
// tasks are grouped by the resources they ask for (their shape) and keep
// their submission order, so a shape that does not fit right now holds back
// only tasks of the same shape. Tasks of different jobs never share a bucket
// (each job's tasks run on its own workers). Not thread-safe: the node
// manager's mutex guards it.
#pragma once

#include <compare>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lumen/storage/object_id.h"

namespace lumen::internal {

using ResourceShape = std::map<std::string, double>;

// What a bucket's tasks need: workers of one job, and resources of one shape.
struct Demand {
  int job = 0;
  ResourceShape shape;
  auto operator<=>(const Demand&) const = default;
};

class ReadyQueue {
 public:
  void PushBack(const TaskID& id, int depth, const ResourceShape& shape, int job = 0) {
    buckets_[depth][Demand{job, shape}].push_back(id);
    ++size_;
  }
  // For a task handed back (its worker blocked, died or was stolen from):
  // it goes ahead of the tasks of its bucket.
  void PushFront(const TaskID& id, int depth, const ResourceShape& shape, int job = 0) {
    buckets_[depth][Demand{job, shape}].push_front(id);
    ++size_;
  }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  // Visits the buckets in priority order. `visit` pops what it starts from
  // the front of the bucket and returns how many it popped.
  void ForEachBucket(const std::function<size_t(const Demand&, std::deque<TaskID>&)>& visit) {
    for (auto depth = buckets_.begin(); depth != buckets_.end();) {
      for (auto bucket = depth->second.begin(); bucket != depth->second.end();) {
        size_ -= visit(bucket->first, bucket->second);
        bucket = bucket->second.empty() ? depth->second.erase(bucket) : std::next(bucket);
      }
      depth = depth->second.empty() ? buckets_.erase(depth) : std::next(depth);
    }
  }
  // Empties the queue, returning every task in priority order.
  std::vector<TaskID> TakeAll() {
    std::vector<TaskID> all;
    for (auto& [depth, shapes] : buckets_)
      for (auto& [shape, ids] : shapes) all.insert(all.end(), ids.begin(), ids.end());
    buckets_.clear();
    size_ = 0;
    return all;
  }

 private:
  std::map<int, std::map<Demand, std::deque<TaskID>>, std::greater<int>> buckets_;
  size_t size_ = 0;
};

}  // namespace lumen::internal
