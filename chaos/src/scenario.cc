#include "scenario.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "cluster_run.h"
#include "driver_kill.h"
#include "faults.h"
#include "invariants.h"
#include "known_bugs.h"
#include "lumen/api.h"
#include "processes.h"
#include "run_parts.h"
#include "workload.h"

namespace chaos {
namespace {

ScheduleOptions ScheduleOptionsFor(const std::string& scenario, const Workload& workload) {
  ScheduleOptions options;
  options.kinds = IsClusterScenario(scenario) ? ClusterFaultKinds() : workload.Faults();
  options.min_faults = 2;
  options.max_faults = 4;
  options.first_ms = 300;
  options.window_ms = 3000;
  if (IsClusterScenario(scenario)) {
    // A head restart and a new driver's join take a second or two: later
    // and wider, so that rounds are flushed between the kills.
    options.first_ms = 1500;
    options.window_ms = 6000;
  }
  return options;
}

// Different scenarios with the same seed draw different schedules.
uint64_t ScheduleSeed(const std::string& scenario, uint64_t seed) {
  uint64_t h = seed;
  for (char c : scenario) h = Mix(h ^ static_cast<unsigned char>(c));
  return h;
}

}  // namespace

WorkloadSettings SettingsOf(const ScenarioOptions& options) {
  return {options.seed, options.get_timeout_ms, options.scale, false};
}

lumen::Config ClusterConfig(const ScenarioOptions& options, const Workload& workload) {
  lumen::Config config;
  config.num_cpus = 2;
  config.object_store_bytes = 64 << 20;
  // Low, so that a stopped worker is found out within the run.
  config.worker_liveness_timeout_ms = options.liveness_timeout_ms;
  workload.Configure(&config);
  return config;
}

ClusterCounters ClusterCounters::Now() {
  lumen::ClusterInfo info = lumen::GetClusterInfo();
  return {info.worker_deaths_seen_by_caf + info.worker_deaths_seen_by_reaping, info.tasks_rebuilt};
}

void Guarded(RunLog& log, const std::string& doing, const std::function<void()>& step) {
  try {
    step();
  } catch (const WorkloadError& e) {
    log.Threw(e.what());
  } catch (const WorkloadFailure& e) {
    log.Fail(e.what());
  } catch (const lumen::Error& e) {
    log.Threw(doing + " threw " + e.what());
  }
}

void FinalCheck(Workload& workload, RunLog& log) {
  if (log.Failed()) return;
  Guarded(log, "the final check", [&] { workload.Finish(log); });
}

void RunRounds(Workload& workload, const std::function<bool()>& drained, RunLog& log,
               const ScenarioOptions& options, ClusterCounters since, bool until_killed) {
  while (true) {
    const bool drained_before = drained() && !until_killed;
    Guarded(log, "the workload", [&] {
      workload.RunRound(log);
      ClusterCounters now = ClusterCounters::Now();
      log.Counters(now.deaths - since.deaths, now.rebuilt - since.rebuilt);
    });
    if (log.Failed() || drained_before) return;
    if (log.NowMs() > options.max_run_ms) {
      log.Fail("no end after " + std::to_string(options.max_run_ms) +
               (until_killed ? " ms: the harness never killed this driver"
                             : " ms: the faults were not over, or rounds never finished"));
      return;
    }
  }
}

void StopCluster(Workload& workload, const std::string& session_dir, RunLog& log) {
  // The leftover check below looks for our children; it must see the
  // workers while they run, or it would pass blind.
  if (OurChildren().empty()) log.Fail("no worker process is a child of the driver: the leftover check cannot see them");
  workload.Stop();
  lumen::Shutdown();
  for (const std::string& broken : NothingLeftBehind(session_dir)) log.Fail(broken);
}

void Summarise(const RunLog& log, ScenarioResult* result) {
  result->wall_ms = log.NowMs();
  result->faults = log.Faults();
  result->recovery_ms = log.RecoveryMs();
  size_t injected = 0;
  for (const InjectedFault& f : result->faults) {
    if (f.skipped) {
      ++result->skipped;
      continue;
    }
    switch (f.planned.kind) {
      case FaultKind::kKillWorker:
      case FaultKind::kKillActor: ++result->kills; break;
      case FaultKind::kStopWorker:
      case FaultKind::kStopNode: ++result->stops; break;
      case FaultKind::kFillStore: ++result->fills; break;
      case FaultKind::kKillNode: ++result->node_kills; break;
      case FaultKind::kKillDriver:
      case FaultKind::kKillHead:
      case FaultKind::kKillCluster:
      case FaultKind::kStopHead:
        // The driver's way back: the new driver's first result is its check of everything flushed.
        if (f.planned.kind == FaultKind::kStopHead) ++result->stops;
        (f.planned.kind == FaultKind::kKillDriver  ? result->driver_kills
         : f.planned.kind == FaultKind::kStopHead ? result->head_stops
                                                   : result->head_kills)++;
        if (injected < result->recovery_ms.size())
          result->driver_back_ms = std::max(result->driver_back_ms, result->recovery_ms[injected]);
        break;
    }
    ++injected;
  }
  result->worker_deaths = log.WorkerDeaths();
  result->tasks_rebuilt = log.TasksRebuilt();
  result->actor_restarts = log.ActorRestartsSeen();
  result->results_checked = log.ResultsChecked();
  for (const std::string& failure : log.Failures()) {
    if (const KnownBug* bug = MatchKnownBug(failure))
      result->known_bugs.push_back(std::string(bug->id) + ": " + failure + "\n      known bug: " + bug->what);
    else
      result->failures.push_back(failure);
  }
  result->notes = log.Notes();
}


std::vector<Fault> ScheduleFor(const std::string& scenario, uint64_t seed) {
  auto workload = MakeWorkload(scenario, WorkloadSettings{seed, 0, 1});
  if (!workload) return {};
  return MakeSchedule(ScheduleSeed(scenario, seed), ScheduleOptionsFor(scenario, *workload));
}

ScenarioResult RunScenario(const ScenarioOptions& options) {
  ScenarioResult result;
  result.scenario = options.scenario;
  result.seed = options.seed;
  std::unique_ptr<Workload> workload = MakeWorkload(options.scenario, SettingsOf(options));
  if (!workload) {
    result.failures.push_back("unknown scenario '" + options.scenario + "'");
    return result;
  }
  result.schedule = ScheduleFor(options.scenario, options.seed);
  if (options.print_schedule)
    std::printf("scenario %s seed %llu: schedule\n%s", options.scenario.c_str(),
                static_cast<unsigned long long>(options.seed), DescribeSchedule(result.schedule).c_str());
  std::fflush(stdout);
  if (IsClusterScenario(options.scenario)) {
    RunOnCluster(options, &result);
    return result;
  }
  for (const Fault& f : result.schedule)
    if (f.kind == FaultKind::kKillDriver) {
      RunWithDriverKill(options, &result);
      return result;
    }

  RunLog log(Clock::now());
  try {
    lumen::Init(ClusterConfig(options, *workload));
  } catch (const lumen::Error& e) {
    result.failures.push_back(std::string("lumen::Init threw ") + e.what());
    return result;
  }
  const std::string session_dir = lumen::GetClusterInfo().session_dir;
  const ClusterCounters since = ClusterCounters::Now();
  {
    InjectorSettings injector_settings{options.liveness_timeout_ms, 3000, options.get_timeout_ms};
    FaultInjector injector(result.schedule, log, injector_settings);
    Guarded(log, "starting the workload", [&] {
      workload->Start(log);
      injector.Start();
      RunRounds(*workload, [&] { return injector.Drained(); }, log, options, since, false);
    });
    injector.Finish();
  }
  FinalCheck(*workload, log);
  const ClusterCounters now = ClusterCounters::Now();
  log.Counters(now.deaths - since.deaths, now.rebuilt - since.rebuilt);
  result.extra = workload->Extra();
  StopCluster(*workload, session_dir, log);
  Summarise(log, &result);
  return result;
}

}  // namespace chaos
