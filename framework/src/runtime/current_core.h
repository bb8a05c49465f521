// What every lumen process has: the Core that serves the lumen API here (the
// embedded cluster's client in a driver, a worker's client in a worker) and
// the process's role.
#pragma once

#include <memory>
#include <string>

#include "lumen/internal/core.h"

namespace lumen::internal {

// Objects up to this size travel inline in messages and live in the owner's
// memory; larger ones, task arguments included, go to the shared store.
inline constexpr size_t kMaxInlineBytes = 100 * 1024;

// Installs `core` (nullptr: none) as the one CurrentCore() returns.
void SetCurrentCore(std::shared_ptr<Core> core);
bool HasCurrentCore();

// True in a worker process (the driver's binary re-executed in worker mode).
bool IsWorkerProcess();
// The job's namespace, as the node handed it to this worker.
std::string WorkerNamespace();

}  // namespace lumen::internal
