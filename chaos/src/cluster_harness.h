// The harness's side of a cluster run (cluster_run.h), shared by the run's
// course (cluster_run.cc) and the faults it plays (cluster_faults.cc).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "child_driver.h"
#include "child_report.h"
#include "daemons.h"
#include "run_log.h"
#include "scenario.h"

namespace chaos {

constexpr std::chrono::milliseconds kDriverStartBound{30000};  // exec, join, workload Start
constexpr std::chrono::milliseconds kKilledExitBound{5000};    // a SIGKILLed daemon and its workers gone
constexpr std::chrono::milliseconds kLinkLostBound{10000};     // head killed until its joined driver ended
constexpr std::chrono::milliseconds kReRegisterBound{10000};   // an old node re-registered with a new head, or gone
constexpr std::chrono::milliseconds kNodeLiveness{1500};     // LUMEN_NODE_LIVENESS_MS of the run's daemons
// A stopped node declared dead by the head: within 1.1x the liveness timeout, and slack for a busy machine.
constexpr std::chrono::milliseconds kDeclaredDeadBound{kNodeLiveness * 11 / 10 + std::chrono::milliseconds(3000)};
constexpr int kNodes = 2;

class ClusterHarness {
 public:
  ClusterHarness(const ScenarioOptions& options, ScenarioResult* result, LocalDaemons& daemons,
                 const std::string& temp_dir);
  // Starts the first driver, plays the schedule, ends the last driver.
  void Run();
  RunLog& log() { return log_; }
  uint64_t worker_deaths() const { return worker_deaths_; }
  int drivers() const { return drivers_; }
  const std::string& extra() const { return report_.extra; }

 private:
  // cluster_run.cc
  bool StartDriver(bool recover);
  // The driver's lines until `deadline` or its end.
  void Follow(Clock::time_point deadline);
  // Its line before it is replayed: a thrown error stamped after its head's kill is a note.
  bool Take(const std::string& line);
  // Reaps an ended driver; a failure unless it ended well or lost its head.
  void ReapDriver(bool lost_head);
  void FinishDriver();

  // cluster_faults.cc
  InjectedFault Inject(const Fault& fault);
  void KillWorker(InjectedFault* record);
  LocalDaemons::Daemon* TargetNode(InjectedFault* record, size_t* of);
  void KillNode(InjectedFault* record);
  void KillHead(bool whole_cluster, InjectedFault* record);
  void StopNode(InjectedFault* record);
  void StopHead(InjectedFault* record);
  // Until done() (looked at every 50 ms) or `bound`, the driver's lines read
  // meanwhile; done() then.
  bool Await(std::chrono::milliseconds bound, const std::function<bool()>& done);
  // A new head on the same dir and port; the nodes of the old head
  // (`old_nodes`) that re-register are kept, and nodes started up to kNodes. False if not.
  bool Restart(const std::vector<LocalDaemons::Daemon*>& old_nodes, InjectedFault* record);
  // Fails the run for what a kill left running; its workers counted as deaths.
  void CheckKilled(const LocalDaemons::Killed& killed, const std::string& what);

  const ScenarioOptions options_;
  ScenarioResult* result_;
  LocalDaemons& daemons_;
  const std::string temp_dir_;
  RunLog log_;
  std::unique_ptr<ChildDriver> driver_;
  ChildReport report_;
  int64_t head_killed_at_ms_ = -1;  // the current driver's head was killed (or stopped) then
  bool after_stop_head_ = false;     // the current driver recovers after a stop-head: its failures say so
  int drivers_ = 0;
  uint64_t worker_deaths_ = 0;  // workers seen to exit after a kill
};

}  // namespace chaos
