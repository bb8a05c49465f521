// A snapshot of the running cluster, for programs that want to show or check
// what the runtime is doing (lessons, tests, the CLI).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lumen {

struct ClusterInfo {
  std::string node_name;
  std::string session_dir;                  // this cluster's sockets and files (private to its user)
  std::map<std::string, double> resources;  // the node's total, "CPU" included
  std::vector<pid_t> worker_pids;           // connected worker processes
  size_t num_objects = 0;                   // objects the node tracks (any state)
  size_t store_used_bytes = 0;              // shared-memory store
  size_t store_capacity_bytes = 0;
  uint64_t store_spilled_objects = 0;
  // Worker deaths, by who noticed first: CAF's down message, or reaping the
  // process (a worker that died before joining supervision).
  uint64_t worker_deaths_seen_by_caf = 0;
  uint64_t worker_deaths_seen_by_reaping = 0;
  // Lineage at work: objects the store evicted, tasks (and Puts) re-made from the log.
  uint64_t objects_evicted = 0;
  uint64_t tasks_rebuilt = 0;
  // The loopback TCP port on which workers join supervision (CAF behind
  // mutual TLS: only processes holding the session's key get through).
  uint16_t supervisor_port = 0;
  // The dashboard (and its JSON API, /metrics), e.g. "http://127.0.0.1:8265";
  // "" when Config::include_dashboard is off or it could not start.
  std::string dashboard_url;
};

// lumen::Error if lumen is not running in this process as a driver.
ClusterInfo GetClusterInfo();

}  // namespace lumen
