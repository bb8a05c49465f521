// Placement groups' bundles on the cluster's nodes.
//
// The head's node places every group (PlaceGroups, at each turn of its I/O
// loop when the table changed, and every 100 ms while a group waits for
// room): it plans where each bundle goes by the group's strategy and what
// each node has free now (bundle_placement.h), then reserves in two phases
// so that a group holds all its bundles or none:
//   1. prepare: each node chosen takes the bundles' resources out of its
//      pool, if it still has them (a node's own tasks may have taken them
//      meanwhile), and says so: this node at once, the others over the
//      connection they registered over (PrepareBundles, answered);
//   2. commit, once every node said yes: each offers its bundles under the
//      group's names (CommitBundles), and the group is CREATED. If any said
//      no (or left), every node of the round gives back what it took
//      (ReturnBundles) and the group waits for the next try.
// A group removed gives its bundles back everywhere, and what ran in them
// ends: its actors die, its tasks are cancelled (running ones' workers are
// killed). A node that dies takes its bundles with it: their group is
// PENDING again until they are reserved on other nodes, the others kept.
// Every function here REQUIRES mu_ but the public ones, which take it.
#include <algorithm>
#include <cstdio>
#include <utility>

#include "node/bundle_placement.h"
#include "node/feasibility.h"
#include "node/node_manager.h"
#include "node/node_manager_records.h"
#include "node/placement_groups.h"

