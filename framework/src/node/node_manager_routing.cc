// Where a ready task goes among the cluster's nodes, by its scheduling
// strategy (the default, SPREAD, node affinity), before this node's workers
// are asked:
//   - node affinity to another node: there, when it has room now; hard:
//     else it waits for room there, and fails (InfeasibleError) once that
//     node is gone; soft: else as the default;
//   - node affinity to this node: here (hard or soft);
//   - SPREAD: the next node in turn that has room now (this one, then the
//     live peers by id), so consecutive tasks land on different nodes;
//   - in a placement group: where its bundle is (the bundle's resources are
//     there alone; a task asking for nothing is sent there);
//   - default: here, and to a peer only when this node has no room now
//     (Dispatch: spill-back), the one holding most of its arguments' bytes
//     already if it has room (PeerForTask).
// Every function here REQUIRES mu_.
#include "node/feasibility.h"
#include "node/node_manager.h"
#include "node/node_manager_records.h"

namespace lumen::internal {

NodeManager::Peer* NodeManager::LivePeerNamed(const std::string& name) {
  for (auto& [id, peer] : peers_)
    if (!peer.dead && peer.name == name) return &peer;
  return nullptr;
}

bool NodeManager::HasNodeNamed(const std::string& name) const {
  if (name == options_.node_name) return true;
  for (const auto& [id, peer] : peers_)
    if (!peer.dead && peer.name == name) return true;
  return false;
}

NodeManager::Route NodeManager::RouteOf(const Task& task, const ResourceShape& shape, Peer** peer, std::string* why,
                                        size_t* next_turn) {
  const TaskSpec& spec = task.spec;
  *next_turn = spread_turn_;
  // In a group, asking for nothing (CPU 0): where its bundle is, once placed
  // (what asks for something asks for the bundle's own resources, which
  // only its node has).
  if (!spec.placement_group.empty() && shape.empty() && options_.placement_groups) {
    std::string node = NodeOfBundle(spec);
    if (node == options_.node_name) return Route::kHere;
    *peer = node.empty() ? nullptr : LivePeerNamed(node);
    return *peer ? Route::kPeer : Route::kHold;
  }
  if (!spec.node_affinity.empty()) {
    if (spec.node_affinity == options_.node_name) return Route::kHere;
    if (Peer* named = LivePeerNamed(spec.node_affinity)) {
      if (FitsIn(named->available, shape)) {
        *peer = named;
        return Route::kPeer;
      }
      if (!spec.node_affinity_soft) return Route::kHold;
    } else if (!spec.node_affinity_soft) {
      *why = "task '" + spec.name + "' must run on node '" + spec.node_affinity +
             "', which is no longer in the cluster; use NodeAffinity(node, /*soft=*/true) to prefer it instead";
      return Route::kNowhere;
    }
    return Route::kHere;  // soft: as the default
  }
  if (!spec.spread) return Route::kHere;
  // No room anywhere now: it waits here as any task.
  return SpreadTurn(shape, peer, next_turn) && *peer ? Route::kPeer : Route::kHere;
}

bool NodeManager::SpreadTurn(const ResourceShape& shape, Peer** peer, size_t* next_turn,
                             const std::function<bool(Peer&)>& take) {
  std::vector<Peer*> live;
  for (auto& [id, p] : peers_)
    if (!p.dead) live.push_back(&p);
  for (size_t k = 0, nodes = live.size() + 1; k < nodes; ++k) {
    size_t turn = (spread_turn_ + k) % nodes;
    Peer* there = turn == 0 ? nullptr : live[turn - 1];
    if (there ? !FitsIn(there->available, shape) || (take && !take(*there)) : !resources_.Fits(shape)) continue;
    *peer = there;
    *next_turn = turn + 1;
    return true;
  }
  return false;
}

NodeManager::Peer* NodeManager::PeerWithRoom(const ResourceShape& shape, int avoid) {
  Peer* best = nullptr;
  auto cpu = [](const Peer& p) { auto it = p.available.find("CPU"); return it == p.available.end() ? 0.0 : it->second; };
  for (auto& [id, peer] : peers_)
    if (!peer.dead && id != avoid && FitsIn(peer.available, shape) && (!best || cpu(peer) > cpu(*best))) best = &peer;
  return best;
}

// Where a task that does not fit here goes: the peer with room that holds
// the most bytes of its by-reference arguments already (copies handed over
// for earlier tasks: nothing to copy again), else the one with the most
// free CPU.
NodeManager::Peer* NodeManager::PeerForTask(const TaskSpec& spec, const ResourceShape& shape) {
  std::map<int, uint64_t> held;  // peer id -> bytes of the arguments it holds
  for (const TaskArg& arg : spec.args) {
    auto e = arg.by_ref ? objects_.find(arg.ref) : objects_.end();
    if (e == objects_.end()) continue;
    for (int link : e->second.peer_links)
      if (Worker* w = ClientByNumber(link)) held[w->peer] += e->second.size;
  }
  Peer* best = nullptr;
  uint64_t most = 0;
  for (const auto& [id, bytes] : held) {
    auto p = peers_.find(id);
    if (p == peers_.end() || p->second.dead || !FitsIn(p->second.available, shape) || bytes <= most) continue;
    best = &p->second;
    most = bytes;
  }
  return best ? best : PeerWithRoom(shape);
}

}  // namespace lumen::internal
