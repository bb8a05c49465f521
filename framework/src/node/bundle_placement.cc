#include "node/bundle_placement.h"

#include "node/feasibility.h"

namespace lumen::internal {

namespace {
constexpr const char* kMark = "_group_";

void Subtract(BundleResources& from, const BundleResources& what) {
  for (const auto& [name, amount] : what) from[name] -= amount;
}

BundleResources Sum(const std::vector<BundleResources>& bundles, const std::vector<int>& which) {
  BundleResources sum;
  for (int i : which)
    for (const auto& [name, amount] : bundles[i]) sum[name] += amount;
  return sum;
}
}  // namespace

// What bundle i offers is what a task asking for all of it takes.
BundleResources ReservedAs(const BundleResources& bundle, const std::string& group, int index) {
  return BundleShape(bundle, group, index);
}

std::string BundleResourceName(const std::string& resource, const std::string& group, int index) {
  return index < 0 ? resource + kMark + group : resource + kMark + std::to_string(index) + "_" + group;
}

BundleResources BundleShape(const BundleResources& shape, const std::string& group, int index) {
  BundleResources out;
  for (const auto& [name, amount] : shape) {
    // A task of bundle i takes from it and from the group's sum, so that
    // one of "any bundle" never finds the sum free while bundle i is full.
    out[BundleResourceName(name, group, -1)] += amount;
    if (index >= 0) out[BundleResourceName(name, group, index)] += amount;
  }
  return out;
}

bool IsBundleResource(const std::string& name) { return name.find(kMark) != std::string::npos; }

std::optional<std::vector<int>> PlanBundles(PlacementStrategy strategy, const std::vector<BundleResources>& bundles,
                                            const std::vector<NodeRoom>& nodes, const std::vector<int>& fixed) {
  std::vector<BundleResources> room;
  for (const NodeRoom& node : nodes) room.push_back(node.available);
  std::vector<int> where(bundles.size(), -1), count(nodes.size(), 0), open;
  for (size_t i = 0; i < bundles.size(); ++i) {
    if (i < fixed.size() && fixed[i] >= 0 && static_cast<size_t>(fixed[i]) < nodes.size()) {
      where[i] = fixed[i];
      ++count[fixed[i]];
    } else {
      open.push_back(static_cast<int>(i));
    }
  }
  const int n = static_cast<int>(nodes.size());
  auto put = [&](int i, int node) {
    where[i] = node;
    ++count[node];
    Subtract(room[node], bundles[i]);
  };
  // On one node: the one holding the group's placed bundles if any, else
  // the first where all of them fit.
  auto on_one = [&]() -> bool {
    int kept = -1;
    for (int w : where)
      if (w >= 0) kept = w;
    BundleResources sum = Sum(bundles, open);
    for (int node = 0; node < n; ++node) {
      if ((kept >= 0 && node != kept) || !FitsIn(room[node], sum)) continue;
      for (int i : open) put(i, node);
      return true;
    }
    return false;
  };
  // Bundle by bundle, on the fitting node `better` prefers.
  auto one_by_one = [&](auto better, bool own_node) -> bool {
    for (int i : open) {
      int best = -1;
      for (int node = 0; node < n; ++node) {
        if ((own_node && count[node] > 0) || !FitsIn(room[node], bundles[i])) continue;
        if (best < 0 || better(node, best)) best = node;
      }
      if (best < 0) return false;
      put(i, best);
    }
    return true;
  };
  auto most_bundles = [&](int a, int b) { return count[a] > count[b]; };
  auto fewest_bundles = [&](int a, int b) { return count[a] < count[b]; };
  bool placed = false;
  switch (strategy) {
    case PlacementStrategy::STRICT_PACK: placed = on_one(); break;
    case PlacementStrategy::PACK: placed = on_one() || one_by_one(most_bundles, false); break;
    case PlacementStrategy::STRICT_SPREAD: placed = one_by_one(fewest_bundles, true); break;
    case PlacementStrategy::SPREAD: placed = one_by_one(fewest_bundles, false); break;
  }
  if (!placed) return std::nullopt;
  return where;
}

}  // namespace lumen::internal
