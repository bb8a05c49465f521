// What a node manager is started with (NodeManager::Start): its resources,
// its session and store, the cluster's lineage log and placement groups,
// and how it serves drivers and other hosts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "lumen/storage/lineage_log.h"
#include "lumen/storage/object_store.h"
#include "protocol/heartbeat.h"

namespace lumen::internal {

class PlacementGroupTable;

struct NodeOptions {
  int num_workers = 2;
  std::map<std::string, double> resources;  // the node's total, "CPU" included
  std::string session_dir;                  // sockets live here
  std::string store_socket;
  std::shared_ptr<storage::ObjectStore> store;
  storage::LineageLog* lineage = nullptr;   // may be null (lineage off)
  // The cluster's placement groups, on the head's node (or an embedded
  // cluster's), which places their bundles; null on other nodes, which hold
  // the bundles the head asks them to. Outlives the node.
  PlacementGroupTable* placement_groups = nullptr;
  std::string node_name;
  std::string ns;                           // the job's namespace for named actors
  bool actors_detached_by_default = false;
  int64_t worker_liveness_timeout_ms = 0;   // 0 = the default (supervision.h)
  // Where large Puts get durable copies (put_copies.h); empty: none (a
  // storage dir nobody named does not outlive the process).
  std::string put_copies_dir;
  // Where a head keeps the nodes that left its cluster, and its members
  // (dead_nodes.h), for its next run on the same storage dir; empty: in
  // memory only.
  std::string dead_nodes_file;
  // Where each worker's stdout and stderr are kept (log_relay.h), besides
  // the driver's stderr; empty: workers write where the driver does.
  std::string log_dir;
  // A daemon's node (lumen start): no driver in this process and no job at
  // Start; drivers connect to the socket and join with `cluster_secret`,
  // each a job of its own (its namespace, its binary for its workers).
  bool serve_drivers = false;
  std::string cluster_secret;
  // A registered node silent this long is declared dead (protocol/heartbeat.h).
  int64_t node_liveness_timeout_ms = NodeLivenessTimeoutMs();
  // Whether the cluster may gain resources later (more nodes joining). An
  // embedded cluster cannot: demand beyond its totals is refused at once
  // (feasibility.h); a cluster that can grow would keep it pending.
  bool can_grow = false;
  // Nodes and drivers of other hosts reach this node at HOST (its port:
  // listen_port, 0 for any free one) over tunnels keyed by cluster_secret
  // (protocol/tls_tunnel.h), and the head copies objects through its store
  // there (transfer/store_gateway.h). "": this host's only.
  std::string listen_host;
  uint16_t listen_port = 0;
};

}  // namespace lumen::internal
