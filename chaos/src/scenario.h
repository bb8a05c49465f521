// One scenario run: a workload on a fresh embedded cluster, a fault schedule
// drawn from the seed played against it, the invariants checked, and a
// result row. The same (scenario, seed) draws the same schedule, so a
// failing run is replayed with `lumen-chaos --seed S --scenario NAME`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "run_log.h"
#include "schedule.h"

namespace chaos {

struct ScenarioOptions {
  std::string scenario;            // a scenario name (ScenarioNames())
  uint64_t seed = 1;
  int64_t get_timeout_ms = 15000;  // every Get's bound
  int64_t liveness_timeout_ms = 1000;
  int64_t max_run_ms = 30000;      // past this the run stops and fails: no progress
  int scale = 1;
  bool print_schedule = true;      // to stdout, before the run
};

struct ScenarioResult {
  std::string scenario;
  uint64_t seed = 0;
  std::vector<Fault> schedule;
  std::vector<InjectedFault> faults;
  int kills = 0, stops = 0, fills = 0, skipped = 0;
  int driver_kills = 0;
  int node_kills = 0, head_kills = 0;  // a cluster run's; head_kills counts whole-cluster kills too
  int head_stops = 0;                  // a cluster run's stop-head faults (counted in stops too)
  bool on_cluster = false;             // a cluster scenario: the table says so where counts are not known
  // From a driver, head or cluster kill (or a head stop) until the new driver got every
  // flushed object back (the longest, if several).
  int64_t driver_back_ms = -1;
  uint64_t worker_deaths = 0;   // ClusterInfo: seen by CAF + by reaping
  uint64_t tasks_rebuilt = 0;   // ClusterInfo: tasks and Puts re-made from the lineage log
  uint64_t actor_restarts = 0;  // new processes the workload's actors answered from
  uint64_t results_checked = 0;
  std::vector<int64_t> recovery_ms;  // per injected fault; -1: no result after it
  std::string extra;
  int64_t wall_ms = 0;
  std::vector<std::string> failures;      // broken invariants: the verdict is FAIL
  std::vector<std::string> known_bugs;    // failures that show a known bug (known_bugs.h): KNOWN
  std::vector<std::string> notes;
  bool passed() const { return failures.empty(); }
  // "PASS", "KNOWN" (only known bugs showed) or "FAIL".
  std::string Verdict() const { return !failures.empty() ? "FAIL" : !known_bugs.empty() ? "KNOWN" : "PASS"; }
};

// Runs in this process: lumen::Init, the workload, lumen::Shutdown; or, when
// the schedule kills the driver, the workload in a child driver and the
// recovery here (driver_kill.h); or, for a cluster scenario, the workload in
// joined child drivers of a local cluster of daemons (cluster_run.h). lumen
// must not be running when it is called.
ScenarioResult RunScenario(const ScenarioOptions& options);

// The schedule a (scenario, seed) draws, without running it.
std::vector<Fault> ScheduleFor(const std::string& scenario, uint64_t seed);

}  // namespace chaos
