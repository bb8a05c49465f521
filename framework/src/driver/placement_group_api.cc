// The public placement-group calls, served by the driver's cluster: its
// embedded table, or the head it joined (placement_group_service.h).
#include "lumen/placement_group.h"
#include "driver/placement_group_service.h"

namespace lumen {

using internal::DriverPlacementGroups;

bool PlacementGroup::Wait(int timeout_seconds) const { return DriverPlacementGroups().Wait(id_, timeout_seconds); }
PlacementGroupState PlacementGroup::GetState() const { return DriverPlacementGroups().State(id_); }

PlacementGroup CreatePlacementGroup(const PlacementGroupCreationOptions& options) {
  return DriverPlacementGroups().Create(options);
}
void RemovePlacementGroup(const std::string& id) { DriverPlacementGroups().Remove(id); }
std::optional<PlacementGroup> GetPlacementGroup(const std::string& name) { return DriverPlacementGroups().ByName(name); }
std::optional<PlacementGroup> GetPlacementGroupById(const std::string& id) { return DriverPlacementGroups().ById(id); }
std::vector<PlacementGroup> GetAllPlacementGroups() { return DriverPlacementGroups().All(); }

}  // namespace lumen
