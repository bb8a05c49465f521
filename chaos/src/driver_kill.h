// The kill-driver fault. The workload runs in a child driver (this binary
// with --child-driver) on a storage_dir under a temp dir; after each
// lumen::Flush() it reports what is now durable (RunLog::Flushed, mirrored
// on a pipe). At the fault's moment the harness SIGKILLs that driver,
// checks that its workers die with it, starts a new driver here on the same
// storage_dir (whose Init must remove what the dead one left in /tmp and
// /dev/shm) and gets every reported object by its id, exactly (the Jepsen
// "set" check). Faults after the kill are played against the new driver;
// a second kill-driver is skipped.
#pragma once

#include <string>

#include "scenario.h"

namespace chaos {

// `result` holds the scenario, seed and schedule; fills the rest.
void RunWithDriverKill(const ScenarioOptions& options, ScenarioResult* result);

// The child's side (main, for --child-driver): runs the workload until it is
// killed, its log mirrored to `report_fd`. The exit status is for a run that
// ended on its own: 1 it failed.
int RunChildDriver(const ScenarioOptions& options, const std::string& storage_dir, int report_fd);

}  // namespace chaos
