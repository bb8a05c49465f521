// The cluster metrics of `lumen microbenchmark`: daemons on this machine
// (`lumen start`, this binary) and a driver that joins them, against the
// embedded cluster of the other metrics:
//
//   joined_client_tasks_sync        a joined driver's sync task (its twin: single_client_tasks_sync)
//   multi_node_tasks_async_N_nodes  batches of 1000 tasks on a head and N - 1 more nodes (N = 1, 2, 3)
//   node_transfer_gigabytes         one large object from one node's store into another's (transfer/)
//   node_death_to_rerun_ms          SIGKILL of the node running a task, until the task starts on another
//   head_restart_to_first_call_ms   SIGKILL of the head, `lumen start --head` on its storage dir, until a
//                                   newly joined driver's first task returns
//   placement_group_create_removal  create, wait and remove a one-bundle group (embedded)
#pragma once

#include "bench.h"

namespace lumen::cli {

// REQUIRES: no cluster is running (each metric starts its own).
void RunClusterDaemonBenchmarks(Bench& b);
void ReportClusterRatios(Bench& b);

}  // namespace lumen::cli
