#include "driver/local_cluster.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "lumen/errors.h"
#include "driver/embedded_state_source.h"
#include "driver/session.h"

namespace lumen::internal {

namespace {

size_t DefaultStoreBytes() {
  if (const char* mb = std::getenv("LUMEN_OBJECT_STORE_MB")) return std::strtoull(mb, nullptr, 10) << 20;
  return size_t{512} << 20;
}

}  // namespace

std::string RandomHex(size_t bytes) {
  std::random_device rd;
  std::string hex;
  static const char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < bytes; ++i) {
    unsigned byte = rd() & 0xff;
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 15];
  }
  return hex;
}

std::unique_ptr<LocalCluster> LocalCluster::Start(const LocalClusterOptions& options) {
  const std::string& who = options.who;
  std::unique_ptr<LocalCluster> cluster(new LocalCluster);
  std::string id = std::to_string(getpid()) + "-" + RandomHex(4);
  cluster->session_dir = MakePrivateSessionDir(id);
  cluster->ns = options.ns.empty() ? "job-" + id : options.ns;

  storage::StoreConfig store_config;
  store_config.label = "lumen-" + id;
  store_config.socket_path = cluster->session_dir + "/store.sock";
  store_config.capacity_bytes = options.object_store_bytes ? options.object_store_bytes : DefaultStoreBytes();
  store_config.spill_dir = cluster->session_dir + "/spill";
  Status s = storage::StoreServer::Start(store_config, &cluster->store);
  if (!s.ok()) throw Error(who + ": cannot start the object store: " + s.message());

  if (options.lineage) {
    cluster->storage_dir = options.storage_dir.empty() ? cluster->session_dir + "/lineage" : options.storage_dir;
    s = storage::LineageLog::Open(cluster->storage_dir, storage::LineageOptions{}, &cluster->lineage);
    if (!s.ok())
      throw Error(who + ": cannot open the lineage log in " + cluster->storage_dir + ": " + s.message() +
                  StorageHolder(cluster->storage_dir));
    MakePrivate(cluster->storage_dir);
    NoteStorageHolder(cluster->storage_dir);
  }

  NodeOptions node;
  node.num_workers = options.num_cpus;
  node.resources = options.resources;
  node.resources["CPU"] = options.num_cpus;
  node.session_dir = cluster->session_dir;
  node.log_dir = cluster->session_dir + "/logs";
  node.store_socket = store_config.socket_path;
  node.store = cluster->store->LocalClient();
  node.lineage = cluster->lineage.get();
  node.node_name = options.node_name.empty() ? "node-" + id : options.node_name;
  node.ns = cluster->ns;
  node.actors_detached_by_default = options.actors_detached_by_default;
  node.worker_liveness_timeout_ms = options.worker_liveness_timeout_ms;
  node.serve_drivers = options.serve_drivers;
  node.cluster_secret = options.cluster_secret;
  node.listen_host = options.listen_host;
  node.listen_port = options.listen_port;
  // Only a storage dir someone named outlives the process: only there are
  // large Puts worth a durable copy (the default one goes with the session).
  if (options.lineage && !options.storage_dir.empty()) {
    node.put_copies_dir = options.storage_dir + "/puts";
    node.dead_nodes_file = options.storage_dir + "/dead_nodes.json";
    // What retention removed the records of, states a killed driver had no
    // time to delete, and what it half wrote.
    uint64_t bytes = 0;
    PutCopies::Sweep(node.put_copies_dir, PutCopies::NeededBy(*cluster->lineage), &bytes);
  }
  cluster->node_name = node.node_name;
  cluster->resources = node.resources;
  // A daemon's cluster can grow (lumen start --address): demand no node has yet waits for one.
  node.can_grow = options.serve_drivers;
  if (options.placement_groups) {
    cluster->placement_groups =
        std::make_unique<PlacementGroupTable>(node.resources, node.can_grow, cluster->lineage.get());
    cluster->placement_groups->Restore();  // an earlier run's groups, before its actors come back
    node.placement_groups = cluster->placement_groups.get();
  }
  cluster->node = NodeManager::Start(std::move(node));
  // A log of an earlier run: its detached named actors come back (on a
  // daemon's node, with no driver yet, running the binaries their records name).
  cluster->node->RestoreActors();
  // Evicted objects are marked lost, to be rebuilt from lineage when needed.
  cluster->store->SetEvictionListener([raw = cluster->node.get()](const ObjectID& oid) { raw->OnEvicted(oid); });
  cluster->StartDashboard(options);
  return cluster;
}

// A dashboard that cannot start (every port taken) is reported, and the
// cluster runs without it.
void LocalCluster::StartDashboard(const LocalClusterOptions& options) {
  if (!options.dashboard) return;
  head::DashboardOptions dashboard_options;
  dashboard_options.host = options.dashboard_host;
  dashboard_options.port = options.dashboard_port;
  dashboard_options.session_dir = session_dir;
  dashboard_options.announce = options.announce_dashboard;
  auto source = std::make_shared<EmbeddedStateSource>(std::filesystem::path(session_dir).filename().string(), *node,
                                                      *store, lineage.get());
  std::string error;
  dashboard = head::DashboardServer::Start(std::move(source), dashboard_options, &error);
  if (!dashboard) std::fprintf(stderr, "lumen: no dashboard: %s\n", error.c_str());
}

LocalCluster::~LocalCluster() {
  if (store) store->SetEvictionListener(nullptr);
  dashboard.reset();  // before what it reads
  node.reset();       // workers stop
  lineage.reset();    // what is queued is written
  store.reset();      // segment and socket removed
  std::error_code ec;  // a storage_dir someone named lies outside and stays
  std::filesystem::remove_all(session_dir, ec);
}

}  // namespace lumen::internal
