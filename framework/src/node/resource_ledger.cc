#include "node/resource_ledger.h"

#include <algorithm>
#include <type_traits>

#include "node/bundle_placement.h"

namespace lumen::internal {

namespace {
constexpr double kEpsilon = 1e-9;  // as the scheduler compares amounts

double GpusOf(const ResourceShape& shape) {
  auto it = shape.find("GPU");
  return it == shape.end() ? 0 : it->second;
}
}  // namespace

ResourceLedger::ResourceLedger(const ResourceShape& total) : available_(total), gpus_(GpusOf(total)) {}

template <class Self>
auto* ResourceLedger::BundlePool(Self& self, const ResourceShape& shape, double* amount,
                                 const std::vector<int>* holding) {
  using Pool = std::conditional_t<std::is_const_v<Self>, const GpuIds, GpuIds>;
  for (auto& [group, bundles] : self.bundles_) {
    auto any = shape.find(BundleResourceName("GPU", group, -1));
    if (any == shape.end()) continue;
    *amount = any->second;
    for (auto& [i, held] : bundles) {  // bundle i named, or the one holding those ids
      bool holds = holding && !holding->empty() &&
                   std::find(held.gpus.begin(), held.gpus.end(), holding->front()) != held.gpus.end();
      if (held.committed && (holds || (!holding && shape.count(BundleResourceName("GPU", group, i)))))
        return static_cast<Pool*>(&held.gpu_pool);
    }
    if (holding) return static_cast<Pool*>(nullptr);
    for (auto& [i, held] : bundles)  // any bundle: the first with room
      if (held.committed && held.gpu_pool.CanGrant(*amount)) return static_cast<Pool*>(&held.gpu_pool);
    return static_cast<Pool*>(nullptr);
  }
  return static_cast<Pool*>(nullptr);
}

bool ResourceLedger::Fits(const ResourceShape& shape) const {
  for (const auto& [name, amount] : shape) {
    auto it = available_.find(name);
    if (it == available_.end() || it->second + kEpsilon < amount) return false;
  }
  double in_bundle = 0;  // a bundle's GPUs: granted from its own ids
  if (const GpuIds* pool = BundlePool(*this, shape, &in_bundle)) return pool->CanGrant(in_bundle);
  return gpus_.CanGrant(GpusOf(shape));  // 1 GPU free in two halves is not one id
}

std::vector<int> ResourceLedger::Take(const ResourceShape& shape) {
  for (const auto& [name, amount] : shape) available_[name] -= amount;
  double in_bundle = 0;
  if (GpuIds* pool = BundlePool(*this, shape, &in_bundle)) return pool->Grant(in_bundle);
  return gpus_.Grant(GpusOf(shape));
}

void ResourceLedger::GiveBack(const ResourceShape& shape, const std::vector<int>& gpus) {
  bool of_a_bundle = false;
  for (const auto& [name, amount] : shape) {
    if (!IsBundleResource(name)) {
      available_[name] += amount;
      continue;
    }
    of_a_bundle = true;
    // Its bundle may have been returned meanwhile, with all it held.
    if (auto it = available_.find(name); it != available_.end()) it->second += amount;
  }
  double in_bundle = 0;
  if (GpuIds* pool = BundlePool(*this, shape, &in_bundle, &gpus)) return pool->Release(gpus, in_bundle);
  if (of_a_bundle) return;  // its ids went back to the node with its bundle
  gpus_.Release(gpus, GpusOf(shape));
}

bool ResourceLedger::Hold(const std::string& group, const std::vector<std::pair<int32_t, ResourceShape>>& bundles,
                          ResourceShape* asked) {
  asked->clear();
  std::vector<const std::pair<int32_t, ResourceShape>*> fresh;
  auto held = bundles_.find(group);
  for (const auto& bundle : bundles) {
    if (held != bundles_.end() && held->second.count(bundle.first)) continue;  // asked again: held already
    for (const auto& [name, amount] : bundle.second) (*asked)[name] += amount;
    fresh.push_back(&bundle);
  }
  if (!Fits(*asked)) return false;
  for (const auto* bundle : fresh) {
    Bundle& b = bundles_[group][bundle->first];
    b.shape = bundle->second;
    b.gpus = Take(b.shape);
    b.gpu_pool = GpuIds(b.gpus);
  }
  return true;
}

void ResourceLedger::Commit(const std::string& group, const std::vector<int32_t>& indices) {
  auto g = bundles_.find(group);
  if (g == bundles_.end()) return;
  for (int32_t i : indices) {
    auto held = g->second.find(i);
    if (held == g->second.end() || held->second.committed) continue;
    AddResources(available_, ReservedAs(held->second.shape, group, i), 1);
    held->second.committed = true;
  }
}

void ResourceLedger::Return(const std::string& group, const std::vector<int32_t>& indices) {
  auto g = bundles_.find(group);
  if (g == bundles_.end()) return;
  std::vector<int32_t> which = indices;
  if (which.empty())
    for (const auto& [i, held] : g->second) which.push_back(i);
  std::vector<std::string> names, any_names;  // the returned bundles' own, and the group's
  for (int32_t i : which) {
    auto held = g->second.find(i);
    if (held == g->second.end()) continue;
    for (const auto& [resource, amount] : held->second.shape) {
      names.push_back(BundleResourceName(resource, group, i));
      any_names.push_back(BundleResourceName(resource, group, -1));
    }
    if (held->second.committed) AddResources(available_, ReservedAs(held->second.shape, group, i), -1);
    GiveBack(held->second.shape, held->second.gpus);
    g->second.erase(held);
  }
  // What a running task holds of them has nowhere to come back to (GiveBack).
  if (g->second.empty()) {
    bundles_.erase(g);
    names.insert(names.end(), any_names.begin(), any_names.end());
  }
  for (const std::string& name : names) available_.erase(name);
}

std::vector<std::string> ResourceLedger::HeldGroups() const {
  std::vector<std::string> groups;
  for (const auto& [group, bundles] : bundles_) groups.push_back(group);
  return groups;
}

void AddResources(ResourceShape& to, const ResourceShape& what, double sign) {
  for (const auto& [name, amount] : what) {
    double& have = to[name];
    have += sign * amount;
    if (IsBundleResource(name) && have < kEpsilon && have > -kEpsilon) to.erase(name);
  }
}

}  // namespace lumen::internal
