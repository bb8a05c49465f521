// The cluster scenarios (`cluster-tree`, `cluster-putset`): the workload on
// a real local cluster of 3 daemons started with the lumen CLI (daemons.h:
// a head with 1 CPU, its storage dir under a temp dir and a port of its own,
// and 2 nodes with 2 CPUs each, so that tasks go to the nodes), run by a
// child driver that joins it (this binary with --cluster-driver), while the
// harness plays the schedule against the daemons:
//
//   kill-worker   SIGKILL a worker of any daemon; its task runs again
//   kill-node     SIGKILL a node daemon: its workers must exit within 5 s;
//                 then a new node is started, so that capacity returns
//   kill-head     SIGKILL the head: the joined driver's waits must fail with
//                 an error within 10 s (never hang); `lumen start --head
//                 --storage DIR` again on the same dir and port; nodes are
//                 started again if fewer than 2 are alive and registered
//   kill-cluster  SIGKILL the head and every node at once; the same restart
//   stop-node     SIGSTOP a node: the head must declare it dead within its
//                 liveness bound; SIGCONT: it must register again
//   stop-head     SIGSTOP the head: its nodes and its driver must notice within
//                 the liveness bound (the driver's waits fail, never hang);
//                 SIGCONT: the same head serves again, every node registers
//                 with it again, and a new driver joins
//
// After a head or cluster kill (or a stop-head) a new joined driver gets every object the
// drivers before it reported flushed, by ObjectRef::FromID, with its exact
// value (rebuilt from the lineage log, or read from a durable copy), then
// the rounds go on in it. When the schedule is spent the harness tells the
// driver to finish: one more round, its final check, its exit (0). Then the
// daemons are stopped and nothing of them may be left.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenario.h"
#include "schedule.h"

namespace chaos {

// What a cluster scenario's schedule draws from.
std::vector<FaultKind> ClusterFaultKinds();

// `result` holds the scenario, seed and schedule; fills the rest.
void RunOnCluster(const ScenarioOptions& options, ScenarioResult* result);

// The child's side (main, for --cluster-driver ADDRESS).
struct ClusterDriverArgs {
  std::string address;       // the cluster to join
  int report_fd = -1;        // its log, mirrored (child_report.h)
  int command_fd = -1;       // "finish"
  int64_t clock_origin_ns = 0;  // the harness's log's origin (steady_clock), so that stamps compare
  std::string recover_file;  // "expect id" lines: objects to get by id first; "" for the first driver
};
// Exit status: 0 the run ended well; 1 it failed (or lost its head: the harness knows which).
int RunClusterDriver(const ScenarioOptions& options, const ClusterDriverArgs& args);

}  // namespace chaos
