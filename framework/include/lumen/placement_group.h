// Placement groups: reserve bundles of resources for tasks and actors.
//
// CreatePlacementGroup asks the cluster to reserve each bundle (e.g.
// {"CPU", 1}) under a strategy; the group is CREATED once the reservation
// fits, PENDING until then (Wait bounds how long you wait), REMOVED after
// RemovePlacementGroup. Tasks and actors name a group and a bundle with
// SetPlacementGroup(pg, index) (index -1: any of its bundles); their
// resource request must fit the bundle, and they run on its node, inside
// what it reserved (a task asks for 1 CPU unless told, there too).
// Amounts follow the rules of SetResource; a zero amount asks for nothing.
//
// On a cluster of several nodes the bundles go where the strategy says:
// PACK on as few nodes as they fit, STRICT_PACK on one, SPREAD on nodes of
// their own where they can, STRICT_SPREAD on nodes of their own or not at
// all. A group holds all its bundles or none. Removing it ends what runs
// in it: its actors die, its tasks are cancelled. A node that dies with a
// bundle leaves the group PENDING until that bundle is reserved elsewhere.
//
// On an embedded (single-node) cluster every bundle is on the one node:
// PACK, SPREAD and STRICT_PACK are placed there. A group that can never be
// placed (more than the node has in all, or STRICT_SPREAD of more than one
// bundle) is refused at once with InfeasibleError, as tasks and actors are:
// an embedded cluster cannot grow.
//
// With lineage on, groups are recorded in the log: a later Init on the same
// Config::storage_dir (or `lumen start --head --storage DIR`) brings every
// group back under its id and name, reserved again unless it was removed
// (Flush makes a creation or removal durable, as every record).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lumen {

enum class PlacementStrategy { PACK, SPREAD, STRICT_PACK, STRICT_SPREAD };
enum class PlacementGroupState { PENDING, CREATED, REMOVED };

struct PlacementGroupCreationOptions {
  std::string name;  // "" = anonymous; otherwise unique in the cluster
  std::vector<std::map<std::string, double>> bundles;
  PlacementStrategy strategy = PlacementStrategy::PACK;
};

class PlacementGroup {
 public:
  PlacementGroup() = default;
  PlacementGroup(std::string id, PlacementGroupCreationOptions options)
      : id_(std::move(id)), options_(std::move(options)) {}

  // Waits up to timeout_seconds for the group to be CREATED; false otherwise.
  bool Wait(int timeout_seconds) const;
  PlacementGroupState GetState() const;

  const std::string& GetID() const { return id_; }
  const std::string& GetName() const { return options_.name; }
  const std::vector<std::map<std::string, double>>& GetBundles() const { return options_.bundles; }
  PlacementStrategy GetStrategy() const { return options_.strategy; }
  bool Empty() const { return id_.empty(); }

 private:
  std::string id_;
  PlacementGroupCreationOptions options_;
};

// lumen::Error for a duplicate name, no bundles, a bundle asking for nothing
// or a bad amount; InfeasibleError for a group the cluster can never place.
PlacementGroup CreatePlacementGroup(const PlacementGroupCreationOptions& options);
void RemovePlacementGroup(const std::string& id);
std::optional<PlacementGroup> GetPlacementGroup(const std::string& name);
std::optional<PlacementGroup> GetPlacementGroupById(const std::string& id);
std::vector<PlacementGroup> GetAllPlacementGroups();

}  // namespace lumen
