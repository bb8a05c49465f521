// ResourceLedger: what a node has not granted yet, and the GPU ids that go
// with each grant.
//
// A grant (Take) is a resource shape: a pool worker's lease while its tasks
// run, an actor's for its whole life, a placement group's bundle while the
// group lives. GPUs are ids (gpu_ids.h): the node's own pool, and each
// committed bundle's pool of the ids it holds, from which its tasks and
// actors get theirs. A bundle moves through the ledger as the two-phase
// reservation does (node_manager_bundles.cc):
//   Hold    its resources leave the pool (prepared, not usable by anyone);
//   Commit  they come back under the group's own names (bundle_placement.h),
//           which only the group's tasks and actors ask for;
//   Return  both go: the resources, and any ids, back to the node's pool.
// Pure bookkeeping, no lock of its own: the node's mu_ guards it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "node/gpu_ids.h"
#include "node/ready_queue.h"

namespace lumen::internal {

// to += sign * what, per resource; a group's name that drops to nothing goes,
// so a group's names do not outlive it (in a node's pool, or in the head's
// view of a peer's).
void AddResources(ResourceShape& to, const ResourceShape& what, double sign);

class ResourceLedger {
 public:
  explicit ResourceLedger(const ResourceShape& total = {});

  // Free now: the node's own resources and committed bundles' names.
  const ResourceShape& available() const { return available_; }
  bool Fits(const ResourceShape& shape) const;
  // REQUIRES: Fits(shape). The GPU ids granted with it (empty if none).
  std::vector<int> Take(const ResourceShape& shape);
  // A grant of Take, back; `gpus` the ids it got.
  void GiveBack(const ResourceShape& shape, const std::vector<int>& gpus);
  // A worker blocked in Get lends its lease's CPUs back meanwhile.
  void Lend(const std::string& resource, double amount) { available_[resource] += amount; }

  // Takes each of `bundles` (index, shape) of `group` not held yet, all or
  // none; false, holding nothing new, unless they fit together. *asked: what
  // those new ones ask for in all.
  bool Hold(const std::string& group, const std::vector<std::pair<int32_t, ResourceShape>>& bundles,
            ResourceShape* asked);
  void Commit(const std::string& group, const std::vector<int32_t>& indices);
  // Empty `indices`: every bundle of the group held here.
  void Return(const std::string& group, const std::vector<int32_t>& indices);
  std::vector<std::string> HeldGroups() const;

 private:
  struct Bundle {
    ResourceShape shape;
    std::vector<int> gpus;  // the node's GPU ids it holds, granted to its tasks and actors from gpu_pool
    GpuIds gpu_pool;
    bool committed = false;
  };
  using Bundles = std::map<std::string, std::map<int32_t, Bundle>>;  // by group, by index

  // The GPU pool of the committed bundle whose GPUs `shape` asks for (the
  // one holding `holding`'s ids, when given), or nullptr; *amount: how many.
  template <class Self>
  static auto* BundlePool(Self& self, const ResourceShape& shape, double* amount,
                          const std::vector<int>* holding = nullptr);

  ResourceShape available_;
  GpuIds gpus_;  // the node's ids not granted; moves with available_["GPU"]
  Bundles bundles_;
};

}  // namespace lumen::internal
