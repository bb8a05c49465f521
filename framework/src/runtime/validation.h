// Checks of what a user asks for, made where a call enters the runtime (in a
// driver and in a worker alike), so bad input fails at once with a clear
// lumen::Error instead of being accepted and misbehaving later.
#pragma once

#include <map>
#include <string>

#include "lumen/internal/core.h"

namespace lumen::internal {

// Resource amounts as Ray takes them: finite and >= 0, where 0 means none of
// it (CPU 0: no CPU instead of the default one); above 1, whole numbers
// (fractions up to 1 share one unit). `what` names the caller, e.g. "task 'f'".
void CheckResources(const std::map<std::string, double>& resources, const std::string& what);
// A node's totals (Config::resources): as above, and a whole number of GPUs,
// since each has an id (CUDA_VISIBLE_DEVICES).
void CheckNodeResources(const std::map<std::string, double>& resources, const std::string& what);
// Retries and restarts: -1 means forever, other negatives are errors.
void CheckTask(const TaskSpec& spec);
void CheckActor(const TaskSpec& factory, const ActorOptions& options);

}  // namespace lumen::internal
