#include "scenario.h"

#include <cstdio>
#include <memory>

#include "faults.h"
#include "invariants.h"
#include "known_bugs.h"
#include "processes.h"
#include "lumen/api.h"
#include "workload.h"

namespace chaos {
namespace {

ScheduleOptions ScheduleOptionsFor(const Workload& workload) {
  ScheduleOptions options;
  options.kinds = workload.Faults();
  options.min_faults = 2;
  options.max_faults = 4;
  options.first_ms = 300;
  options.window_ms = 3000;
  return options;
}

// Different scenarios with the same seed draw different schedules.
uint64_t ScheduleSeed(const std::string& scenario, uint64_t seed) {
  uint64_t h = seed;
  for (char c : scenario) h = Mix(h ^ static_cast<unsigned char>(c));
  return h;
}

uint64_t WorkerDeaths() {
  lumen::ClusterInfo info = lumen::GetClusterInfo();
  return info.worker_deaths_seen_by_caf + info.worker_deaths_seen_by_reaping;
}

WorkloadSettings SettingsOf(const ScenarioOptions& options) {
  return {options.seed, options.get_timeout_ms, options.scale};
}

// Runs rounds until one started after the schedule was spent has finished,
// or something failed, or the run took too long.
void RunRounds(Workload& workload, FaultInjector& injector, RunLog& log, int64_t max_run_ms) {
  while (true) {
    const bool drained_before = injector.Drained();
    try {
      workload.RunRound(log);
    } catch (const WorkloadFailure& e) {
      log.Fail(e.what());
    } catch (const lumen::Error& e) {
      log.Fail(std::string("the workload threw ") + e.what());
    }
    if (log.Failed() || drained_before) return;
    if (log.NowMs() > max_run_ms) {
      log.Fail("no end after " + std::to_string(max_run_ms) + " ms: the faults were not over, or rounds never finished");
      return;
    }
  }
}

}  // namespace

std::vector<Fault> ScheduleFor(const std::string& scenario, uint64_t seed) {
  auto workload = MakeWorkload(scenario, WorkloadSettings{seed, 0, 1});
  if (!workload) return {};
  return MakeSchedule(ScheduleSeed(scenario, seed), ScheduleOptionsFor(*workload));
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
  result.schedule = MakeSchedule(ScheduleSeed(options.scenario, options.seed), ScheduleOptionsFor(*workload));
  if (options.print_schedule)
    std::printf("scenario %s seed %llu: schedule\n%s", options.scenario.c_str(),
                static_cast<unsigned long long>(options.seed), DescribeSchedule(result.schedule).c_str());
  std::fflush(stdout);

  lumen::Config config;
  config.num_cpus = 2;
  config.object_store_bytes = 64 << 20;
  // Low, so that a stopped worker is found out within the run.
  config.worker_liveness_timeout_ms = options.liveness_timeout_ms;
  workload->Configure(&config);

  const Clock::time_point start = Clock::now();
  RunLog log(start);
  std::string session_dir;
  try {
    lumen::Init(config);
  } catch (const lumen::Error& e) {
    result.failures.push_back(std::string("lumen::Init threw ") + e.what());
    return result;
  }
  session_dir = lumen::GetClusterInfo().session_dir;
  const uint64_t deaths_before = WorkerDeaths();
  {
    InjectorSettings injector_settings{options.liveness_timeout_ms, 3000, options.get_timeout_ms};
    FaultInjector injector(result.schedule, log, injector_settings);
    try {
      workload->Start(log);
      injector.Start();
      RunRounds(*workload, injector, log, options.max_run_ms);
    } catch (const lumen::Error& e) {
      log.Fail(std::string("starting the workload threw ") + e.what());
    }
    injector.Finish();
  }
  if (!log.Failed()) {
    try {
      workload->Finish(log);
    } catch (const WorkloadFailure& e) {
      log.Fail(e.what());
    } catch (const lumen::Error& e) {
      log.Fail(std::string("the final check threw ") + e.what());
    }
  }
  result.worker_deaths = WorkerDeaths() - deaths_before;
  result.extra = workload->Extra();
  // The leftover check below looks for our children; it must see the
  // workers while they run, or it would pass blind.
  if (OurChildren().empty()) log.Fail("no worker process is a child of the driver: the leftover check cannot see them");
  workload->Stop();
  workload.reset();
  lumen::Shutdown();
  for (const std::string& broken : NothingLeftBehind(session_dir)) log.Fail(broken);

  result.wall_ms = log.NowMs();
  result.faults = log.Faults();
  for (const InjectedFault& f : result.faults) {
    if (f.skipped) {
      ++result.skipped;
      continue;
    }
    switch (f.planned.kind) {
      case FaultKind::kKillWorker:
      case FaultKind::kKillActor: ++result.kills; break;
      case FaultKind::kStopWorker: ++result.stops; break;
      case FaultKind::kFillStore: ++result.fills; break;
      case FaultKind::kKillDriver: break;
    }
  }
  result.actor_restarts = log.ActorRestartsSeen();
  result.results_checked = log.ResultsChecked();
  result.recovery_ms = log.RecoveryMs();
  for (const std::string& failure : log.Failures()) {
    if (const KnownBug* bug = MatchKnownBug(failure))
      result.known_bugs.push_back(std::string(bug->id) + ": " + failure + "\n      known bug: " + bug->what);
    else
      result.failures.push_back(failure);
  }
  result.notes = log.Notes();
  return result;
}

}  // namespace chaos
