// The node manager's resources: what a task or actor asks for (its shape),
// whether the node can ever give it (feasibility.h) and whether it can now
// (resource_ledger.h, with the GPU ids that go with each grant). A pool worker's lease
// holds its tasks' shape while they run; an actor holds its own for its
// whole life (restarts included), on another node that has room when this
// one has none now (node_manager_peer_actors.cc), or in turn with SPREAD,
// and waits, pending, while others hold what it needs.
// Every function here REQUIRES mu_.
#include <algorithm>
#include <cstdio>

#include "node/bundle_placement.h"
#include "node/feasibility.h"
#include "node/node_manager.h"
#include "node/node_manager_records.h"
#include "node/placement_groups.h"

namespace lumen::internal {

namespace {
constexpr double kEpsilon = 1e-9;

// Zero amounts ask for nothing, as in Ray: dropped, so that asking for 0 of
// a resource the node lacks is no demand on it.
ResourceShape WithoutZeros(ResourceShape shape) {
  std::erase_if(shape, [](const auto& kv) { return kv.second <= 0; });
  return shape;
}

}  // namespace

ResourceShape NodeManager::TaskAsk(const TaskSpec& spec) {
  ResourceShape shape = spec.resources;
  if (!shape.count("CPU")) shape["CPU"] = 1;  // as Ray: a task takes one CPU unless told (CPU 0: none)
  return WithoutZeros(std::move(shape));
}

// As Ray: an actor holds what it asked for, and no CPU unless it asked (it
// has a process of its own, outside the pool the CPUs bound).
ResourceShape NodeManager::ActorAsk(const TaskSpec& factory) { return WithoutZeros(factory.resources); }

// In a placement group, what it asks for is its bundle's (bundle_placement.h).
ResourceShape NodeManager::InBundle(const TaskSpec& spec, ResourceShape ask) {
  if (spec.placement_group.empty()) return ask;
  return BundleShape(ask, spec.placement_group, spec.bundle_index);
}

std::string NodeManager::ActorWhat(const TaskSpec& factory, const ActorOptions& options) {
  return "actor '" + (options.class_name.empty() ? factory.function : options.class_name) + "'";
}

std::string NodeManager::Infeasible(const std::string& what, const ResourceShape& demand) const {
  if (options_.can_grow) {  // more may join: the demand waits instead, said once
    bool fits_here = true;
    for (const auto& [name, amount] : demand) {
      auto it = options_.resources.find(name);
      fits_here &= it != options_.resources.end() && it->second + kEpsilon >= amount;
    }
    if (!fits_here && !FitsOnAPeer(demand) && warned_waiting_.insert(what).second)
      std::fprintf(stderr, "lumen: %s waits: no node of the cluster has what it asks for yet\n", what.c_str());
    return "";
  }
  return InfeasibleDemand(what, demand, options_.resources, kEmbeddedCluster);
}

// Why the node can never run this (a node or bundle it cannot have, more
// than the cluster has in all), or kNone.
ObjectError NodeManager::FeasibilityError(const TaskSpec& spec, const std::string& what,
                                          const ResourceShape& demand) const {
  if (!spec.node_affinity.empty() && !spec.node_affinity_soft && !HasNodeNamed(spec.node_affinity))
    return {ErrorKind::kBadCall,
            what + " must run on node '" + spec.node_affinity + "', which is not in this cluster (its node: '" +
                options_.node_name + "'); use NodeAffinity(node, /*soft=*/true) to prefer it instead",
            ""};
  if (!spec.placement_group.empty()) {  // its group's bundle bounds it, not the cluster's totals
    if (ended_groups_.count(spec.placement_group))
      return {ErrorKind::kBadCall, what + " names placement group " + spec.placement_group + ", which was removed", ""};
    if (!options_.placement_groups) return {};  // the head checked it
    std::string why = options_.placement_groups->CheckRequest(spec.placement_group, spec.bundle_index, demand);
    if (!why.empty()) return {ErrorKind::kBadCall, what + " " + why, ""};
    return {};
  }
  std::string infeasible = Infeasible(what, demand);
  if (!infeasible.empty()) return {ErrorKind::kInfeasible, infeasible, ""};
  return {};
}

ObjectError NodeManager::SubmitRefusal(const TaskSpec& spec) const {
  if (!spec.actor.IsNil()) return {};  // a method call holds nothing: its actor does
  return FeasibilityError(spec, "task '" + spec.name + "'", TaskAsk(spec));
}

void NodeManager::StartActorWhenItFits(ActorState& a) {
  if (!a.holds_resources) {
    ResourceShape shape = ActorShapeOf(a.creation);
    // Refused at creation already; this catches an actor restored from the
    // log of a larger cluster, which would otherwise wait forever.
    ObjectError refused = FeasibilityError(a.creation, ActorWhat(a.creation, a.options), ActorAsk(a.creation));
    if (refused.kind != ErrorKind::kNone) return ActorIsDead(a, "it cannot be placed: " + refused.message);
    // Bound to another node by name: there when it has room; hard, nowhere
    // else (it waits for room there, and dies once that node is gone).
    const TaskSpec& spec = a.creation;
    // In a placement group: on its bundle's node, once the group is placed.
    if (!spec.placement_group.empty() && options_.placement_groups) {
      std::string node = NodeOfBundle(spec);
      Peer* there = node.empty() || node == options_.node_name ? nullptr : LivePeerNamed(node);
      if (there && FitsIn(there->available, shape) && PlaceActorOnPeer(a, shape, there)) return;
      if (node.empty() || there) {
        if (std::find(actors_waiting_.begin(), actors_waiting_.end(), a.id) == actors_waiting_.end())
          actors_waiting_.push_back(a.id);
        return;
      }
    }
    if (!spec.node_affinity.empty() && spec.node_affinity != options_.node_name) {
      Peer* there = LivePeerNamed(spec.node_affinity);
      if (!there && !spec.node_affinity_soft)
        return ActorIsDead(a, "it must run on node '" + spec.node_affinity + "', which is no longer in the cluster");
      if (there && FitsIn(there->available, shape) && PlaceActorOnPeer(a, shape, there)) return;
      if (!spec.node_affinity_soft) {
        if (std::find(actors_waiting_.begin(), actors_waiting_.end(), a.id) == actors_waiting_.end())
          actors_waiting_.push_back(a.id);
        return;
      }
    }
    // SPREAD: the next node in turn that has room, as for tasks (node_manager_routing.cc).
    Peer* there = nullptr;
    size_t next_turn = spread_turn_;
    if (spec.spread && spec.placement_group.empty() && !peers_.empty() &&
        SpreadTurn(shape, &there, &next_turn, [&](Peer& p) { return PlaceActorOnPeer(a, shape, &p); })) {
      spread_turn_ = next_turn;
      if (there) return;  // placed there; else here, below
    }
    if (!resources_.Fits(shape)) {
      if (PlaceActorOnPeer(a, shape)) return;  // a node with room hosts it
      if (std::find(actors_waiting_.begin(), actors_waiting_.end(), a.id) == actors_waiting_.end())
        actors_waiting_.push_back(a.id);
      return;
    }
    a.gpus = resources_.Take(shape);
    a.held = std::move(shape);
    a.holds_resources = true;
  }
  SpawnWorker(a.job, a.id);
}

// Actors waiting for resources others held, first come first served, each
// started as soon as what it needs is free.
void NodeManager::StartWaitingActors() {
  std::deque<ActorID> waiting = std::exchange(actors_waiting_, {});
  for (const ActorID& id : waiting) {
    auto a = actors_.find(id);
    if (a == actors_.end() || a->second.state == ActorState::kDead) continue;
    StartActorWhenItFits(a->second);
  }
}

void NodeManager::ReleaseActorResources(ActorState& a) {
  std::erase(actors_waiting_, a.id);
  if (!a.holds_resources) return;
  resources_.GiveBack(a.held, a.gpus);
  a.holds_resources = false;
  a.held.clear();
  a.gpus.clear();
}

}  // namespace lumen::internal