namespace lumen::internal {

namespace {
constexpr auto kRetryEvery = std::chrono::milliseconds(100);

ResourceShape SumOf(const std::vector<std::map<std::string, double>>& bundles, const std::vector<int32_t>& indices) {
  ResourceShape sum;
  for (int32_t i : indices)
    for (const auto& [name, amount] : bundles[i]) sum[name] += amount;
  return sum;
}

}  // namespace

// ---- the head's node: placing groups --------------------------------------

void NodeManager::PlaceGroups() {
  PlacementGroupTable* table = options_.placement_groups;
  if (!table) return;
  next_placement_ = Clock::time_point::max();
  for (const std::string& id : table->TakeRemoved())  // removed before it was ever seen here
    if (!placed_.count(id)) EndGroupWork(id);
  for (auto it = placed_.begin(); it != placed_.end();) {  // removed: their bundles go back
    if (!it->second.awaiting.empty() || table->State(it->first) != PlacementGroupState::REMOVED) {
      ++it;
      continue;
    }
    GiveBackGroup(it->second);
    EndGroupWork(it->first);
    it = placed_.erase(it);
  }
  for (const PlacementGroup& group : table->Pending()) {
    auto [it, added] = placed_.try_emplace(group.GetID());
    PlacedGroup& g = it->second;
    if (added) {
      g.group = group;
      g.nodes.assign(group.GetBundles().size(), "");
    }
    if (!g.awaiting.empty()) continue;  // a round in flight
    if (!StartRound(g)) next_placement_ = Clock::now() + kRetryEvery;
  }
}

// Plans the group's bundles not placed yet and prepares them; false if
// they do not fit the cluster's free resources now.
bool NodeManager::StartRound(PlacedGroup& g) {
  const auto& bundles = g.group.GetBundles();
  std::vector<NodeRoom> rooms{{options_.node_name, resources_.available()}};
  for (const auto& [id, peer] : peers_)
    if (!peer.dead) rooms.push_back({peer.name, peer.available});
  std::vector<int> fixed(bundles.size(), -1);
  for (size_t i = 0; i < bundles.size(); ++i)
    for (size_t k = 0; k < rooms.size(); ++k)
      if (rooms[k].name == g.nodes[i]) fixed[i] = static_cast<int>(k);
  std::optional<std::vector<int>> plan = PlanBundles(g.group.GetStrategy(), bundles, rooms, fixed);
  if (!plan) return false;
  std::map<std::string, PrepareBundlesMsg> asks;  // by node
  for (size_t i = 0; i < bundles.size(); ++i) {
    if (fixed[i] >= 0) continue;
    const std::string& node = rooms[(*plan)[i]].name;
    g.preparing[static_cast<int>(i)] = node;
    PrepareBundlesMsg& ask = asks[node];
    ask.group = g.group.GetID();
    ask.bundles.emplace_back(static_cast<int32_t>(i), bundles[i]);
  }
  for (auto& [node, ask] : asks) {
    if (node == options_.node_name) {
      if (!HoldBundles(ask).empty()) g.refused = true;  // its GPU ids, split between bundles
      continue;
    }
    Peer* peer = LivePeerNamed(node);
    ask.request = next_prepare_++;
    prepares_[ask.request] = ask.group;
    ResourceShape sum;
    for (const auto& [index, resources] : ask.bundles) AddResources(sum, resources, 1);
    AddResources(peer->available, sum, -1);  // as the head sees it, until the node answers
    g.awaiting.insert(peer->id);
    SendToNode(node, ask);
  }
  if (g.awaiting.empty()) EndRound(g);
  return true;
}

void NodeManager::OnPrepared(Worker& node, const PrepareBundlesReplyMsg& m) {
  auto ask = prepares_.find(m.request);
  if (ask == prepares_.end()) return;
  auto g = placed_.find(ask->second);
  prepares_.erase(ask);
  if (g == placed_.end() || !g->second.awaiting.erase(node.peer)) return;
  if (!m.error.empty()) {
    g->second.refused = true;
    std::fprintf(stderr, "lumen: placement group %s: node '%s' could not hold its bundles: %s; trying again\n",
                 g->first.c_str(), PeerName(node.peer).c_str(), m.error.c_str());
  }
  if (g->second.awaiting.empty()) EndRound(g->second);
}

// Every node of the round answered: commit all, or give all back.
void NodeManager::EndRound(PlacedGroup& g) {
  const std::string& id = g.group.GetID();
  const auto& bundles = g.group.GetBundles();
  std::map<std::string, std::vector<int32_t>> by_node;
  for (const auto& [index, node] : g.preparing) by_node[node].push_back(index);
  bool removed = options_.placement_groups->State(id) == PlacementGroupState::REMOVED;
  bool commit = !g.refused && !removed;
  for (const auto& [node, indices] : by_node) {
    ResourceShape sum = SumOf(bundles, indices), reserved;
    for (int32_t i : indices) AddResources(reserved, ReservedAs(bundles[i], id, i), 1);
    if (node == options_.node_name) {
      commit ? CommitHeld(id, indices) : ReturnHeld(id, indices);
      continue;
    }
    Peer* peer = LivePeerNamed(node);
    if (!peer) continue;  // gone: the round was refused, and it took what it held along
    if (commit) {
      AddResources(peer->available, reserved, 1);
      SendToNode(node, CommitBundlesMsg{id, indices});
    } else {
      AddResources(peer->available, sum, 1);
      SendToNode(node, ReturnBundlesMsg{id, indices, false});
    }
  }
  if (commit)
    for (const auto& [index, node] : g.preparing) g.nodes[index] = node;
  g.preparing.clear();
  g.refused = false;
  if (commit) {
    // Every bundle placed (a round places all those not placed yet).
    options_.placement_groups->MarkCreated(id);  // false if removed since: PlaceGroups gives it back
    Wake();  // what waited for the bundles is dispatched at once
  } else if (!removed) {
    next_placement_ = std::min(next_placement_, Clock::now() + kRetryEvery);
  }
}

void NodeManager::SendToNode(const std::string& node, const Message& m) {
  Peer* peer = LivePeerNamed(node);
  if (Worker* w = peer ? ClientByNumber(peer->client) : nullptr; w && w->conn) w->conn->Queue(m);
}

// A removed group's bundles, wherever they are.
void NodeManager::GiveBackGroup(PlacedGroup& g) {
  const std::string& id = g.group.GetID();
  const auto& bundles = g.group.GetBundles();
  std::map<std::string, std::vector<int32_t>> by_node;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!g.nodes[i].empty()) by_node[g.nodes[i]].push_back(static_cast<int32_t>(i));
  for (const auto& [node, indices] : by_node) {
    if (node == options_.node_name) {
      ReturnHeld(id, indices);
      continue;
    }
    Peer* peer = LivePeerNamed(node);
    if (!peer) continue;
    for (int32_t i : indices) AddResources(peer->available, ReservedAs(bundles[i], id, i), -1);
    AddResources(peer->available, SumOf(bundles, indices), 1);
    SendToNode(node, ReturnBundlesMsg{id, indices, true});
  }
  g.nodes.assign(g.nodes.size(), "");
}

