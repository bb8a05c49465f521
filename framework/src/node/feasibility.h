// One rule for demand a cluster can never meet: a task, an actor or a
// placement group asking for more of a resource than the cluster has in
// all. An embedded cluster cannot grow, so such demand is refused at once,
// with InfeasibleError where it was made (Remote, CreatePlacementGroup); a
// cluster that can grow (NodeOptions::can_grow: more nodes may join) keeps
// it pending instead. Every refusal's message is shaped here, alike.
#pragma once

#include <map>
#include <string>

namespace lumen::internal {

using Resources = std::map<std::string, double>;

// Which cluster cannot grow, as a refusal names it.
inline constexpr const char* kEmbeddedCluster = "an embedded cluster";

// Whether `available` has `demand` (each amount, as the scheduler compares them).
bool FitsIn(const Resources& available, const Resources& demand);

// "{CPU: 2, GPU: 0.5}"; "{}" for none.
std::string FormatResources(const Resources& resources);

// "" if `demand` fits in `total`; else "<what> asks for {GPU: 2} but the
// cluster has {CPU: 2, GPU: 0} in all, and an embedded cluster cannot grow"
// (the total names every resource asked for, 0 if absent).
std::string InfeasibleDemand(const std::string& what, const Resources& demand, const Resources& total,
                             const std::string& cluster = kEmbeddedCluster);

// The same sentence for demand that is not an amount of resources (the
// nodes STRICT_SPREAD needs): "<what> asks for <asks> but the cluster has <has>, ...".
std::string Refusal(const std::string& what, const std::string& asks, const std::string& has,
                    const std::string& cluster = kEmbeddedCluster);

}  // namespace lumen::internal
