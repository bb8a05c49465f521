// The cluster's placement groups: bundles of resources reserved out of the
// node's totals. A group is CREATED when all its bundles fit next to those
// already reserved, PENDING until then (re-tried whenever a group is removed).
// A group that could never fit, even alone, is refused at Create on a
// cluster that cannot grow (feasibility.h), as tasks and actors are.
//
// Over a lineage log, each group is recorded when created and again when
// removed, and Restore (at a cluster's start) brings back every group of an
// earlier run under its id and name: those not removed are reserved again,
// first created first placed; removed ones answer ById as REMOVED.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lumen/placement_group.h"
#include "lumen/storage/lineage_log.h"

namespace lumen::internal {

class PlacementGroupTable {
 public:
  // can_grow: as NodeOptions::can_grow (a group too big waits instead).
  // `log` (may be null: lineage off) outlives the table.
  explicit PlacementGroupTable(std::map<std::string, double> node_resources, bool can_grow = false,
                               storage::LineageLog* log = nullptr)
      : node_(std::move(node_resources)), can_grow_(can_grow), log_(log) {}

  // The groups the log holds, before any Create. A group that can never fit
  // this cluster stays PENDING (said on stderr): it is not dropped.
  void Restore();

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
    uint64_t created_ms = 0;  // recorded with it: the order a later cluster places restored groups in
  };
  void PlacePending();  // REQUIRES mu_
  void Record(const std::string& id, const Group& group);  // REQUIRES mu_
  bool Fits(const PlacementGroupCreationOptions& options) const;
  std::string Infeasible(const PlacementGroupCreationOptions& options) const;

  std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, double> node_;
  bool can_grow_;
  storage::LineageLog* log_;
  std::map<std::string, double> reserved_;
  std::map<std::string, Group> groups_;  // by id, in creation order of ids
  std::vector<std::string> order_;       // pending groups are placed first come, first served
};

// The embedded cluster's table; lumen::Error outside a driver.
PlacementGroupTable& PlacementGroups();  // defined by the driver

}  // namespace lumen::internal
