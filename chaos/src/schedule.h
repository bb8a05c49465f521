// A fault schedule: which faults to inject, when, and at what, drawn from one
// seed so that a failing run replays exactly (`lumen-chaos --seed S
// --scenario NAME`). A fault names its target by a number in [0, 1) rather
// than a pid: pids differ from run to run, so the injector resolves the
// number against the processes that exist at that moment (the k-th of the
// sorted candidates), which is the same choice whenever the run is the same.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chaos {

enum class FaultKind {
  kKillWorker,   // SIGKILL a random worker process (task worker or actor)
  kKillActor,    // SIGKILL the process of one of the workload's actors
  kStopWorker,   // SIGSTOP a worker: the runtime must declare it dead by its liveness bound
  kFillStore,    // a big Put that fills most of the object store, held a while
  kKillDriver,   // SIGKILL the driver; a new one reopens storage_dir (driver_kill.h)
  // Only on a cluster of daemons (cluster_run.h):
  kKillNode,     // SIGKILL a node daemon; its workers go with it; a new node replaces it
  kKillHead,     // SIGKILL the head; restarted on its storage dir; a new driver joins
  kKillCluster,  // SIGKILL the head and every node; all restarted, from the log
  kStopNode,     // SIGSTOP a node daemon: declared dead by its liveness bound, then resumed: it registers again
  kStopHead,     // SIGSTOP the head: its nodes and driver notice by their liveness bound; resumed, it serves again
};

// "kill-worker", "kill-actor", ... as printed in schedules and tables.
std::string FaultKindName(FaultKind kind);

struct Fault {
  int64_t at_ms = 0;     // after the workload started
  FaultKind kind = FaultKind::kKillWorker;
  double target = 0;     // in [0, 1): which candidate, see above
  int64_t hold_ms = 0;   // kFillStore: how long the filler stays referenced; kStopHead: stopped that much longer
};

struct ScheduleOptions {
  std::vector<FaultKind> kinds;  // what the scenario may inject; drawn uniformly
  int min_faults = 2;
  int max_faults = 4;
  int64_t first_ms = 200;   // no fault before this: let the workload get going
  int64_t window_ms = 3000; // every fault lands in [first_ms, first_ms + window_ms)
};

// Faults in time order. The same seed and options always give the same schedule.
std::vector<Fault> MakeSchedule(uint64_t seed, const ScheduleOptions& options);

// One line a fault, e.g. "  +812 ms  kill-worker  target 0.31".
std::string DescribeSchedule(const std::vector<Fault>& schedule);

}  // namespace chaos
