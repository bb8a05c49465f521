// The public placement-group calls, served by the embedded cluster's table.
#include "lumen/placement_group.h"
#include "node/placement_groups.h"

namespace lumen {

bool PlacementGroup::Wait(int timeout_seconds) const { return internal::PlacementGroups().Wait(id_, timeout_seconds); }
PlacementGroupState PlacementGroup::GetState() const { return internal::PlacementGroups().State(id_); }

PlacementGroup CreatePlacementGroup(const PlacementGroupCreationOptions& options) {
  return internal::PlacementGroups().Create(options);
}
void RemovePlacementGroup(const std::string& id) { internal::PlacementGroups().Remove(id); }
std::optional<PlacementGroup> GetPlacementGroup(const std::string& name) {
  return internal::PlacementGroups().ByName(name);
}
std::optional<PlacementGroup> GetPlacementGroupById(const std::string& id) {
  return internal::PlacementGroups().ById(id);
}
std::vector<PlacementGroup> GetAllPlacementGroups() { return internal::PlacementGroups().All(); }

}  // namespace lumen
