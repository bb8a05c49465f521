// What one scenario run observed, written by the workload (results checked,
// wrong results, timeouts) and by the fault injector (faults injected) from
// their own threads. The report and the verdict are computed from it alone.
//
// A driver that is to be killed (driver_kill.h) mirrors its log as it goes:
// every event becomes one line ("result 100", "fail +812 ms: ...") on a pipe
// to the harness, whose log replays it. What the driver saw so outlives it,
// and a "flushed" line is only written once lumen::Flush() returned.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "schedule.h"

namespace chaos {

using Clock = std::chrono::steady_clock;

struct InjectedFault {
  Fault planned;
  int64_t at_ms = 0;    // when it was injected, after the workload started
  pid_t pid = 0;        // the process signalled, if any
  bool skipped = false; // nothing to inject into, or not supported yet
  std::string note;     // what happened, for the log
};

// An object the workload was acknowledged and saw flushed: after a driver
// kill it must be gettable by `id` with the value `expect` stands for (the
// workload's own key: a Put's number, a tree's exact sum).
struct FlushedObject {
  std::string id;
  uint64_t expect = 0;
};

class RunLog {
 public:
  explicit RunLog(Clock::time_point start) : start_(start) {}
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  int64_t NowMs() const;
  // Its clock's origin: a child driver's log started with the same one
  // stamps events on the same clock.
  Clock::time_point start() const { return start_; }

  // A result was checked and found exact: the clock for "time to recover".
  void ResultChecked(uint64_t how_many = 1);
  // A broken invariant: a wrong result, a Get past its bound, an error the
  // workload should never see. Any failure makes the verdict FAIL.
  void Fail(const std::string& what);
  // A failure caused by an error a lumen call threw (WorkloadError): a
  // failure like any other, but mirrored as its own kind, so that the
  // harness can tell a joined driver's waits failing once it killed the
  // head (expected) from a wrong value or a hang (never).
  void Threw(const std::string& what);
  // Worth reporting, allowed by what lumen promises (at-least-once duplicates).
  void Note(const std::string& what);
  void Injected(InjectedFault fault);
  // An actor (by the workload's name for it) answered from process `pid`.
  void ActorSeenIn(const std::string& actor, pid_t pid);
  // Call only after lumen::Flush() returned for it.
  void Flushed(const std::string& id, uint64_t expect);
  // The cluster's counters since the workload started, as last seen.
  void Counters(uint64_t worker_deaths, uint64_t tasks_rebuilt);
  // Schedule entry `index` was just injected: mirrored at once (Injected
  // comes at the end of the run, which a killed driver never reaches).
  void Announce(size_t index, const InjectedFault& fault);

  // Every event from now on is also handed to `mirror` as one line. Lines
  // keep the order of the events (the mirror runs under the log's lock).
  void MirrorTo(std::function<void(const std::string& line)> mirror);
  // Applies a line mirrored by another log whose clock started with this
  // one's; its faults index into `schedule`. False for a line that is no event.
  bool Replay(const std::string& line, const std::vector<Fault>& schedule);

  bool Failed() const;
  std::vector<std::string> Failures() const;
  std::vector<std::string> Notes() const;
  std::vector<InjectedFault> Faults() const;
  uint64_t ResultsChecked() const;
  // Restarts seen: for each actor, the processes it answered from, minus one.
  uint64_t ActorRestartsSeen() const;
  // Pids the workload's actors answered from last (the live incarnations).
  std::vector<pid_t> LatestActorPids() const;
  // For each injected fault, ms from it to the next checked result; -1 when
  // no result came after it.
  std::vector<int64_t> RecoveryMs() const;
  std::vector<FlushedObject> FlushedObjects() const;
  uint64_t WorkerDeaths() const;
  uint64_t TasksRebuilt() const;

 private:
  void ResultCheckedAt(int64_t ms, uint64_t how_many);
  void FailAs(const std::string& kind, const std::string& what);
  void Mirror(const std::string& kind, const std::string& text);  // with mu_ held

  const Clock::time_point start_;
  mutable std::mutex mu_;
  // State below is guarded by mu_.
  std::vector<int64_t> completions_ms_;  // ascending: appended as time goes
  uint64_t results_checked_ = 0;
  std::vector<std::string> failures_;
  std::vector<std::string> notes_;
  std::vector<InjectedFault> faults_;
  std::map<std::string, std::set<pid_t>> actor_pids_;
  std::map<std::string, pid_t> latest_actor_pid_;
  std::vector<FlushedObject> flushed_;
  uint64_t worker_deaths_ = 0, tasks_rebuilt_ = 0;
  std::function<void(const std::string&)> mirror_;
};

}  // namespace chaos
