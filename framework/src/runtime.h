// The process-wide runtime state: which Core serves the lumen API here (the
// embedded cluster's node manager in a driver, a WorkerCore in a worker),
// and what an embedded cluster owns.
#pragma once

#include <memory>

#include "lumen/internal/core.h"

namespace lumen::internal {

void SetCurrentCore(std::shared_ptr<Core> core);

class NodeManager;
// The embedded cluster's node manager in a driver; nullptr elsewhere.
NodeManager* EmbeddedNodeManager();

}  // namespace lumen::internal
