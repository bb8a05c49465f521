// What the node did with its recent tasks, for the dashboard, `lumen list
// tasks` and the timeline: each task's state, where it ran, its attempts,
// times and error. Bounded: past `capacity`, the oldest ended tasks are
// forgotten (their totals by state are kept). Not thread-safe: the node
// manager calls it under its lock.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "head/cluster_state.h"
#include "lumen/internal/core.h"

namespace lumen::internal {

class TaskHistory {
 public:
  explicit TaskHistory(size_t capacity = 10000) : capacity_(capacity) {}

  void Submitted(const TaskID& id, const TaskSpec& spec, bool rebuild, uint64_t now_ms);
  // Ready to run (first time, or again after a failed attempt).
  void Queued(const TaskID& id, int attempt);
  void Started(const TaskID& id, int worker, int64_t pid, uint64_t now_ms);
  void Finished(const TaskID& id, uint64_t now_ms) { End(id, State::kFinished, "", now_ms); }
  void Failed(const TaskID& id, const std::string& error, uint64_t now_ms) { End(id, State::kFailed, error, now_ms); }
  void Cancelled(const TaskID& id, uint64_t now_ms) { End(id, State::kCancelled, "cancelled", now_ms); }

  // Any order (the dashboard sorts).
  std::vector<head::TaskState> Recent() const;
  // Tasks by state since the node started: ended ones counted as they
  // ended, pending and running ones as they are now.
  std::map<std::string, uint64_t> Totals() const;

 private:
  // Compact on the task path; rendered for the dashboard only when asked.
  enum class State : uint8_t { kPending, kRunning, kFinished, kFailed, kCancelled };
  struct Record {
    std::string function, name, error;
    ActorID actor;
    State state = State::kPending;
    bool rebuild = false;
    int attempt = 0;
    int worker = -1;
    int64_t pid = 0;
    uint64_t submit_ms = 0, start_ms = 0, end_ms = 0;
    uint64_t end_seq = 0;  // which end of it ended_order_ names (a rebuilt task ends again)
  };
  static const char* NameOf(State state);
  void End(const TaskID& id, State state, const std::string& error, uint64_t now_ms);
  void Forget();  // drops the oldest ended tasks beyond capacity_

  size_t capacity_;
  std::unordered_map<TaskID, Record> tasks_;
  std::deque<std::pair<TaskID, uint64_t>> ended_order_;  // (task, end_seq), in the order they ended
  uint64_t next_end_seq_ = 1;
  std::map<std::string, uint64_t> ended_;
};

}  // namespace lumen::internal
