#include "node/gpu_ids.h"

#include <algorithm>
#include <cmath>

namespace lumen::internal {

namespace {
constexpr double kEpsilon = 1e-9;
bool IsWhole(double amount) { return std::fabs(amount - std::round(amount)) < kEpsilon; }
}  // namespace

GpuIds::GpuIds(double total) : free_(static_cast<size_t>(std::max(0.0, std::floor(total + kEpsilon))), 1.0) {
  for (size_t i = 0; i < free_.size(); ++i) ids_.push_back(static_cast<int>(i));
}

GpuIds::GpuIds(std::vector<int> ids) : free_(ids.size(), 1.0), ids_(std::move(ids)) {}

bool GpuIds::CanGrant(double amount) const {
  if (amount <= kEpsilon) return true;
  if (IsWhole(amount)) {
    long whole = 0;
    for (double f : free_) whole += f > 1 - kEpsilon;
    return whole >= std::lround(amount);
  }
  for (double f : free_)
    if (f + kEpsilon >= amount) return true;
  return false;
}

std::vector<int> GpuIds::Grant(double amount) {
  std::vector<int> ids;
  if (amount <= kEpsilon) return ids;
  if (IsWhole(amount)) {
    long want = std::lround(amount);
    for (size_t i = 0; i < free_.size() && static_cast<long>(ids.size()) < want; ++i)
      if (free_[i] > 1 - kEpsilon) {
        free_[i] = 0;
        ids.push_back(ids_[i]);
      }
    return ids;
  }
  // A fraction: the id with the least room that still fits, so that whole ids stay free.
  int best = -1;
  for (size_t i = 0; i < free_.size(); ++i)
    if (free_[i] + kEpsilon >= amount && (best < 0 || free_[i] < free_[best])) best = static_cast<int>(i);
  if (best < 0) return ids;
  free_[best] -= amount;
  ids.push_back(ids_[best]);
  return ids;
}

void GpuIds::Release(const std::vector<int>& ids, double amount) {
  double each = IsWhole(amount) ? 1.0 : amount;
  for (int id : ids)
    if (auto at = std::find(ids_.begin(), ids_.end(), id); at != ids_.end()) {
      double& f = free_[static_cast<size_t>(at - ids_.begin())];
      f = std::min(1.0, f + each);
    }
}

}  // namespace lumen::internal
