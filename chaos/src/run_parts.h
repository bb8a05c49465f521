// The steps a scenario run is made of, shared by the run in this process
// (scenario.cc) and the run whose driver is killed (driver_kill.cc): the
// cluster's config, the rounds, the cluster's counters, stopping the
// cluster with the leftover checks, and the result row made from the log.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "faults.h"
#include "lumen/api.h"
#include "run_log.h"
#include "scenario.h"
#include "workload.h"

namespace chaos {

WorkloadSettings SettingsOf(const ScenarioOptions& options);
lumen::Config ClusterConfig(const ScenarioOptions& options, const Workload& workload);

// Worker deaths and tasks rebuilt, as ClusterInfo counts them.
struct ClusterCounters {
  uint64_t deaths = 0, rebuilt = 0;
  static ClusterCounters Now();
};

// Runs `step`; what it throws goes to the log: a WorkloadError or a
// lumen::Error (then said to be thrown while `doing`) by RunLog::Threw, any
// other WorkloadFailure by RunLog::Fail.
void Guarded(RunLog& log, const std::string& doing, const std::function<void()>& step);

// Runs rounds until one started after `drained()` said the faults are over
// has finished (or, with `until_killed`, until the harness kills this
// driver), or something failed, or the run took too long. After each round
// the counters since `since` go to the log.
void RunRounds(Workload& workload, const std::function<bool()>& drained, RunLog& log,
               const ScenarioOptions& options, ClusterCounters since, bool until_killed);

// The workload's final check, unless the run failed already; what it
// finds or throws goes to the log.
void FinalCheck(Workload& workload, RunLog& log);

// Drops the workload's refs, shuts lumen down and checks that nothing of
// the cluster is left behind; broken invariants go to the log.
void StopCluster(Workload& workload, const std::string& session_dir, RunLog& log);

// The row's counts, recovery times, failures (known bugs apart) and notes.
void Summarise(const RunLog& log, ScenarioResult* result);

}  // namespace chaos
