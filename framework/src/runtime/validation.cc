#include "runtime/validation.h"

#include <cmath>
#include <sstream>

#include "lumen/errors.h"

namespace lumen::internal {
namespace {

void CheckCount(int n, const char* option, const std::string& what) {
  if (n < -1)
    throw Error(what + ": " + option + "(" + std::to_string(n) +
                ") is invalid: use a count >= 0, or -1 for no limit");
}

std::string NameOf(const TaskSpec& spec) { return spec.name.empty() ? spec.function : spec.name; }

}  // namespace

void CheckResourceAmount(const std::string& name, double amount, const std::string& what) {
  std::string why;
  if (!std::isfinite(amount) || amount < 0) {
    why = "amounts must be finite and >= 0 (0 = none of it)";
  } else if (amount > 1 && amount != std::floor(amount)) {
    why = "amounts above 1 must be whole numbers (fractions up to 1 share one unit)";
  }
  if (why.empty()) return;
  std::ostringstream os;
  os << what << ": resource " << name << "=" << amount << " is invalid: " << why;
  throw Error(os.str());
}

void CheckResources(const std::map<std::string, double>& resources, const std::string& what) {
  for (const auto& [name, amount] : resources) CheckResourceAmount(name, amount, what);
}

void CheckNodeResources(const std::map<std::string, double>& resources, const std::string& what) {
  CheckResources(resources, what);
  auto gpu = resources.find("GPU");
  if (gpu != resources.end() && gpu->second != std::floor(gpu->second)) {
    std::ostringstream os;
    os << what << ": resource GPU=" << gpu->second << " is invalid: a node has a whole number of GPUs (each has an id)";
    throw Error(os.str());
  }
}

void CheckTask(const TaskSpec& spec) {
  std::string what = (spec.actor.IsNil() ? "task '" : "actor method '") + NameOf(spec) + "'";
  CheckResources(spec.resources, what);
  CheckCount(spec.max_retries, "SetMaxRetries", what);
}

void CheckActor(const TaskSpec& factory, const ActorOptions& options) {
  std::string what = "actor '" + (options.class_name.empty() ? NameOf(factory) : options.class_name) + "'";
  CheckResources(factory.resources, what);
  CheckCount(options.max_restarts, "SetMaxRestarts", what);
  CheckCount(options.max_task_retries, "SetMaxTaskRetries", what);
  if (options.max_concurrency < 1)
    throw Error(what + ": SetMaxConcurrency(" + std::to_string(options.max_concurrency) + ") must be >= 1");
}

}  // namespace lumen::internal
