// The cluster's placement groups: bundles of resources reserved out of the
// node's totals. A group is CREATED when all its bundles fit next to those
// already reserved, PENDING until then (re-tried whenever a group is removed).
// A group that could never fit, even alone, is refused at Create on a
// cluster that cannot grow (feasibility.h), as tasks and actors are.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lumen/placement_group.h"

namespace lumen::internal {

class PlacementGroupTable {
 public:
  // can_grow: as NodeOptions::can_grow (a group too big waits instead).
  explicit PlacementGroupTable(std::map<std::string, double> node_resources, bool can_grow = false)
      : node_(std::move(node_resources)), can_grow_(can_grow) {}

  // lumen::Error for a duplicate name, no bundles, a bundle asking for
  // nothing or a bad amount (zero amounts are dropped, as in Ray);
  // InfeasibleError for a group the cluster can never place.
  PlacementGroup Create(const PlacementGroupCreationOptions& options);
  void Remove(const std::string& id);
  PlacementGroupState State(const std::string& id);
  bool Wait(const std::string& id, int timeout_seconds);
  std::optional<PlacementGroup> ByName(const std::string& name);
  std::optional<PlacementGroup> ById(const std::string& id);
  std::vector<PlacementGroup> All();
  // "" if a task or actor asking for `resources` may use bundle `index` of
  // group `id`; otherwise why not.
  std::string CheckRequest(const std::string& id, int index, const std::map<std::string, double>& resources);

 private:
  struct Group {
    PlacementGroup group;
    PlacementGroupState state = PlacementGroupState::PENDING;
  };
  void PlacePending();  // REQUIRES mu_
  bool Fits(const PlacementGroupCreationOptions& options) const;
  std::string Infeasible(const PlacementGroupCreationOptions& options) const;

  std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, double> node_;
  bool can_grow_;
  std::map<std::string, double> reserved_;
  std::map<std::string, Group> groups_;  // by id, in creation order of ids
  std::vector<std::string> order_;       // pending groups are placed first come, first served
};

// The embedded cluster's table; lumen::Error outside a driver.
PlacementGroupTable& PlacementGroups();  // defined by the driver

}  // namespace lumen::internal
