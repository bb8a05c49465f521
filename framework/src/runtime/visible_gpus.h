// The GPUs granted to what runs in this process now (lumen::GetGpuIds) and
// the CUDA_VISIBLE_DEVICES its code sees. A worker sets them before each
// task it runs, and an actor's process once, for the actor's life.
#pragma once

#include <vector>

namespace lumen::internal {

// ids non-empty: CUDA_VISIBLE_DEVICES="0,1"; empty: the value this process
// inherited comes back (unset if it had none). Call from the thread that
// runs tasks, between tasks (setenv is not safe beside a running getenv).
void SetVisibleGpus(const std::vector<int>& ids);

}  // namespace lumen::internal
