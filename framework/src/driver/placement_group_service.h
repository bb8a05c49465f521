// What the placement-group API (lumen/placement_group.h) asks of the
// driver's cluster, one way for both kinds of driver: an embedded cluster's
// table, called in process, or the table of the head a joined driver
// reached, asked over its link (request and reply frames). Both throw the
// same types for the same calls: lumen::Error for a bad call or a duplicate
// name, InfeasibleError for a group the cluster can never place (a daemon's
// cluster can grow: there such a group stays PENDING instead).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lumen/placement_group.h"

namespace lumen::internal {

class PlacementGroupTable;
struct JoinedCluster;

class PlacementGroupService {
 public:
  virtual ~PlacementGroupService() = default;
  virtual PlacementGroup Create(const PlacementGroupCreationOptions& options) = 0;
  virtual void Remove(const std::string& id) = 0;  // an unknown id: nothing to do
  virtual PlacementGroupState State(const std::string& id) = 0;  // an unknown id: REMOVED
  // Up to timeout_seconds for the group to leave PENDING; true if it is CREATED.
  virtual bool Wait(const std::string& id, int timeout_seconds) = 0;
  virtual std::optional<PlacementGroup> ByName(const std::string& name) = 0;  // live groups only
  virtual std::optional<PlacementGroup> ById(const std::string& id) = 0;      // removed ones too
  virtual std::vector<PlacementGroup> All() = 0;                              // removed ones too
};

// `table` outlives the service.
std::unique_ptr<PlacementGroupService> EmbeddedPlacementGroups(PlacementGroupTable& table);
// `cluster` outlives the service. A head gone (or silent past the link's
// liveness timeout) fails every call with lumen::Error; Wait polls the
// group's state, so it ends by its timeout at the latest.
std::unique_ptr<PlacementGroupService> JoinedPlacementGroups(JoinedCluster& cluster);

// This driver's (driver.cc); lumen::Error before Init, and inside tasks.
PlacementGroupService& DriverPlacementGroups();

}  // namespace lumen::internal
