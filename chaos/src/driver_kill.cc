#include "driver_kill.h"

#include <signal.h>
#include <sys/prctl.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "child_driver.h"
#include "child_report.h"
#include "run_parts.h"
#include "temp_dir.h"

namespace chaos {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr milliseconds kStartBound{30000};  // the child's exec, Init and workload Start
constexpr milliseconds kExitBound{5000};    // a SIGKILLed driver and its workers gone

size_t FirstDriverKill(const std::vector<Fault>& schedule) {
  size_t i = 0;
  while (i < schedule.size() && schedule[i].kind != FaultKind::kKillDriver) ++i;
  return i;
}

// Kills the child driver at the fault's moment and checks what it leaves:
// its exit, and its workers' within kExitBound. The fault as injected.
InjectedFault KillChild(ChildDriver& child, RunLog& log, const std::vector<Fault>& schedule, size_t kill,
                        ChildReport* report) {
  InjectedFault record{schedule[kill], 0, child.pid(), false, ""};
  FollowChild(child, log, schedule, Clock::now() + kStartBound, report, true);
  if (report->session_dir.empty() && !child.ended())
    log.Fail("the child driver did not start within " + std::to_string(kStartBound.count()) + " ms");
  const int64_t wait_ms = schedule[kill].at_ms - log.NowMs();
  FollowChild(child, log, schedule, Clock::now() + milliseconds(std::max<int64_t>(0, wait_ms)), report, false);
  if (child.ended()) {
    record.skipped = true;
    record.at_ms = log.NowMs();
    record.note = "not injected: the driver ended first (" + child.Reap(Clock::now() + kExitBound) + ")";
    return record;
  }
  std::vector<ProcessHandle> workers = child.Children();
  child.Kill();
  record.at_ms = log.NowMs();
  const std::string how = child.Reap(Clock::now() + kExitBound);
  if (how.empty()) log.Fail("the killed driver pid " + std::to_string(child.pid()) + " had not exited " +
                            std::to_string(kExitBound.count()) + " ms after SIGKILL");
  std::vector<pid_t> alive = AwaitExits(workers, Clock::now() + kExitBound);
  const int64_t gone_ms = log.NowMs() - record.at_ms;
  if (!alive.empty()) {
    log.Fail("workers of the killed driver still alive " + std::to_string(gone_ms) + " ms after it: " +
             PidList(alive));
    for (const ProcessHandle& w : workers) w.Signal(SIGKILL);
  }
  // What it wrote before it died; a line it was cut off in is not read.
  FollowChild(child, log, schedule, Clock::now() + kExitBound, report, false);
  if (!child.ended()) log.Fail("the killed driver's report pipe stayed open: a process of it holds it");
  // It reports each fault once injected, in schedule order: those after the
  // last one reported were under way (a filler being made) or not yet due.
  for (size_t i = log.Faults().size(); i < kill; ++i)
    log.Injected({schedule[i], schedule[i].at_ms, 0, true, "cut short: the driver was killed before it was done"});
  record.note = "SIGKILL driver pid " + std::to_string(child.pid()) + " (" + how + ") after " +
                std::to_string(log.FlushedObjects().size()) + " flushed objects; its " +
                std::to_string(workers.size()) + " workers gone " + std::to_string(gone_ms) + " ms later";
  return record;
}

// Init on the dead driver's storage_dir, the workload's checks by id, then
// its rounds go on in this driver while the faults after the kill are
// played against it, and its final check.
void Recover(const ScenarioOptions& options, const std::string& storage_dir, const std::string& dead_session,
             const std::vector<Fault>& after_kill, RunLog& log, InjectedFault* kill, ScenarioResult* result) {
  std::unique_ptr<Workload> workload = MakeWorkload(options.scenario, SettingsOf(options));
  lumen::Config config = ClusterConfig(options, *workload);
  config.storage_dir = storage_dir;
  const int64_t init_at = log.NowMs();
  try {
    lumen::Init(config);
  } catch (const lumen::Error& e) {
    log.Fail(std::string("the new driver's lumen::Init on the same storage_dir threw ") + e.what());
    return;
  }
  kill->note += "; the new driver's Init took " + std::to_string(log.NowMs() - init_at) + " ms";
  // Init removes what drivers that are gone left behind.
  std::error_code ec;
  if (!dead_session.empty() && fs::exists(dead_session, ec))
    log.Fail("after the new driver's Init, the killed driver's session dir is still there: " + dead_session);
  const fs::path segment = fs::path("/dev/shm") / fs::path(dead_session).filename();
  if (!dead_session.empty() && fs::exists(segment, ec))
    log.Fail("after the new driver's Init, the killed driver's store segment is still there: " + segment.string());
  const std::string session_dir = lumen::GetClusterInfo().session_dir;
  const ClusterCounters since = ClusterCounters::Now();
  const uint64_t deaths_before = log.WorkerDeaths(), rebuilt_before = log.TasksRebuilt();
  {
    FaultInjector injector(after_kill, log, {options.liveness_timeout_ms, 3000, options.get_timeout_ms});
    Guarded(log, "the new driver's workload", [&] {
      workload->Start(log);
      injector.Start();
      workload->CheckRecovered(log.FlushedObjects(), log);
      if (!log.Failed()) RunRounds(*workload, [&] { return injector.Drained(); }, log, options, since, false);
    });
    injector.Finish();
  }
  FinalCheck(*workload, log);
  const ClusterCounters now = ClusterCounters::Now();
  log.Counters(deaths_before + now.deaths - since.deaths, rebuilt_before + now.rebuilt - since.rebuilt);
  result->extra = workload->Extra();
  StopCluster(*workload, session_dir, log);
}

}  // namespace

