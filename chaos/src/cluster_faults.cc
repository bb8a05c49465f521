// The faults a cluster run plays against its daemons (cluster_run.h).
#include <signal.h>

#include <algorithm>
#include <functional>
#include <thread>

#include "cluster_harness.h"
#include "processes.h"

namespace chaos {
namespace {

using std::chrono::milliseconds;

// The k-th of `n` candidates for a fault's target in [0, 1).
size_t Pick(double target, size_t n) { return std::min(n - 1, static_cast<size_t>(target * static_cast<double>(n))); }

}  // namespace

InjectedFault ClusterHarness::Inject(const Fault& fault) {
  InjectedFault record{fault, log_.NowMs(), 0, false, ""};
  switch (fault.kind) {
    case FaultKind::kKillWorker: KillWorker(&record); break;
    case FaultKind::kKillNode: KillNode(&record); break;
    case FaultKind::kKillHead: KillHead(false, &record); break;
    case FaultKind::kKillCluster: KillHead(true, &record); break;
    case FaultKind::kStopNode: StopNode(&record); break;
    default:
      record.skipped = true;
      record.note = "skipped: not a fault of a cluster run";
  }
  return record;
}

void ClusterHarness::CheckKilled(const LocalDaemons::Killed& killed, const std::string& what) {
  if (!killed.daemons_alive.empty())
    log_.Fail(what + ": daemons still running " + std::to_string(killed.gone_ms) + " ms after SIGKILL: " +
              PidList(killed.daemons_alive));
  if (!killed.workers_alive.empty())
    log_.Fail(what + ": their workers still running " + std::to_string(killed.gone_ms) + " ms after it: " +
              PidList(killed.workers_alive));
  worker_deaths_ += killed.workers.size() - killed.workers_alive.size();
}

void ClusterHarness::KillWorker(InjectedFault* record) {
  std::vector<pid_t> workers = daemons_.Workers();
  if (workers.empty()) {
    record->skipped = true;
    record->note = "skipped: no daemon has a worker";
    return;
  }
  const pid_t pid = workers[Pick(record->planned.target, workers.size())];
  std::vector<ProcessHandle> victim;
  victim.emplace_back(pid);
  // Its parent read after the pidfd was opened: if that is a daemon of
  // ours, the pidfd names this worker, even should the pid be reused later.
  const pid_t parent = ParentOf(pid);
  if (victim[0].invalid() || !daemons_.IsLiveDaemon(parent)) {
    record->skipped = true;
    record->note = "skipped: worker pid " + std::to_string(pid) + " exited first";
    return;
  }
  record->at_ms = log_.NowMs();
  record->pid = pid;
  victim[0].Signal(SIGKILL);
  const bool gone = AwaitExits(victim, Clock::now() + kKilledExitBound).empty();
  if (gone) ++worker_deaths_;
  else log_.Fail("kill-worker: pid " + std::to_string(pid) + " still running " +
                 std::to_string(kKilledExitBound.count()) + " ms after SIGKILL");
  record->note = "SIGKILL worker pid " + std::to_string(pid) + " (of " + std::to_string(workers.size()) +
                 ") of daemon pid " + std::to_string(parent);
}

// The live node a fault targets; nullptr (the fault skipped) if none is alive.
LocalDaemons::Daemon* ClusterHarness::TargetNode(InjectedFault* record, size_t* of) {
  std::vector<LocalDaemons::Daemon*> nodes = daemons_.LiveNodes();
  *of = nodes.size();
  if (nodes.empty()) {
    record->skipped = true;
    record->note = "skipped: no node daemon is alive";
    return nullptr;
  }
  return nodes[Pick(record->planned.target, nodes.size())];
}

void ClusterHarness::KillNode(InjectedFault* record) {
  size_t of = 0;
  LocalDaemons::Daemon* node = TargetNode(record, &of);
  if (!node) return;
  record->at_ms = log_.NowMs();
  record->pid = node->pid;
  LocalDaemons::Killed killed = daemons_.Kill({node}, kKilledExitBound);
  CheckKilled(killed, "kill-node");
  const int64_t started_at = log_.NowMs();
  const std::string why = daemons_.AddNode();
  if (!why.empty()) log_.Fail("kill-node: starting a node in its place: " + why);
  record->note = "SIGKILL node pid " + std::to_string(node->pid) + " (of " + std::to_string(of) +
                 "), its " + std::to_string(killed.workers.size()) + " workers gone " +
                 std::to_string(killed.gone_ms) + " ms later; a new node serves " +
                 std::to_string(log_.NowMs() - started_at) + " ms after";
}

void ClusterHarness::KillHead(bool whole_cluster, InjectedFault* record) {
  LocalDaemons::Daemon* head = daemons_.head();
  if (!head) {
    record->skipped = true;
    record->note = "skipped: no head is alive";
    return;
  }
  std::vector<LocalDaemons::Daemon*> victims{head}, spared;
  for (LocalDaemons::Daemon* node : daemons_.LiveNodes()) (whole_cluster ? victims : spared).push_back(node);
  const std::string what = whole_cluster ? "kill-cluster" : "kill-head";
  record->pid = head->pid;
  record->at_ms = head_killed_at_ms_ = log_.NowMs();  // before the kill: nothing it causes is stamped earlier
  LocalDaemons::Killed killed = daemons_.Kill(victims, kKilledExitBound);
  CheckKilled(killed, what);
  record->note = "SIGKILL " + (whole_cluster ? "the head and " + std::to_string(victims.size() - 1) + " nodes (pids " +
                                                   PidList(killed.daemons) + ")"
                                             : "the head pid " + std::to_string(head->pid)) +
                 ", " + std::to_string(killed.workers.size()) + " workers gone " + std::to_string(killed.gone_ms) +
                 " ms later";
  // The joined driver lost its link: its waits must fail with an error, never hang.
  Follow(log_.start() + milliseconds(record->at_ms) + kLinkLostBound);
  if (driver_ && !driver_->ended()) {
    log_.Fail("HANG: the joined driver still runs " + std::to_string(kLinkLostBound.count()) +
              " ms after its head was killed (a wait that does not fail)");
    driver_->Kill();
  }
  record->note += "; the driver ended " + std::to_string(log_.NowMs() - record->at_ms) + " ms after";
  ReapDriver(true);
  if (!Restart(spared, record)) return;
  if (StartDriver(true)) record->note += "; a new driver joined at +" + std::to_string(log_.NowMs() - record->at_ms) + " ms";
}

// The node is stopped, not dead: only the heartbeats can tell. The head
// must declare it dead within kDeclaredDeadBound (its tasks then run
// elsewhere); resumed, it finds its registration closed and registers again.
void ClusterHarness::StopNode(InjectedFault* record) {
  size_t of = 0;
  LocalDaemons::Daemon* node = TargetNode(record, &of);
  if (!node) return;
  const int registrations = daemons_.RegistrationsWithHead(node->pid), deaths = daemons_.DeclaredDead(node->pid);
  record->at_ms = log_.NowMs();
  record->pid = node->pid;
  node->process->Signal(SIGSTOP);
  // Each a line in the head's (or the node's) log, looked for every 50 ms; the driver's lines are read meanwhile.
  auto await = [&](milliseconds bound, const std::function<bool()>& done) {
    const auto deadline = Clock::now() + bound;
    while (!done() && Clock::now() < deadline) {
      if (driver_ && !driver_->ended()) Follow(std::min(deadline, Clock::now() + milliseconds(50)));
      else std::this_thread::sleep_for(milliseconds(50));
    }
    return done();
  };
  const bool declared = await(kDeclaredDeadBound, [&] { return daemons_.DeclaredDead(node->pid) > deaths; });
  const int64_t dead_ms = log_.NowMs() - record->at_ms;
  node->process->Signal(SIGCONT);
  if (!declared) {
    log_.Fail("stop-node: node pid " + std::to_string(node->pid) + " was not declared dead within " +
              std::to_string(kDeclaredDeadBound.count()) + " ms of SIGSTOP (liveness " +
              std::to_string(kNodeLiveness.count()) + " ms)");
    return;
  }
  const int64_t resumed_at = log_.NowMs();
  const bool back = await(kReRegisterBound, [&] { return daemons_.RegistrationsWithHead(node->pid) > registrations; });
  record->note = "SIGSTOP node pid " + std::to_string(node->pid) + " (of " + std::to_string(of) +
                 "), declared dead " + std::to_string(dead_ms) + " ms later; SIGCONT: " +
                 (back ? "registered again " + std::to_string(log_.NowMs() - resumed_at) + " ms after"
                       : "not registered again");
  if (!back)
    log_.Fail("stop-node: node pid " + std::to_string(node->pid) + " did not register again within " +
              std::to_string(kReRegisterBound.count()) + " ms of SIGCONT");
}

bool ClusterHarness::Restart(const std::vector<LocalDaemons::Daemon*>& old_nodes, InjectedFault* record) {
  const int64_t start = log_.NowMs();
  if (std::string why = daemons_.StartHead(); !why.empty()) {
    log_.Fail("restarting the head on the same storage dir: " + why);
    return false;
  }
  record->note += "; the head serves again " + std::to_string(log_.NowMs() - start) + " ms after its start";
  // Nodes of the old head either stop or register with the new one (both
  // have been built): wait for one or the other, bounded, then count.
  int kept = 0, ended = 0;
  for (LocalDaemons::Daemon* node : old_nodes) {
    const auto deadline = Clock::now() + kReRegisterBound;
    while (daemons_.Alive(*node) && !daemons_.RegisteredWithHead(node->pid) && Clock::now() < deadline) {
      std::vector<ProcessHandle> one;
      one.emplace_back(node->pid);
      // Its exit is an event; its registration is a line in the head's log, looked for every 50 ms.
      AwaitExits(one, std::min(deadline, Clock::now() + milliseconds(50)));
    }
    if (!daemons_.Alive(*node)) {
      ++ended;
    } else if (daemons_.RegisteredWithHead(node->pid)) {
      ++kept;
    } else {
      log_.Note("node pid " + std::to_string(node->pid) + " neither stopped nor registered with the new head within " +
                std::to_string(kReRegisterBound.count()) + " ms: killed");
      CheckKilled(daemons_.Kill({node}, kKilledExitBound), "a node that did not re-register");
    }
  }
  int started = 0;
  for (int alive = static_cast<int>(daemons_.LiveNodes().size()); alive < kNodes; ++alive, ++started)
    if (std::string why = daemons_.AddNode(); !why.empty()) {
      log_.Fail("starting a node after the head's restart: " + why);
      return false;
    }
  record->note += "; old nodes: " + std::to_string(kept) + " re-registered, " + std::to_string(ended) +
                  " stopped; " + std::to_string(started) + " started";
  return true;
}

}  // namespace chaos
