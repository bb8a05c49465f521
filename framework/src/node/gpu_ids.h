// A node's GPUs as logical ids: a node with {"GPU": n} has ids 0..n-1. A
// grant of a whole number of GPUs gets that many ids of its own; a fraction
// (0.5) gets a share of one id, shared with other fractions as in Ray
// (packed onto the id most used that still has room). The node's resource
// accounting (its available GPU total) and these ids move together: the
// scheduler asks CanGrant as well as the total, since 1 GPU free in two
// halves on two ids is not one whole id.
#pragma once

#include <vector>

namespace lumen::internal {

class GpuIds {
 public:
  explicit GpuIds(double total = 0);
  // The ids `ids` only (a placement group's bundle holds some of a node's).
  explicit GpuIds(std::vector<int> ids);

  bool CanGrant(double amount) const;
  // The ids granted for `amount` (empty for 0); REQUIRES CanGrant(amount).
  std::vector<int> Grant(double amount);
  // Gives back a grant made for `amount`.
  void Release(const std::vector<int>& ids, double amount);

 private:
  // Per id, the share of it not granted (1 = free), and the id itself.
  std::vector<double> free_;
  std::vector<int> ids_;
};

}  // namespace lumen::internal
