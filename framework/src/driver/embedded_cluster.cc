// Init and Shutdown of an embedded cluster: the store, the lineage log and the
// node manager inside the driver, and what the driver asks of them.

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "lumen/cluster_info.h"
#include "lumen/config.h"
#include "lumen/errors.h"
#include "lumen/storage/lineage_log.h"
#include "lumen/storage/object_store.h"
#include "client/client_core.h"
#include "driver/embedded_state_source.h"
#include "driver/local_node_link.h"
#include "head/dashboard_server.h"
#include "driver/session.h"
#include "node/node_manager.h"
#include "node/placement_groups.h"
#include "runtime/current_core.h"
#include "runtime/validation.h"
#include "worker/worker.h"

namespace lumen {
namespace internal {
namespace {

// What an embedded cluster owns, destroyed in reverse order by Shutdown.
struct Cluster {
  std::string session_dir;
  std::string storage_dir;
  std::string ns;
  std::string node_name;
  std::map<std::string, double> resources;
  std::unique_ptr<PlacementGroupTable> placement_groups;
  std::unique_ptr<storage::StoreServer> store;
  std::unique_ptr<storage::LineageLog> lineage;
  std::unique_ptr<NodeManager> node;
  std::unique_ptr<LocalNodeLink> link;  // the driver's client core reaches the node through it
  std::unique_ptr<head::DashboardServer> dashboard;
  std::unique_ptr<SignalGuard> signals;  // SIGINT/SIGTERM: clean up, then die as asked
};

std::mutex g_mu;                  // Init/Shutdown
std::unique_ptr<Cluster> g_cluster;

std::string RandomSuffix() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", rd());
  return buf;
}

size_t DefaultStoreBytes() {
  if (const char* mb = std::getenv("LUMEN_OBJECT_STORE_MB")) return std::strtoull(mb, nullptr, 10) << 20;
  return size_t{512} << 20;
}

// A Config switch the environment overrides: `env`=0 turns it off, any
// other value on.
bool SwitchedOn(const char* env, bool configured) {
  const char* value = std::getenv(env);
  return value ? std::string(value) != "0" : configured;
}

// A dashboard that cannot start (every port taken) is reported, and the
// cluster runs without it.
void StartDashboard(const Config& config, Cluster& cluster) {
  if (!SwitchedOn("LUMEN_INCLUDE_DASHBOARD", config.include_dashboard)) return;
  head::DashboardOptions options;
  options.host = config.dashboard_host;
  options.port = config.dashboard_port;
  options.session_dir = cluster.session_dir;
  options.announce = true;
  auto source = std::make_shared<EmbeddedStateSource>(std::filesystem::path(cluster.session_dir).filename().string(),
                                                      *cluster.node, *cluster.store, cluster.lineage.get());
  std::string error;
  cluster.dashboard = head::DashboardServer::Start(std::move(source), options, &error);
  if (!cluster.dashboard) std::fprintf(stderr, "lumen: no dashboard: %s\n", error.c_str());
}

}  // namespace

PlacementGroupTable& PlacementGroups() {
  if (!g_cluster) throw Error("placement groups are managed by the driver of an embedded cluster: call lumen::Init() first (not available inside tasks yet)");
  return *g_cluster->placement_groups;
}

}  // namespace internal

using namespace internal;

void Init() { Init(Config{}); }
void Init(const Config& config, int, char**) { Init(config); }

