#include "cluster_run.h"

#include <cstdlib>
#include <string>
#include <fstream>

#include "cluster_harness.h"
#include "processes.h"
#include "run_parts.h"
#include "temp_dir.h"

namespace chaos {

using std::chrono::milliseconds;

std::vector<FaultKind> ClusterFaultKinds() {
  return {FaultKind::kKillWorker, FaultKind::kKillNode, FaultKind::kKillNode, FaultKind::kKillHead,
          FaultKind::kKillCluster, FaultKind::kStopNode, FaultKind::kStopHead};
}

namespace {

// The lumen CLI: $LUMEN_CLI, else the one built with this binary.
std::string LumenCli() {
  const char* env = std::getenv("LUMEN_CLI");
  return env && *env ? env : LUMEN_CLI_PATH;
}

// "+812 ms: ..." -> 812; -1 if the text has no stamp.
int64_t StampOf(const std::string& text) {
  if (text.empty() || text[0] != '+') return -1;
  return std::strtoll(text.c_str() + 1, nullptr, 10);
}

}  // namespace

ClusterHarness::ClusterHarness(const ScenarioOptions& options, ScenarioResult* result, LocalDaemons& daemons,
                               const std::string& temp_dir)
    : options_(options), result_(result), daemons_(daemons), temp_dir_(temp_dir), log_(Clock::now()) {}

void ClusterHarness::Run() {
  const std::vector<Fault>& schedule = result_->schedule;
  size_t next = 0;
  if (StartDriver(false)) {
    for (; next < schedule.size(); ++next) {
      Follow(log_.start() + milliseconds(schedule[next].at_ms));
      if (!driver_ || driver_->ended()) break;
      InjectedFault record = Inject(schedule[next]);
      log_.Injected(std::move(record));
      if (!driver_ || log_.Failed()) break;
    }
  }
  for (; next < schedule.size(); ++next)
    log_.Injected({schedule[next], log_.NowMs(), 0, true, "not injected: the workload ended first"});
  FinishDriver();
}

bool ClusterHarness::StartDriver(bool recover) {
  std::vector<std::string> args{"--cluster-driver", daemons_.address(), "--report-fd", "3", "--command-fd", "4",
                                "--clock-origin", std::to_string(log_.start().time_since_epoch().count()),
                                "--scenario", options_.scenario, "--seed", std::to_string(options_.seed),
                                "--scale", std::to_string(options_.scale), "--get-timeout-ms",
                                std::to_string(options_.get_timeout_ms)};
  if (recover) {
    const std::string file = temp_dir_ + "/flushed-" + std::to_string(drivers_);
    std::ofstream out(file);
    for (const FlushedObject& o : log_.FlushedObjects()) out << o.expect << " " << o.id << "\n";
    if (!out.flush()) {
      log_.Fail("cannot write the list of flushed objects to " + file);
      return false;
    }
    args.insert(args.end(), {"--recover", file});
  }
  std::string error;
  driver_ = ChildDriver::Start(args, &error);
  if (!driver_) {
    log_.Fail(error);
    return false;
  }
  ++drivers_;
  report_.session_dir.clear();
  head_killed_at_ms_ = -1;
  FollowChild(*driver_, log_, result_->schedule, Clock::now() + kDriverStartBound, &report_, true,
              [this](const std::string& line) { return Take(line); });
  if (!report_.session_dir.empty()) return true;
  if (!driver_->ended())
    log_.Fail("the joined driver did not start within " + std::to_string(kDriverStartBound.count()) + " ms");
  ReapDriver(false);
  return false;
}

void ClusterHarness::Follow(Clock::time_point deadline) {
  if (!driver_) return;
  FollowChild(*driver_, log_, result_->schedule, deadline, &report_, false,
              [this](const std::string& line) { return Take(line); });
  if (driver_->ended() && head_killed_at_ms_ < 0) ReapDriver(false);  // it ended on its own: too early
}

bool ClusterHarness::Take(const std::string& line) {
  if (after_stop_head_ && line.rfind("fail ", 0) == 0) {  // known_bugs.cc tells its failures by this
    log_.Replay(line + " (in the driver that recovers after a stop-head)", result_->schedule);
    return true;
  }
  if (head_killed_at_ms_ < 0) return false;
  if (line.rfind("result ", 0) == 0) {
    // Exact, but no recovery: its Get had its value before the head went.
    // Left out, so that a kill's recovery time is its new driver's.
    if (std::strtoll(line.c_str() + 7, nullptr, 10) < head_killed_at_ms_) return false;
    log_.Note("the driver of the killed head checked a result after the kill (not counted): " + line);
    return true;
  }
  if (line.rfind("threw ", 0) != 0) return false;
  const std::string text = line.substr(6);
  if (StampOf(text) < head_killed_at_ms_) return false;  // before the kill: not caused by it
  log_.Note("the joined driver's call failed as its head went: " + text);
  return true;
}

void ClusterHarness::ReapDriver(bool lost_head) {
  if (!driver_) return;
  const std::string how = driver_->Reap(Clock::now() + kKilledExitBound);
  if (how.empty()) log_.Fail("the joined driver pid " + std::to_string(driver_->pid()) + " did not exit");
  else if (!lost_head && how != "exited 0" && !log_.Failed())
    log_.Fail("the joined driver " + how + ", saying nothing of why");
  driver_.reset();  // killed and reaped if still there
}

void ClusterHarness::FinishDriver() {
  if (!driver_) return;
  driver_->Tell("finish");
  // Its last round, its final check (all its Puts by id) and its Shutdown.
  const auto deadline = Clock::now() + milliseconds(std::max<int64_t>(0, options_.max_run_ms - log_.NowMs()) +
                                                    2 * options_.get_timeout_ms + 10000);
  FollowChild(*driver_, log_, result_->schedule, deadline, &report_, false,
              [this](const std::string& line) { return Take(line); });
  if (!driver_->ended()) {
    log_.Fail("HANG: the joined driver did not end after it was told to finish");
    driver_->Kill();
  }
  ReapDriver(false);
}

void RunOnCluster(const ScenarioOptions& options, ScenarioResult* result) {
  result->on_cluster = true;
  TempDir dir("chaos-cluster-");
  if (dir.path().empty()) {
    result->failures.push_back("cannot make a temp dir for the head's storage dir");
    return;
  }
  // Every daemon and driver of the run declares a silent node (or head)
  // dead after this (the default, 10 s, would make a stop-node or stop-head
  // fault outlast a run).
  ::setenv("LUMEN_NODE_LIVENESS_MS", std::to_string(kNodeLiveness.count()).c_str(), 1);
  LocalDaemons daemons({LumenCli(), dir.path() + "/storage", 1, 2});
  std::string why = daemons.StartHead();
  for (int i = 0; i < kNodes && why.empty(); ++i) why = daemons.AddNode();
  if (!why.empty()) {
    result->failures.push_back("starting the cluster: " + why);
    for (const std::string& broken : daemons.StopAll()) result->failures.push_back(broken);
    return;
  }
  ClusterHarness harness(options, result, daemons, dir.path());
  harness.Run();
  RunLog& log = harness.log();
  if (log.Failed()) log.Note("the head's log ends: " + daemons.HeadLogTail(1500));
  const int64_t stop_at = log.NowMs();
  for (const std::string& broken : daemons.StopAll()) log.Fail(broken);
  log.Note("the daemons stopped, and were checked, " + std::to_string(log.NowMs() - stop_at) + " ms after SIGTERM");
  // Every command, daemon start and driver of the run was reaped.
  std::vector<pid_t> ours = OurChildren();
  if (!ours.empty()) log.Fail("after the cluster stopped, child processes of the harness left: " + PidList(ours));
  Summarise(log, result);
  result->worker_deaths = harness.worker_deaths();
  result->extra = harness.extra() + (harness.drivers() > 1 ? ", " + std::to_string(harness.drivers()) + " drivers" : "");
}

}  // namespace chaos
