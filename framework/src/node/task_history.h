// What the node did with its recent tasks, for the dashboard, `lumen list
// tasks` and the timeline: each task's state, where it ran, its attempts,
// times and error. Cheap on the task path: a live task's record lives in
// the node's own task entry (no second table), function names are
// interned, and an ended task's record goes into a ring of `capacity`
// slots, overwriting the oldest (totals by state are kept). Not
// thread-safe: the node manager calls it under its lock.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "head/cluster_state.h"
#include "lumen/internal/core.h"

namespace lumen::internal {

class TaskHistory {
 public:
  enum class State : uint8_t { kPending, kRunning, kFinished, kFailed, kCancelled };
  // One task's story; the node keeps it in its entry while the task lives.
  struct Record {
    TaskID id;
    ActorID actor;
    uint32_t function = 0;  // interned (TaskHistory::Name)
    uint32_t name = 0;      // interned; 0: the function's name
    State state = State::kPending;
    bool rebuild = false;
    bool ended = false;
    int attempt = 0;
    int worker = -1;
    int64_t pid = 0;
    uint32_t node = 0;      // interned: the other node it was sent to; 0: this node
    uint64_t submit_ms = 0, start_ms = 0, end_ms = 0;
    std::string error;
  };

  explicit TaskHistory(size_t capacity = 10000) : ring_(capacity) {}

  Record Submitted(const TaskID& id, const TaskSpec& spec, bool rebuild, uint64_t now_ms);
  // Ready to run (first time, or again after a failed attempt).
  static void Queued(Record& r, int attempt);
  // `node`: Interned(the other node's name) for a task sent there, else 0
  // (here). The name stays with the record after that node is gone.
  static void Started(Record& r, int worker, int64_t pid, uint64_t now_ms, uint32_t node = 0);
  // The index a name is kept at (interned once: a node's name costs one copy).
  uint32_t Interned(const std::string& name) { return Intern(name); }
  // The task ended: its record moves into the ring. Once per record.
  void Ended(Record& r, State state, const std::string& error, uint64_t now_ms);

  // The ended tasks in the ring and the live ones given, rendered.
  std::vector<head::TaskState> Render(const std::vector<const Record*>& live) const;
  // Tasks by state since the node started: ended ones counted as they
  // ended, the live ones given as they are now.
  std::map<std::string, uint64_t> Totals(const std::vector<const Record*>& live) const;

  static const char* NameOf(State state);

 private:
  uint32_t Intern(const std::string& name);
  head::TaskState RenderOne(const Record& r) const;

  std::vector<Record> ring_;
  size_t next_ = 0;    // the slot the next ended task takes
  size_t filled_ = 0;  // slots in use
  std::array<uint64_t, 5> ended_{};  // by State
  std::unordered_map<std::string, uint32_t> interned_;
  std::vector<std::string> names_{""};  // by interned index; 0 is ""
};

}  // namespace lumen::internal