void Init(const Config& config) {
  if (IsWorkerProcess()) {
    // Task code calling Init (e.g. `if (!IsInitialized()) Init();` gone
    // wrong) must not restart the worker; binaries linked without
    // --wrap=main become workers here.
    if (HasCurrentCore()) throw Error("lumen::Init: lumen is already running in this worker process");
    std::_Exit(RunWorker());
  }
  std::lock_guard lock(g_mu);
  if (g_cluster) throw Error("lumen::Init: lumen is already running; call lumen::Shutdown() first");
  std::string address = config.address;
  if (address.empty())
    if (const char* env = std::getenv("LUMEN_ADDRESS")) address = env;
  if (!address.empty())
    throw Error("lumen::Init: joining a running cluster (address '" + address +
                "') is not supported yet; leave Config::address empty (and LUMEN_ADDRESS unset) for an embedded cluster");
  int cpus = config.num_cpus > 0 ? config.num_cpus : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (config.num_cpus < 0) throw Error("lumen::Init: Config::num_cpus must be >= 0, got " + std::to_string(config.num_cpus));
  if (config.worker_liveness_timeout_ms < 0)
    throw Error("lumen::Init: Config::worker_liveness_timeout_ms must be >= 0, got " +
                std::to_string(config.worker_liveness_timeout_ms));
  CheckResources(config.resources, "lumen::Init: Config::resources");
  RaiseDescriptorLimit();
  RemoveDeadSessions();

  auto cluster = std::make_unique<Cluster>();
  std::string id = std::to_string(getpid()) + "-" + RandomSuffix();
  cluster->session_dir = MakePrivateSessionDir(id);
  cluster->ns = config.ns.empty() ? "job-" + id : config.ns;

  storage::StoreConfig store_config;
  store_config.label = "lumen-" + id;
  store_config.socket_path = cluster->session_dir + "/store.sock";
  store_config.capacity_bytes = config.object_store_bytes ? config.object_store_bytes : DefaultStoreBytes();
  store_config.spill_dir = cluster->session_dir + "/spill";
  Status s = storage::StoreServer::Start(store_config, &cluster->store);
  if (!s.ok()) {
    std::filesystem::remove_all(cluster->session_dir);
    throw Error("lumen::Init: cannot start the object store: " + s.message());
  }

  bool lineage_on = SwitchedOn("LUMEN_LINEAGE", config.enable_lineage);
  if (lineage_on) {
    cluster->storage_dir = config.storage_dir.empty() ? cluster->session_dir + "/lineage" : config.storage_dir;
    s = storage::LineageLog::Open(cluster->storage_dir, storage::LineageOptions{}, &cluster->lineage);
    if (s.ok()) {
      MakePrivate(cluster->storage_dir);
      NoteStorageHolder(cluster->storage_dir);
    }
    if (!s.ok()) {
      cluster->store.reset();
      std::filesystem::remove_all(cluster->session_dir);
      throw Error("lumen::Init: cannot open the lineage log in " + cluster->storage_dir + ": " + s.message() +
                  StorageHolder(cluster->storage_dir));
    }
  }

  NodeOptions node;
  node.num_workers = cpus;
  node.resources = config.resources;
  node.resources["CPU"] = cpus;
  node.session_dir = cluster->session_dir;
  node.log_dir = cluster->session_dir + "/logs";
  node.store_socket = store_config.socket_path;
  node.store = cluster->store->LocalClient();
  node.lineage = cluster->lineage.get();
  node.node_name = "node-" + id;
  node.ns = cluster->ns;
  node.actors_detached_by_default = config.default_actor_lifetime == ActorLifetime::DETACHED;
  node.worker_liveness_timeout_ms = config.worker_liveness_timeout_ms;
  // Only a storage dir the user named outlives the process: only there are
  // large Puts worth a durable copy (the default one goes at Shutdown).
  if (lineage_on && !config.storage_dir.empty()) {
    node.put_copies_dir = config.storage_dir + "/puts";
    uint64_t bytes = 0;  // what retention removed the records of, and what a killed driver half wrote
    PutCopies::Sweep(node.put_copies_dir, [&](const ObjectID& id) { return cluster->lineage->GetObject(id).has_value(); },
                     &bytes);
  }
  cluster->node_name = node.node_name;
  cluster->resources = node.resources;
  cluster->placement_groups = std::make_unique<PlacementGroupTable>(node.resources);
  node.placement_groups = cluster->placement_groups.get();
  cluster->node = NodeManager::Start(std::move(node));
  cluster->node->RestoreActors();  // a log of an earlier run: its detached named actors come back
  // Evicted objects are marked lost, to be rebuilt from lineage when needed.
  cluster->store->SetEvictionListener([raw = cluster->node.get()](const ObjectID& id) { raw->OnEvicted(id); });
  cluster->link = std::make_unique<LocalNodeLink>(*cluster->node);
  SetCurrentCore(std::make_shared<ClientCore>(*cluster->link, cluster->store->LocalClient(), ClientCore::Refs::kAtOnce));
  StartDashboard(config, *cluster);
  cluster->signals = SignalGuard::Install(cluster->session_dir, cluster->lineage.get());
  g_cluster = std::move(cluster);
}

