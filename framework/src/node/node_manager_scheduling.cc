// The node manager's scheduler: which ready task starts on which worker.
//
// A task holds the resources it asked for (CPU 1 unless it says otherwise)
// while it runs; its worker holds them as a lease, and more tasks of the same
// shape may be sent ahead to it (pipelining) when the queue is long. A worker
// blocked in Get lends its CPU back, and the node starts more workers while
// ready work fits but no worker can take it. Tasks sent ahead and not started
// are stolen back (ClaimSlots) as soon as another worker idles.
// Every function here REQUIRES mu_.
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "node/node_manager.h"
#include "node/node_manager_records.h"
#include "runtime/deadline.h"

namespace lumen::internal {

namespace {
// Tasks sent ahead to a busy worker, so it never waits for the next one. Only
// when the queue is long (many small tasks).
constexpr size_t kMaxInFlightPerWorker = 8;
constexpr size_t kPipelineMinQueuePerWorker = 16;
static_assert(kMaxInFlightPerWorker < ClaimSlots::kSlots);
// Workers started beyond num_cpus while others are blocked in Get, at most;
// descriptors bound it too (FdShortage).
constexpr int kMaxExtraWorkers = 1024;
}  // namespace

void NodeManager::Enqueue(Task& task, bool front) {
  TaskHistory::Queued(task.history, task.attempt);
  if (front) {
    ready_.PushFront(task.id, task.depth, ShapeOf(task.spec), task.job);
  } else {
    ready_.PushBack(task.id, task.depth, ShapeOf(task.spec), task.job);
  }
}

// Gives the worker's lease back once nothing runs on it.
void NodeManager::SettleLease(Worker& w) {
  if (!w.holds_lease || !w.in_flight.empty()) return;
  ResourceShape back = w.lease;
  if (w.cpu_lent) back.erase("CPU");  // lent back already
  std::vector<int> gpus;
  if (auto g = lease_gpus_.find(w.number); g != lease_gpus_.end()) {
    gpus = std::move(g->second);
    lease_gpus_.erase(g);
  }
  resources_.GiveBack(back, gpus);
  w.holds_lease = false;
  w.cpu_lent = false;
  w.lease.clear();
}

// A worker blocked in Get (or Wait) runs nothing: its CPU goes back to the
// node until the reply, as in Ray (the node may then be briefly oversubscribed).
void NodeManager::SetBlocked(Worker& w, int delta) {
  bool was_blocked = w.blocked > 0;
  w.blocked += delta;
  bool blocked = w.blocked > 0;
  if (blocked == was_blocked || !w.holds_lease || !IsPool(w)) return;
  auto cpu = w.lease.find("CPU");
  if (cpu == w.lease.end()) return;
  resources_.Lend("CPU", blocked ? cpu->second : -cpu->second);
  w.cpu_lent = blocked;
}

NodeManager::Worker* NodeManager::PickWorker(int job, const ResourceShape& shape) {
  Worker* idle = nullptr;
  Worker* ahead = nullptr;  // a busy worker of the same lease to send ahead to
  int runnable = 0;
  for (auto& [n, w] : workers_) {
    if (w->dead || !w->conn || !IsPool(*w) || w->blocked || w->job != job) continue;
    ++runnable;
    if (w->in_flight.empty()) {
      if (!idle) idle = w.get();
    } else if (w->holds_lease && w->lease == shape && w->in_flight.size() < kMaxInFlightPerWorker &&
               (!ahead || w->in_flight.size() < ahead->in_flight.size())) {
      ahead = w.get();
    }
  }
  if (idle && resources_.Fits(shape)) {
    std::vector<int> gpus = resources_.Take(shape);
    if (!gpus.empty()) lease_gpus_[idle->number] = std::move(gpus);  // only GPU leases have an entry
    idle->lease = shape;
    idle->holds_lease = true;
    return idle;
  }
  if (ahead && ready_.size() >= kPipelineMinQueuePerWorker * std::max(runnable, 1)) return ahead;
  return nullptr;
}

void NodeManager::Dispatch() {
  if (!actors_waiting_.empty()) StartWaitingActors();
  if (ready_.empty()) {
    StealForIdleWorkers();
    if (ready_.empty()) return;
  }
  std::vector<int> placeable;  // jobs with a ready task that fits but found no worker
  std::vector<std::pair<TaskID, std::string>> unschedulable;  // its node is gone
  ready_.ForEachBucket([&](const Demand& demand, std::deque<TaskID>& ids) {
    const ResourceShape& shape = demand.shape;
    size_t popped = 0;
    while (!ids.empty()) {
      auto t = tasks_.find(ids.front());
      if (t == tasks_.end() || t->second.cancelled || t->second.worker >= 0 || !ArgsPresent(t->second)) {
        ids.pop_front();  // gone, running, or waiting for an argument being rebuilt
        ++popped;
        continue;
      }
      Peer* peer = nullptr;
      std::string why;
      size_t next_turn = spread_turn_;
      Route route = peers_.empty() ? Route::kHere : RouteOf(t->second, shape, &peer, &why, &next_turn);
      if (route == Route::kNowhere) {
        unschedulable.emplace_back(t->first, std::move(why));
        ids.pop_front();
        ++popped;
        continue;
      }
      if (route == Route::kHold) break;  // its node has no room now
      if (route == Route::kPeer && ForwardToPeer(t->second, shape, peer)) {
        spread_turn_ = next_turn;
        ids.pop_front();
        ++popped;
        continue;
      }
      Worker* w = PickWorker(demand.job, shape);
      if (!w && !peers_.empty() && !resources_.Fits(shape) && ForwardToPeer(t->second, shape)) {
        ids.pop_front();  // no room here now: another node has it
        ++popped;
        continue;
      }
      if (!w) {
        if (resources_.Fits(shape) && std::find(placeable.begin(), placeable.end(), demand.job) == placeable.end())
          placeable.push_back(demand.job);
        break;
      }
      ids.pop_front();
      ++popped;
      spread_turn_ = next_turn;
      SendTask(*w, t->second);
    }
    return popped;
  });
  for (int job : placeable) SpawnForReadyWork(job);
  for (auto& [id, why] : unschedulable)
    if (auto t = tasks_.find(id); t != tasks_.end()) FailTask(t->second, {ErrorKind::kInfeasible, why, ""});
}

void NodeManager::SendTask(Worker& w, Task& task) {
  task.worker = w.number;
  task.seq = w.next_seq++;
  if (w.claims) w.claims->Offer(task.seq);
  w.in_flight.push_back(task.id);
  TaskHistory::Started(task.history, w.number, w.pid, UnixMillis());
  ExecuteMsg execute = ExecuteOf(ExecKind::kTask, task.seq, task.id, task.spec);
  if (auto g = lease_gpus_.find(w.number); g != lease_gpus_.end()) execute.gpu_ids = g->second;  // its lease's
  w.conn->Queue(execute);
}

// Ready work fits the node's free resources but no worker can take it (all
// busy or blocked in Get): start one more, up to a bound.
void NodeManager::SpawnForReadyWork(int job) {
  int starting = 0, total = 0;
  for (auto& [n, w] : workers_) {
    if (!IsPool(*w) || w->dead || w->job != job) continue;
    ++total;
    starting += !w->conn;
  }
  if (starting >= std::max(1, options_.num_workers) || total >= options_.num_workers + kMaxExtraWorkers) return;
  std::string shortage = FdShortage(kFdsPerWorker);
  if (!shortage.empty()) {
    if (!warned_fd_shortage_) std::fprintf(stderr, "lumen: not starting another worker: %s\n", shortage.c_str());
    warned_fd_shortage_ = true;
    return;
  }
  SpawnWorker(job);
}

// An idle worker while others hold tasks sent ahead: take back those not
// started (the busy worker may be running a long task, or be stopped).
// A job's tasks go only to its own workers, so stealing is per job; most
// nodes serve one, stolen for once however many of its workers idle.
void NodeManager::StealForIdleWorkers() {
  int last = -1;
  for (auto& [n, w] : workers_)
    if (!w->dead && w->conn && IsPool(*w) && w->in_flight.empty() && !w->blocked && w->job != last)
      StealFor(last = w->job);
}

void NodeManager::StealFor(int job) {
  Worker* busiest = nullptr;
  for (auto& [n, w] : workers_) {
    if (w->dead || !w->conn || !IsPool(*w) || w->job != job) continue;
    if (w->claims && w->in_flight.size() > 1 && (!busiest || w->in_flight.size() > busiest->in_flight.size()))
      busiest = w.get();
  }
  if (!busiest) return;
  while (busiest->in_flight.size() > 1) {
    auto t = tasks_.find(busiest->in_flight.back());
    if (t == tasks_.end() || !busiest->claims->Steal(t->second.seq)) break;  // started: so were those before it
    busiest->in_flight.pop_back();
    t->second.worker = -1;
    Enqueue(t->second, /*front=*/true);
  }
}

}  // namespace lumen::internal
