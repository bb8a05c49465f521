#include "node/feasibility.h"

#include <sstream>

namespace lumen::internal {

namespace {
constexpr double kEpsilon = 1e-9;  // as the scheduler compares amounts
}

bool FitsIn(const Resources& available, const Resources& demand) {
  for (const auto& [name, amount] : demand) {
    auto it = available.find(name);
    if (it == available.end() || it->second + kEpsilon < amount) return false;
  }
  return true;
}

std::string FormatResources(const Resources& resources) {
  std::ostringstream os;
  os << "{";
  const char* sep = "";
  for (const auto& [name, amount] : resources) {
    os << sep << name << ": " << amount;
    sep = ", ";
  }
  os << "}";
  return os.str();
}

std::string InfeasibleDemand(const std::string& what, const Resources& demand, const Resources& total,
                             const std::string& cluster) {
  Resources shown = total;
  bool fits = true;
  for (const auto& [name, amount] : demand) {
    double& have = shown[name];  // 0 if the cluster has none
    if (amount > have + kEpsilon) fits = false;
  }
  if (fits) return "";
  return Refusal(what, FormatResources(demand), FormatResources(shown) + " in all", cluster);
}

std::string Refusal(const std::string& what, const std::string& asks, const std::string& has,
                    const std::string& cluster) {
  return what + " asks for " + asks + " but the cluster has " + has + ", and " + cluster + " cannot grow";
}

}  // namespace lumen::internal
