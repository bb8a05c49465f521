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
    case FaultKind::kStopHead: StopHead(&record); break;
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
  after_stop_head_ = false;
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
  const bool declared = Await(kDeclaredDeadBound, [&] { return daemons_.DeclaredDead(node->pid) > deaths; });
  const int64_t dead_ms = log_.NowMs() - record->at_ms;
  node->process->Signal(SIGCONT);
  if (!declared) {
    log_.Fail("stop-node: node pid " + std::to_string(node->pid) + " was not declared dead within " +
              std::to_string(kDeclaredDeadBound.count()) + " ms of SIGSTOP (liveness " +
              std::to_string(kNodeLiveness.count()) + " ms)");
    return;
  }
  const int64_t resumed_at = log_.NowMs();
  const bool back = Await(kReRegisterBound, [&] { return daemons_.RegistrationsWithHead(node->pid) > registrations; });
  record->note = "SIGSTOP node pid " + std::to_string(node->pid) + " (of " + std::to_string(of) +
                 "), declared dead " + std::to_string(dead_ms) + " ms later; SIGCONT: " +
                 (back ? "registered again " + std::to_string(log_.NowMs() - resumed_at) + " ms after"
                       : "not registered again");
  if (!back)
    log_.Fail("stop-node: node pid " + std::to_string(node->pid) + " did not register again within " +
              std::to_string(kReRegisterBound.count()) + " ms of SIGCONT");
}

// The head is stopped, not dead: to its nodes and its joined driver it is
// only silent. Each node must notice within kDeclaredDeadBound (its log:
// "lost the head") and then tries to register again; the driver's link to
// the head's node is declared dead by the same bound, so its waits fail with
// an error (never hang) and it ends. Held stopped hold_ms longer (the nodes'
// attempts queue at its socket), then resumed: the same head, its directory
// and log intact, serves again. Every node registers with it again within
// kReRegisterBound (none may give up), and a new driver gets everything
// flushed before the stop.
void ClusterHarness::StopHead(InjectedFault* record) {
  LocalDaemons::Daemon* head = daemons_.head();
  if (!head) {
    record->skipped = true;
    record->note = "skipped: no head is alive";
    return;
  }
  struct Watched {
    LocalDaemons::Daemon* node;
    int lost, again;  // the lines of its log before the stop
  };
  std::vector<Watched> nodes;
  for (LocalDaemons::Daemon* node : daemons_.LiveNodes())
    nodes.push_back({node, daemons_.LostHead(node->pid), daemons_.RegisteredAgain(node->pid)});
  // True when every node still alive did what `seen` says.
  auto every_node = [&](const std::function<bool(const Watched&)>& seen) {
    return std::all_of(nodes.begin(), nodes.end(), [&](const Watched& n) { return !daemons_.Alive(*n.node) || seen(n); });
  };
  record->pid = head->pid;
  record->at_ms = head_killed_at_ms_ = log_.NowMs();  // the driver's errors from now on are this fault's
  const auto stopped_at = Clock::now();
  head->process->Signal(SIGSTOP);
  const bool noticed =
      Await(kDeclaredDeadBound, [&] { return every_node([&](const Watched& n) { return daemons_.LostHead(n.node->pid) > n.lost; }); });
  const int64_t noticed_ms = log_.NowMs() - record->at_ms;
  const bool ended = Await(kLinkLostBound - std::chrono::duration_cast<milliseconds>(Clock::now() - stopped_at),
                           [&] { return !driver_ || driver_->ended(); });
  const int64_t ended_ms = log_.NowMs() - record->at_ms;
  Await(milliseconds(record->planned.hold_ms), [] { return false; });
  head->process->Signal(SIGCONT);
  const int64_t resumed_at = log_.NowMs();
  record->note = "SIGSTOP the head pid " + std::to_string(head->pid) + ": its " + std::to_string(nodes.size()) +
                 " nodes " + (noticed ? "noticed " : "had not all noticed ") + std::to_string(noticed_ms) +
                 " ms later, the driver " + (ended ? "ended " : "still ran ") + std::to_string(ended_ms) +
                 " ms after; SIGCONT at +" + std::to_string(resumed_at - record->at_ms) + " ms";
  if (!noticed)
    log_.Fail("stop-head: not every node noticed its head's silence within " + std::to_string(kDeclaredDeadBound.count()) +
              " ms of SIGSTOP (liveness " + std::to_string(kNodeLiveness.count()) + " ms)");
  if (!ended) {
    log_.Fail("HANG: the joined driver still runs " + std::to_string(kLinkLostBound.count()) +
              " ms after its head was stopped (a wait that does not fail)");
    driver_->Kill();
  }
  ReapDriver(true);
  const bool back =
      Await(kReRegisterBound, [&] { return every_node([&](const Watched& n) { return daemons_.RegisteredAgain(n.node->pid) > n.again; }); });
  record->note += "; " + std::string(back ? "every node registered again " : "not every node registered again ") +
                  std::to_string(log_.NowMs() - resumed_at) + " ms after";
  for (const Watched& n : nodes)
    if (!daemons_.Alive(*n.node))
      log_.Fail("stop-head: node pid " + std::to_string(n.node->pid) + " stopped when its head was resumed; its log ends: " +
                daemons_.NodeLogTail(n.node->pid, 600));
  if (!back)
    log_.Fail("stop-head: a node did not register again within " + std::to_string(kReRegisterBound.count()) +
              " ms of SIGCONT");
  if (!daemons_.head()) log_.Fail("stop-head: the head pid " + std::to_string(record->pid) + " died once resumed");
  if (log_.Failed()) return;
  after_stop_head_ = true;
  if (StartDriver(true)) record->note += "; a new driver joined at +" + std::to_string(log_.NowMs() - record->at_ms) + " ms";
}

// Each a line in a daemon's log, looked for every 50 ms.
bool ClusterHarness::Await(milliseconds bound, const std::function<bool()>& done) {
  const auto deadline = Clock::now() + bound;
  while (!done() && Clock::now() < deadline) {
    if (driver_ && !driver_->ended()) Follow(std::min(deadline, Clock::now() + milliseconds(50)));
    else std::this_thread::sleep_for(std::min<Clock::duration>(deadline - Clock::now(), milliseconds(50)));
  }
  return done();
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
