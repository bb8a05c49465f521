// Worker mode: a worker process is the driver's binary re-executed with
// LUMEN_WORKER_SOCKET set. It connects to its node manager, runs the tasks
// it is sent one at a time, and serves the lumen API to the code it runs
// (nested tasks, Get, Put) by messages to the node manager.
#pragma once

#include <string>

namespace lumen::internal {

// Runs the worker until its node manager goes away; returns the exit code.
int RunWorker();

}  // namespace lumen::internal
