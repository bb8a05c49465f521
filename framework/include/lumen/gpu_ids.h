// GPUs as logical ids, as Ray's ray.get_gpu_ids(): a node started with
// {"GPU": n} has ids 0..n-1. A task or actor granted GPUs
// (SetResource("GPU", k)) gets k ids of its own, or for a fraction (0.5) a
// share of one id; while it runs (an actor: for its whole life) its
// process's CUDA_VISIBLE_DEVICES names them, comma-separated. The ids go
// back when the task ends or the actor dies.
#pragma once

#include <vector>

namespace lumen {

// The GPU ids granted to the task or actor running this code; empty in the
// driver and in tasks granted none.
std::vector<int> GetGpuIds();

}  // namespace lumen
