// The invariants checked after every run, besides exact results and bounded
// Gets (the workloads check those as they go): once lumen::Shutdown returned,
// nothing of the cluster is left behind.
#pragma once

#include <string>
#include <vector>

namespace chaos {

// After Shutdown: no child process of ours alive (given a short grace for
// the kernel to finish tearing them down) or left unreaped, and the
// session's directory removed. One line a broken invariant; empty when all hold.
std::vector<std::string> NothingLeftBehind(const std::string& session_dir);

}  // namespace chaos
