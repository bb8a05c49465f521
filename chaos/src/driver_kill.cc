#include "driver_kill.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>

#include "child_driver.h"
#include "run_parts.h"

namespace chaos {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr milliseconds kStartBound{30000};  // the child's exec, Init and workload Start
constexpr milliseconds kExitBound{5000};    // a SIGKILLed driver and its workers gone

// What AbandonDriverKillRun ends: the run under way's temp dir and child.
std::mutex g_abandon_mu;
std::string g_temp_dir;  // guarded by g_abandon_mu
const ChildDriver* g_child = nullptr;  // guarded by g_abandon_mu; signalled by pidfd, so never a reused pid

void SetChild(const ChildDriver* child) {
  std::lock_guard lock(g_abandon_mu);
  g_child = child;
}

// A private temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "chaos-driver-XXXXXX").string();
    if (::mkdtemp(pattern.data())) path_ = pattern;
    std::lock_guard lock(g_abandon_mu);
    g_temp_dir = path_;
  }
  ~TempDir() {
    std::lock_guard lock(g_abandon_mu);
    std::error_code ignore;
    if (!path_.empty()) fs::remove_all(path_, ignore);
    g_temp_dir.clear();
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool WriteAll(int fd, const std::string& text) {
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

size_t FirstDriverKill(const std::vector<Fault>& schedule) {
  size_t i = 0;
  while (i < schedule.size() && schedule[i].kind != FaultKind::kKillDriver) ++i;
  return i;
}

std::string PidList(const std::vector<pid_t>& pids) {
  std::string out;
  for (pid_t pid : pids) out += (out.empty() ? "" : " ") + std::to_string(pid);
  return out;
}

// The child's lines until `deadline` or its end (or, with `until_started`,
// its "started SESSION_DIR", which goes to *session_dir); the rest are
// replayed into the log.
void Follow(ChildDriver& child, RunLog& log, const std::vector<Fault>& schedule, Clock::time_point deadline,
            std::string* session_dir, bool until_started) {
  // The deadline is checked here too: a child that writes fast always has a line ready.
  while (!(until_started && !session_dir->empty()) && Clock::now() < deadline) {
    std::optional<std::string> line = child.ReadLine(deadline);
    if (!line) return;
    if (line->rfind("started ", 0) == 0) *session_dir = line->substr(8);
    else if (!log.Replay(*line, schedule)) log.Fail("the child driver wrote a line that is no event: " + *line);
  }
}

// Kills the child driver at the fault's moment and checks what it leaves:
// its exit, and its workers' within kExitBound. The fault as injected.
InjectedFault KillChild(ChildDriver& child, RunLog& log, const std::vector<Fault>& schedule, size_t kill,
                        std::string* session_dir) {
  InjectedFault record{schedule[kill], 0, child.pid(), false, ""};
  Follow(child, log, schedule, Clock::now() + kStartBound, session_dir, true);
  if (session_dir->empty() && !child.ended())
    log.Fail("the child driver did not start within " + std::to_string(kStartBound.count()) + " ms");
  const int64_t wait_ms = schedule[kill].at_ms - log.NowMs();
  Follow(child, log, schedule, Clock::now() + milliseconds(std::max<int64_t>(0, wait_ms)), session_dir, false);
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
  Follow(child, log, schedule, Clock::now() + kExitBound, session_dir, false);
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
    try {
      workload->Start(log);
      injector.Start();
      workload->CheckRecovered(log.FlushedObjects(), log);
      if (!log.Failed()) RunRounds(*workload, injector, log, options, since, false);
    } catch (const WorkloadFailure& e) {
      log.Fail(e.what());
    } catch (const lumen::Error& e) {
      log.Fail(std::string("the new driver's workload threw ") + e.what());
    }
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
  TempDir dir;
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
  SetChild(child.get());
  std::string dead_session;
  InjectedFault record = KillChild(*child, log, schedule, kill, &dead_session);
  SetChild(nullptr);
  child.reset();
  Recover(options, storage_dir, dead_session, {schedule.begin() + static_cast<ptrdiff_t>(kill) + 1, schedule.end()},
          log, &record, result);
  log.Injected(std::move(record));
  Summarise(log, result);
}

void AbandonDriverKillRun() {
  std::lock_guard lock(g_abandon_mu);
  if (g_child) g_child->Kill();  // its workers die with it
  std::error_code ignore;
  if (!g_temp_dir.empty()) fs::remove_all(g_temp_dir, ignore);
}

int RunChildDriver(const ScenarioOptions& options, const std::string& storage_dir, int report_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);        // the harness's watchdog ends us too
  ::fcntl(report_fd, F_SETFD, FD_CLOEXEC);  // our workers must not hold the pipe open
  RunLog log(Clock::now());
  log.MirrorTo([report_fd](const std::string& line) {
    if (!WriteAll(report_fd, line)) std::_Exit(4);  // the harness is gone
  });
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
  // Before any other thread writes to the pipe.
  if (!WriteAll(report_fd, "started " + session_dir + "\n")) std::_Exit(4);
  const ClusterCounters since = ClusterCounters::Now();
  {
    FaultInjector injector(schedule, log, {options.liveness_timeout_ms, 3000, options.get_timeout_ms});
    try {
      workload->Start(log);
      injector.Start();
      RunRounds(*workload, injector, log, options, since, true);
    } catch (const lumen::Error& e) {
      log.Fail(std::string("starting the workload threw ") + e.what());
    }
    injector.Finish();
  }
  StopCluster(*workload, session_dir, log);  // reached only when it failed first
  return log.Failed() ? 1 : 0;
}

}  // namespace chaos