void RunWithDriverKill(const ScenarioOptions& options, ScenarioResult* result) {
  const std::vector<Fault>& schedule = result->schedule;
  const size_t kill = FirstDriverKill(schedule);
  TempDir dir("chaos-driver-");
  if (dir.path().empty()) {
    result->failures.push_back("cannot make a temp dir for the storage_dir");
    return;
  }
  const std::string storage_dir = dir.path() + "/storage";
  // The child's clock starts a little after ours: its times are a little
  // early on ours, never late.
  RunLog log(Clock::now());
  std::string error;
  std::unique_ptr<ChildDriver> child = ChildDriver::Start(
      {"--child-driver", storage_dir, "--report-fd", "3", "--scenario", options.scenario, "--seed",
       std::to_string(options.seed), "--scale", std::to_string(options.scale), "--get-timeout-ms",
       std::to_string(options.get_timeout_ms)},
      &error);
  if (!child) {
    result->failures.push_back(error);
    return;
  }
  ChildReport report;
  InjectedFault record = KillChild(*child, log, schedule, kill, &report);
  child.reset();
  Recover(options, storage_dir, report.session_dir, {schedule.begin() + static_cast<ptrdiff_t>(kill) + 1, schedule.end()},
          log, &record, result);
  log.Injected(std::move(record));
  Summarise(log, result);
}

int RunChildDriver(const ScenarioOptions& options, const std::string& storage_dir, int report_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the harness's watchdog ends us too
  RunLog log(Clock::now());
  ReportTo(log, report_fd);
  WorkloadSettings settings = SettingsOf(options);
  settings.flush = true;
  std::unique_ptr<Workload> workload = MakeWorkload(options.scenario, settings);
  if (!workload) return 2;
  std::vector<Fault> schedule = ScheduleFor(options.scenario, options.seed);
  schedule.resize(FirstDriverKill(schedule));  // the harness does the kill; the rest is the new driver's
  lumen::Config config = ClusterConfig(options, *workload);
  config.storage_dir = storage_dir;
  try {
    lumen::Init(config);
  } catch (const lumen::Error& e) {
    log.Fail(std::string("the child driver's lumen::Init threw ") + e.what());
    return 1;
  }
  const std::string session_dir = lumen::GetClusterInfo().session_dir;
  TellHarness(report_fd, "started " + session_dir);  // before any other thread writes to the pipe
  const ClusterCounters since = ClusterCounters::Now();
  {
    FaultInjector injector(schedule, log, {options.liveness_timeout_ms, 3000, options.get_timeout_ms});
    Guarded(log, "starting the workload", [&] {
      workload->Start(log);
      injector.Start();
      RunRounds(*workload, [&] { return injector.Drained(); }, log, options, since, true);
    });
    injector.Finish();
  }
  StopCluster(*workload, session_dir, log);  // reached only when it failed first
  return log.Failed() ? 1 : 0;
}

}  // namespace chaos
