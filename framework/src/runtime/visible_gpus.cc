#include "runtime/visible_gpus.h"

#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>

#include "lumen/gpu_ids.h"

namespace lumen {
namespace internal {
namespace {

constexpr const char* kVariable = "CUDA_VISIBLE_DEVICES";

struct Granted {
  std::mutex mu;
  std::vector<int> ids;
  bool saved = false;
  std::optional<std::string> inherited;  // the process's own value, before the first grant
};

Granted& State() {
  static Granted* granted = new Granted;  // never destroyed: tasks may ask while the process exits
  return *granted;
}

}  // namespace

void SetVisibleGpus(const std::vector<int>& ids) {
  Granted& g = State();
  std::lock_guard lock(g.mu);
  if (ids == g.ids) return;  // no change (at first: the inherited value stands, untouched)
  if (!g.saved) {
    if (const char* v = std::getenv(kVariable)) g.inherited = v;
    g.saved = true;
  }
  g.ids = ids;
  if (!ids.empty()) {
    std::string list;
    for (int id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);
    ::setenv(kVariable, list.c_str(), 1);
  } else if (g.inherited) {
    ::setenv(kVariable, g.inherited->c_str(), 1);
  } else {
    ::unsetenv(kVariable);
  }
}

}  // namespace internal

std::vector<int> GetGpuIds() {
  internal::Granted& g = internal::State();
  std::lock_guard lock(g.mu);
  return g.ids;
}

}  // namespace lumen
