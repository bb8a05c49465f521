// The cluster's placement groups: their directory (ids, names, bundles,
// strategies, states), kept where the cluster's head is. A group is PENDING
// until the head's node manager has reserved all its bundles on the
// cluster's nodes (node_manager_bundles.cc, two-phase), CREATED then, and
// PENDING again if a node holding one of its bundles dies, until that
// bundle is reserved elsewhere. A group that could never fit, even alone,
// is refused at Create on a cluster that cannot grow (feasibility.h), as
// tasks and actors are.
//
// Over a lineage log, each group is recorded when created and again when
// removed, and Restore (at a cluster's start) brings back every group of an
// earlier run under its id and name: those not removed are PENDING (placed
// again, first created first placed); removed ones answer ById as REMOVED.
#pragma once

#include <condition_variable>
#include <functional>
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
  // group `id` (-1: any of its bundles); otherwise why not.
  std::string CheckRequest(const std::string& id, int index, const std::map<std::string, double>& resources);

  // For the node manager that places the groups. `on_change` is called
  // after a Create, Remove or Restore, with no lock of the table's held.
  void SetOnChange(std::function<void()> on_change);
  // The PENDING groups, first come first.
  std::vector<PlacementGroup> Pending();
  // Every bundle of `id` is reserved: CREATED, unless it was removed
  // meanwhile (false: give its bundles back).
  bool MarkCreated(const std::string& id);
  // A bundle of `id` was lost with its node: PENDING until placed again.
  void MarkPending(const std::string& id);
  // The groups removed since the last call.
  std::vector<std::string> TakeRemoved();

 private:
  struct Group {
    PlacementGroup group;
    PlacementGroupState state = PlacementGroupState::PENDING;
    uint64_t created_ms = 0;  // recorded with it: the order a later cluster places restored groups in
  };
  void Record(const std::string& id, const Group& group);  // REQUIRES mu_
  std::string Infeasible(const PlacementGroupCreationOptions& options) const;
  void Changed();  // REQUIRES that mu_ is not held

  std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, double> node_;
  bool can_grow_;
  storage::LineageLog* log_;
  std::map<std::string, Group> groups_;  // by id
  std::vector<std::string> order_;       // not removed, first come first
  std::function<void()> on_change_;      // set before any Create
  std::vector<std::string> removed_;     // since the last TakeRemoved
};

}  // namespace lumen::internal