void Flush() {
  std::lock_guard lock(g_mu);
  if (!g_cluster) throw Error("lumen::Flush: lumen is not running as a driver here; call lumen::Init() first");
  if (!g_cluster->lineage) throw Error("lumen::Flush: lineage is off (Config::enable_lineage), so nothing is made durable");
  constexpr int64_t kBoundMs = 60000;  // a disk that takes longer is reported, not waited on forever
  std::string why;
  if (!g_cluster->node->FlushPutCopies(kBoundMs, &why)) throw Error("lumen::Flush: " + why);
  if (!g_cluster->lineage->Flush(kBoundMs)) {
    Status error = g_cluster->lineage->LastError();
    throw Error("lumen::Flush: the lineage log could not make everything durable" +
                (error.ok() ? " within " + std::to_string(kBoundMs / 1000) + " s" : ": " + error.message()));
  }
}

namespace internal {
std::string ProvenanceOf(const ObjectID& id) {
  std::lock_guard lock(g_mu);
  if (!g_cluster) throw Error("lumen::Lineage: lumen is not running as a driver here; call lumen::Init() first");
  if (!g_cluster->lineage) throw Error("lumen::Lineage: lineage is off (Config::enable_lineage)");
  g_cluster->lineage->Flush(5000);  // records become visible once durable
  std::string tree;
  storage::ProvenanceQuery query;
  NodeManager* node = g_cluster->node.get();
  query.exists = [node](const ObjectID& oid) { return node->HasObject(oid); };
  Status s = g_cluster->lineage->Provenance(id, query, &tree);
  if (!s.ok()) throw Error("lumen::Lineage: " + s.message());
  return tree;
}
}  // namespace internal

ClusterInfo GetClusterInfo() {
  std::lock_guard lock(g_mu);
  if (!g_cluster) throw Error("lumen::GetClusterInfo: lumen is not running as a driver here; call lumen::Init() first");
  ClusterInfo info;
  NodeManager::Counters c = g_cluster->node->GetCounters();
  info.node_name = g_cluster->node_name;
  info.session_dir = g_cluster->session_dir;
  info.resources = g_cluster->resources;
  info.worker_pids = std::move(c.worker_pids);
  info.num_objects = c.num_objects;
  info.worker_deaths_seen_by_caf = c.deaths_seen_by_caf;
  info.worker_deaths_seen_by_reaping = c.deaths_seen_by_reaping;
  info.objects_evicted = c.objects_evicted;
  info.tasks_rebuilt = c.tasks_rebuilt;
  info.supervisor_port = c.supervisor_port;
  if (g_cluster->dashboard) info.dashboard_url = g_cluster->dashboard->url();
  storage::StoreStats stats = g_cluster->store->LocalClient()->Stats();
  info.store_used_bytes = stats.used_bytes;
  info.store_capacity_bytes = stats.capacity_bytes;
  info.store_spilled_objects = stats.num_spilled;
  return info;
}

// In a worker, lumen runs from before main: both answer as in the driver.
bool IsInitialized() {
  if (IsWorkerProcess()) return HasCurrentCore();
  std::lock_guard lock(g_mu);
  return g_cluster != nullptr;
}

std::string GetNamespace() {
  if (IsWorkerProcess()) return WorkerNamespace();
  std::lock_guard lock(g_mu);
  if (!g_cluster) throw Error("lumen::GetNamespace: lumen is not running; call lumen::Init() first");
  return g_cluster->ns;
}

void Shutdown() {
  std::lock_guard lock(g_mu);
  if (!g_cluster) return;
  g_cluster->signals.reset();  // the default disposition again
  SetCurrentCore(nullptr);
  g_cluster->store->SetEvictionListener(nullptr);
  g_cluster->dashboard.reset();  // before what it reads
  g_cluster->link.reset();
  g_cluster->node.reset();     // workers stop
  g_cluster->lineage.reset();  // what is queued is written
  g_cluster->store.reset();    // segment and socket removed
  std::error_code ec;  // a storage_dir the user named lies outside and stays
  std::filesystem::remove_all(g_cluster->session_dir, ec);
  g_cluster.reset();
}

}  // namespace lumen
