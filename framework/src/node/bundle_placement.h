// Placement groups' bundles on the cluster's nodes, as Ray does it:
//  - where each bundle of a group goes, by its strategy (PlanBundles);
//  - what a reserved bundle turns into on its node: its resources leave the
//    node's pool and come back under names of the group's own, one set per
//    bundle ("CPU_group_1_<id>") and one for any of its bundles
//    ("CPU_group_<id>"), so a task or actor of the group asks for those
//    (BundleShape) and the scheduler, the leases and the routing to a node
//    need nothing else: only the node holding the bundle has them.
// Pure functions, no lock.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lumen/placement_group.h"

namespace lumen::internal {

using BundleResources = std::map<std::string, double>;

// The resources a bundle adds to its node once reserved (both names of each).
BundleResources ReservedAs(const BundleResources& bundle, const std::string& group, int index);

// What a task or actor of `group` asks its node for: `shape`'s resources of
// bundle `index`, or of any of the group's bundles (index -1).
BundleResources BundleShape(const BundleResources& shape, const std::string& group, int index);

// The name `resource` takes in bundle `index` of `group` (-1: in any of its bundles).
std::string BundleResourceName(const std::string& resource, const std::string& group, int index);

// Whether `name` is one of a group's resources (ReservedAs), of any group.
bool IsBundleResource(const std::string& name);

struct NodeRoom {
  std::string name;
  BundleResources available;  // free now, as far as the planner knows
};

// The node (an index into `nodes`) of each bundle, or nullopt if the
// strategy cannot be met with what is free now. `fixed[i]` >= 0: bundle i
// is there already (kept; only the others are placed). In `nodes`' order
// where the strategy leaves a choice:
//   STRICT_PACK   every bundle on one node;
//   PACK          on as few nodes as they fit on, one if they can;
//   STRICT_SPREAD every bundle on a node of its own;
//   SPREAD        on nodes of their own where they fit, else anywhere.
std::optional<std::vector<int>> PlanBundles(PlacementStrategy strategy, const std::vector<BundleResources>& bundles,
                                            const std::vector<NodeRoom>& nodes, const std::vector<int>& fixed = {});

}  // namespace lumen::internal