// A peer left: its bundles go again elsewhere, and a round waiting for its
// answer is refused.
void NodeManager::BundlesLostWith(const Peer& peer) {
  for (auto& [id, g] : placed_) {
    bool lost = false;
    for (std::string& node : g.nodes)
      if (node == peer.name) node.clear(), lost = true;
    if (lost) {
      options_.placement_groups->MarkPending(id);
      std::fprintf(stderr, "lumen: placement group %s lost bundles with node '%s': placing them again\n", id.c_str(),
                   peer.name.c_str());
      groups_changed_ = true;
    }
    if (g.awaiting.erase(peer.id)) {
      g.refused = true;
      if (g.awaiting.empty()) EndRound(g);
    }
  }
}

std::string NodeManager::NodeOfBundle(const TaskSpec& spec) const {
  auto g = placed_.find(spec.placement_group);
  if (g == placed_.end()) return "";
  if (spec.bundle_index >= 0)
    return static_cast<size_t>(spec.bundle_index) < g->second.nodes.size() ? g->second.nodes[spec.bundle_index] : "";
  for (const std::string& node : g->second.nodes)  // any bundle: the first placed
    if (!node.empty()) return node;
  return "";
}

// ---- every node: the bundles it holds -----------------------------------

std::optional<Message> NodeManager::OnBundleCommand(const Message& command) {
  std::optional<Message> reply;
  {
    Unlocker locked(this);
    if (auto* m = std::get_if<PrepareBundlesMsg>(&command)) {
      reply = PrepareBundlesReplyMsg{m->request, HoldBundles(*m)};
    } else if (auto* m = std::get_if<CommitBundlesMsg>(&command)) {
      CommitHeld(m->group, m->indices);
    } else if (auto* m = std::get_if<ReturnBundlesMsg>(&command)) {
      ReturnHeld(m->group, m->indices);
      if (m->removed) EndGroupWork(m->group);
    }
    Dispatch();
    FlushWrites();
  }
  return reply;
}

void NodeManager::ReturnAllBundles() {
  Unlocker locked(this);
  const std::vector<std::string> groups = resources_.HeldGroups();
  for (const std::string& group : groups) {
    ReturnHeld(group, {});
    EndGroupWork(group);
  }
  if (!groups.empty())
    std::fprintf(stderr, "lumen: gave back the bundles of %zu placement groups: the head that placed them is gone\n",
                 groups.size());
}

std::string NodeManager::HoldBundles(const PrepareBundlesMsg& m) {
  ResourceShape asked;
  if (resources_.Hold(m.group, m.bundles, &asked)) return "";
  return "node '" + options_.node_name + "' has not " + FormatResources(asked) + " free now";
}

void NodeManager::CommitHeld(const std::string& group, const std::vector<int32_t>& indices) {
  resources_.Commit(group, indices);
}

// Empty `indices`: every bundle of the group this node holds.
void NodeManager::ReturnHeld(const std::string& group, const std::vector<int32_t>& indices) {
  resources_.Return(group, indices);
}

// A removed group's actors die and its tasks are cancelled; a running
// one's worker is killed, since the resources it runs on went back.
void NodeManager::EndGroupWork(const std::string& group) {
  ended_groups_.insert(group);
  const std::string why = "its placement group " + group + " was removed";
  std::vector<ActorID> actors;
  for (const auto& [id, a] : actors_)
    if (a.creation.placement_group == group && a.state != ActorState::kDead) actors.push_back(id);
  for (const ActorID& id : actors) KillActorLocked(id, /*no_restart=*/true, why);
  std::vector<TaskID> tasks;
  for (const auto& [id, t] : tasks_)
    if (t.spec.placement_group == group && t.spec.actor.IsNil() && !t.cancelled) tasks.push_back(id);
  for (const TaskID& id : tasks) {
    auto t = tasks_.find(id);
    if (t == tasks_.end()) continue;
    int worker = t->second.worker;
    CancelTask(t->second, "task '" + t->second.spec.name + "' was cancelled: " + why);
    // A worker of ours; a task sent to a peer is ended there (ReturnBundles).
    Worker* w = worker >= 0 ? ClientByNumber(worker) : nullptr;
    if (w && !w->peer_link && !w->driver) CloseConnection(*w);
  }
}

}  // namespace lumen::internal
