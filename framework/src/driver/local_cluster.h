// A cluster's parts on this machine, put together one way for both of their
// homes: a driver that embeds them (lumen::Init with no address) and the
// head daemon (`lumen start --head`). In order: a private session dir, the
// object store, the lineage log, the placement groups, the node manager and
// the dashboard; stopped in reverse, and the session dir removed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "lumen/storage/lineage_log.h"
#include "lumen/storage/object_store.h"
#include "head/dashboard_server.h"
#include "node/node_manager.h"
#include "node/placement_groups.h"

namespace lumen::internal {

struct LocalClusterOptions {
  std::string who = "lumen::Init";  // what errors name as the caller
  int num_cpus = 1;
  std::map<std::string, double> resources;  // besides CPU
  std::string node_name;                    // "" = "node-" and the session's id
  size_t object_store_bytes = 0;            // 0: the default (LUMEN_OBJECT_STORE_MB, else 512 MiB)
  bool lineage = true;
  // Where the cluster's placement groups are kept and placed: an embedded
  // cluster's and a head's node; a node that joins a head holds only the
  // bundles that head places on it.
  bool placement_groups = true;
  std::string storage_dir;  // "" = one inside the session dir, gone with it
  std::string ns;           // "" = a fresh one for the embedded driver's job
  bool actors_detached_by_default = false;
  int64_t worker_liveness_timeout_ms = 0;
  bool dashboard = true;
  std::string dashboard_host = "127.0.0.1";
  int dashboard_port = 8265;
  bool announce_dashboard = true;  // print its URL on stderr (a daemon's starter prints it instead)
  // A daemon's: drivers join over the node's socket with this secret
  // (NodeOptions::serve_drivers); no driver lives in this process.
  bool serve_drivers = false;
  std::string cluster_secret;
  // Other hosts reach the node here (NodeOptions::listen_host); "": they do not.
  std::string listen_host;
  uint16_t listen_port = 0;
};

class LocalCluster {
 public:
  // Throws lumen::Error naming what failed; nothing is left behind then.
  static std::unique_ptr<LocalCluster> Start(const LocalClusterOptions& options);
  ~LocalCluster();

  std::string session_dir;
  std::string storage_dir;
  std::string ns;
  std::string node_name;
  std::map<std::string, double> resources;
  std::unique_ptr<PlacementGroupTable> placement_groups;
  std::unique_ptr<storage::StoreServer> store;
  std::unique_ptr<storage::LineageLog> lineage;
  std::unique_ptr<NodeManager> node;
  std::unique_ptr<head::DashboardServer> dashboard;

 private:
  LocalCluster() = default;
  void StartDashboard(const LocalClusterOptions& options);
};

// Random hex digits (a session's suffix, a cluster's secret, a node daemon's instance).
std::string RandomHex(size_t bytes);

}  // namespace lumen::internal
