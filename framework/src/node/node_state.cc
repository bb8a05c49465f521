// The node as the dashboard and the CLI see it: a copy of its records,
// taken under the node's lock and rendered as head/cluster_state.h's plain
// structs, and its counters for tests and lessons.
#include <algorithm>

#include "node/node_manager.h"
#include "node/node_manager_records.h"
#include "node/placement_groups.h"
#include "runtime/deadline.h"

namespace lumen::internal {
namespace {

const char* StrategyName(PlacementStrategy s) {
  switch (s) {
    case PlacementStrategy::PACK: return "PACK";
    case PlacementStrategy::SPREAD: return "SPREAD";
    case PlacementStrategy::STRICT_PACK: return "STRICT_PACK";
    case PlacementStrategy::STRICT_SPREAD: return "STRICT_SPREAD";
  }
  return "PACK";
}

// Objects beyond this many are left out of a snapshot (counted in the store
// figures still): the page pages through them, it need not hold millions.
constexpr size_t kMaxObjects = 100000;

}  // namespace

NodeManager::Load NodeManager::GetLoad() {
  std::lock_guard lock(mu_);
  return LoadLocked();
}

// Its own processes only: drivers, registered nodes and links to other
// nodes are connections, not workers; a task sent over a link runs there.
NodeManager::Load NodeManager::LoadLocked() const {
  Load load;
  for (const auto& [n, w] : workers_) load.workers += !w->dead && !w->driver && !w->peer_link;
  for (const auto& [id, t] : tasks_) {
    if (t.history.state != TaskHistory::State::kRunning) continue;
    auto w = workers_.find(t.history.worker);
    load.running_tasks += w != workers_.end() && !w->second->peer_link;
  }
  return load;
}

head::ClusterSnapshot NodeManager::Snapshot() {
  head::ClusterSnapshot snap;
  std::vector<PlacementGroup> groups;
  if (options_.placement_groups) groups = options_.placement_groups->All();  // its own lock: not under mu_
  std::unique_lock lock(mu_);
  std::vector<std::pair<size_t, std::shared_ptr<StoreStatsProbe>>> stores;  // asked once unlocked
  head::NodeState& node = snap.nodes.emplace_back();
  node.node_id = options_.node_name;
  node.address = options_.serve_drivers ? socket_path_ : "embedded";
  node.is_head = true;
  node.resources_total = options_.resources;
  for (const auto& [name, total] : options_.resources) {
    auto free = resources_.available().find(name);
    node.resources_used[name] = total - (free == resources_.available().end() ? 0 : free->second);
  }
  Load here = LoadLocked();
  node.workers = static_cast<int>(here.workers);
  node.running_tasks = static_cast<int>(here.running_tasks);
  for (const auto& [id, peer] : peers_) {  // as this node sees them: what its tasks hold there
    if (peer.dead) continue;                // listed below, with the nodes that left
    head::NodeState& other = snap.nodes.emplace_back();
    other.node_id = peer.name;
    other.address = peer.node_socket;
    other.resources_total = peer.total;
    other.joined_ms = peer.joined_ms;
    other.workers = static_cast<int>(peer.load.workers);
    other.running_tasks = static_cast<int>(peer.load.running_tasks);
    stores.emplace_back(snap.nodes.size() - 1, peer.stats);
    for (const auto& [name, total] : peer.total) {
      auto free = peer.available.find(name);
      other.resources_used[name] = total - (free == peer.available.end() ? 0 : free->second);
    }
  }
  for (const DeadNodes::Node& dead : dead_nodes_.All()) {  // when and why each left; they hold nothing now
    head::NodeState& other = snap.nodes.emplace_back();
    other.node_id = dead.name;
    other.address = dead.address;
    other.state = "dead";
    other.resources_total = dead.resources;
    other.joined_ms = dead.joined_ms;
    other.left_ms = dead.left_ms;
    other.death_cause = dead.why;
    other.earlier_run = dead.earlier_run;
  }
  // The earlier run's members not back yet: listed as dead at the deadline unless they register again.
  auto left = std::max(dead_nodes_.rejoin_deadline() - std::chrono::steady_clock::now(),
                       std::chrono::steady_clock::duration::zero());
  uint64_t until = UnixMillis() + std::chrono::duration_cast<std::chrono::milliseconds>(left).count();
  for (const DeadNodes::Node& awaited : dead_nodes_.Awaited()) {
    head::NodeState& other = snap.nodes.emplace_back();
    other.node_id = awaited.name;
    other.address = awaited.address;
    other.state = "awaited";
    other.resources_total = awaited.resources;
    other.joined_ms = awaited.joined_ms;
    other.earlier_run = true;
    other.awaited_until_ms = until;
  }

  std::vector<const TaskHistory::Record*> live;
  live.reserve(tasks_.size());
  for (const auto& [id, t] : tasks_)
    if (!t.history.ended) live.push_back(&t.history);
  snap.tasks = history_.Render(live);
  for (head::TaskState& t : snap.tasks) {
    if (t.worker < 0) continue;
    if (t.node_id.empty()) t.node_id = options_.node_name;  // it ran here
    else t.worker_pid = 0;  // it was sent to another node (named by its record): in no process of ours
  }

  for (const auto& [id, a] : actors_) {
    head::ActorState& out = snap.actors.emplace_back();
    out.actor_id = id.Hex();
    out.class_name = a.options.class_name.empty() ? a.creation.function : a.options.class_name;
    out.name = a.options.name;
    out.ray_namespace = a.options.ns;
    out.state = storage::ActorStateName(StoredState(a));
    out.restarts = a.restarts;
    out.max_restarts = a.options.max_restarts;
    out.death_cause = a.death_cause.empty() ? a.last_exit : a.death_cause;
    out.node_id = a.peer >= 0 ? PeerName(a.peer) : options_.node_name;  // where it lives
    out.worker = a.worker;
    if (auto w = workers_.find(a.worker); w != workers_.end()) out.pid = w->second->pid;
  }

  for (const auto& [id, e] : objects_) {
    if (snap.objects.size() >= kMaxObjects) break;
    head::ObjectState& out = snap.objects.emplace_back();
    out.object_id = id.Hex();
    out.size_bytes = e.size;
    out.node_id = options_.node_name;
    out.ref_count = static_cast<int>(e.refs);
    out.pinned = e.refs > 0;
    switch (e.state) {
      case Entry::kPending: out.state = "pending"; out.where = ""; break;
      case Entry::kReady: out.state = "ready"; out.where = e.in_store ? "store" : "inline"; break;
      case Entry::kFailed: out.state = "failed"; out.where = ""; break;
      case Entry::kLost: out.state = "lost"; out.where = "lost"; break;
    }
    out.task_id = id.Task().Hex();  // a Put's is its one-off put task
  }

  for (const PlacementGroup& g : groups) {
    head::PlacementGroupState& out = snap.placement_groups.emplace_back();
    out.placement_group_id = g.GetID();
    out.name = g.GetName();
    out.strategy = StrategyName(g.GetStrategy());
    PlacementGroupState state = options_.placement_groups->State(g.GetID());
    out.state = state == PlacementGroupState::CREATED ? "created" : state == PlacementGroupState::REMOVED ? "removed" : "pending";
    for (const auto& bundle : g.GetBundles()) out.bundles.push_back({bundle, options_.node_name});
  }

  if (logs_) {
    for (const LogRelay::Log& log : logs_->Logs()) {
      head::WorkerLog& out = snap.logs.emplace_back();
      out.worker = std::to_string(log.worker);
      out.node_id = options_.node_name;
      out.pid = log.pid;
      out.path = log.path;
      out.alive = log.open;
      if (auto w = workers_.find(log.worker); w != workers_.end() && !w->second->actor.IsNil())
        out.actor_id = w->second->actor.Hex();
    }
  }
  snap.counters.tasks_by_state = history_.Totals(live);
  snap.counters.worker_deaths = deaths_seen_by_caf_ + deaths_seen_by_reaping_;
  snap.counters.object_rebuilds = rebuild_stats_.tasks;
  for (const auto& [id, a] : actors_) snap.counters.actor_restarts += a.restarts;
  lock.unlock();
  // Its store server's answer, bounded: a stopped node's never comes (then its last figures).
  for (const auto& [index, probe] : stores) {
    storage::StoreStats stats = probe->Get(std::chrono::milliseconds(200));
    head::NodeState& other = snap.nodes[index];
    other.store_used_bytes = stats.used_bytes;
    other.store_capacity_bytes = stats.capacity_bytes;
    other.store_objects = stats.num_objects;
  }
  return snap;
}

NodeManager::Counters NodeManager::GetCounters() {
  std::lock_guard lock(mu_);
  Counters c;
  for (auto& [n, w] : workers_)
    if (!w->dead && w->conn) c.worker_pids.push_back(w->pid);
  c.num_objects = objects_.size();
  c.deaths_seen_by_caf = deaths_seen_by_caf_;
  c.deaths_seen_by_reaping = deaths_seen_by_reaping_;
  c.objects_evicted = rebuild_stats_.evicted;
  c.tasks_rebuilt = rebuild_stats_.tasks;
  c.supervisor_port = supervisor_port_;
  return c;
}

}  // namespace lumen::internal
