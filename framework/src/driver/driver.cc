// lumen::Init and Shutdown, and what the driver asks of its cluster: an
// embedded one (LocalCluster in this process, reached in process) or one a
// daemon serves that this driver joined (JoinedCluster, over its socket).
// Either way the API runs on the one client core.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include "lumen/cluster_info.h"
#include "lumen/config.h"
#include "lumen/errors.h"
#include "client/client_core.h"
#include "driver/joined_cluster.h"
#include "driver/local_cluster.h"
#include "driver/local_node_link.h"
#include "driver/placement_group_service.h"
#include "driver/session.h"
#include "runtime/current_core.h"
#include "runtime/validation.h"
#include "worker/worker.h"

namespace lumen {
namespace internal {
namespace {

// What this driver runs on: exactly one of `embedded` and `joined`.
struct Driver {
  std::unique_ptr<LocalCluster> embedded;
  std::unique_ptr<LocalNodeLink> link;  // the embedded driver's client core reaches its node through it
  std::unique_ptr<JoinedCluster> joined;
  std::unique_ptr<SignalGuard> signals;  // SIGINT/SIGTERM: clean up, then die as asked
  std::unique_ptr<PlacementGroupService> placement_groups;  // over `embedded` or `joined`: goes first
  const std::string& ns() const { return embedded ? embedded->ns : joined->ns; }
};

std::mutex g_mu;  // Init/Shutdown
std::unique_ptr<Driver> g_driver;

// A Config switch the environment overrides: `env`=0 turns it off, any
// other value on.
bool SwitchedOn(const char* env, bool configured) {
  const char* value = std::getenv(env);
  return value ? std::string(value) != "0" : configured;
}

LocalCluster& Embedded(const char* what) {
  if (!g_driver) throw Error(std::string(what) + ": lumen is not running as a driver here; call lumen::Init() first");
  if (!g_driver->embedded)
    throw Error(std::string(what) + ": not available yet to a driver that joined a cluster (address " +
                g_driver->joined->address + ")");
  return *g_driver->embedded;
}

void CheckConfig(const Config& config) {
  if (config.num_cpus < 0) throw Error("lumen::Init: Config::num_cpus must be >= 0, got " + std::to_string(config.num_cpus));
  if (config.worker_liveness_timeout_ms < 0)
    throw Error("lumen::Init: Config::worker_liveness_timeout_ms must be >= 0, got " +
                std::to_string(config.worker_liveness_timeout_ms));
  CheckNodeResources(config.resources, "lumen::Init: Config::resources");
}

std::unique_ptr<Driver> StartEmbedded(const Config& config) {
  LocalClusterOptions options;
  options.num_cpus =
      config.num_cpus > 0 ? config.num_cpus : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.resources = config.resources;
  options.object_store_bytes = config.object_store_bytes;
  options.lineage = SwitchedOn("LUMEN_LINEAGE", config.enable_lineage);
  options.storage_dir = config.storage_dir;
  options.ns = config.ns;
  options.actors_detached_by_default = config.default_actor_lifetime == ActorLifetime::DETACHED;
  options.worker_liveness_timeout_ms = config.worker_liveness_timeout_ms;
  options.dashboard = SwitchedOn("LUMEN_INCLUDE_DASHBOARD", config.include_dashboard);
  options.dashboard_host = config.dashboard_host;
  options.dashboard_port = config.dashboard_port;
  auto driver = std::make_unique<Driver>();
  driver->embedded = LocalCluster::Start(options);
  driver->link = std::make_unique<LocalNodeLink>(*driver->embedded->node);
  SetCurrentCore(std::make_shared<ClientCore>(*driver->link, driver->embedded->store->LocalClient(),
                                              ClientCore::Refs::kAtOnce));
  driver->signals = SignalGuard::Install(driver->embedded->session_dir, driver->embedded->lineage.get());
  driver->placement_groups = EmbeddedPlacementGroups(*driver->embedded->placement_groups);
  return driver;
}

std::unique_ptr<Driver> StartJoined(const Config& config, const std::string& address) {
  auto driver = std::make_unique<Driver>();
  driver->joined = JoinCluster(config, address);
  // Its references go at once: a driver may idle for long between calls.
  SetCurrentCore(
      std::make_shared<ClientCore>(*driver->joined->link, driver->joined->store, ClientCore::Refs::kAtOnce));
  driver->placement_groups = JoinedPlacementGroups(*driver->joined);
  return driver;
}

}  // namespace

// Not under g_mu: a Wait may take its timeout, as the embedded table's does.
PlacementGroupService& DriverPlacementGroups() {
  if (!g_driver)
    throw Error("placement groups are managed by the driver: call lumen::Init() first (not available inside tasks)");
  return *g_driver->placement_groups;
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
  if (g_driver) throw Error("lumen::Init: lumen is already running; call lumen::Shutdown() first");
  std::string address = config.address;
  if (address.empty())
    if (const char* env = std::getenv("LUMEN_ADDRESS")) address = env;
  CheckConfig(config);
  RaiseDescriptorLimit();
  RemoveDeadSessions();
  g_driver = address.empty() ? StartEmbedded(config) : StartJoined(config, address);
}

void Flush() {
  std::lock_guard lock(g_mu);
  if (!g_driver) throw Error("lumen::Flush: lumen is not running as a driver here; call lumen::Init() first");
  if (g_driver->joined) return FlushJoined(*g_driver->joined);
  std::string why = g_driver->embedded->node->MakeDurable(NodeManager::kFlushBoundMs);
  if (!why.empty()) throw Error("lumen::Flush: " + why);
}

namespace internal {
std::string ProvenanceOf(const ObjectID& id) {
  std::lock_guard lock(g_mu);
  LocalCluster& cluster = Embedded("lumen::Lineage");
  if (!cluster.lineage) throw Error("lumen::Lineage: lineage is off (Config::enable_lineage)");
  cluster.lineage->Flush(5000);  // records become visible once durable
  std::string tree;
  storage::ProvenanceQuery query;
  NodeManager* node = cluster.node.get();
  query.exists = [node](const ObjectID& oid) { return node->HasObject(oid); };
  Status s = cluster.lineage->Provenance(id, query, &tree);
  if (!s.ok()) throw Error("lumen::Lineage: " + s.message());
  return tree;
}
}  // namespace internal

ClusterInfo GetClusterInfo() {
  std::lock_guard lock(g_mu);
  if (!g_driver) throw Error("lumen::GetClusterInfo: lumen is not running as a driver here; call lumen::Init() first");
  ClusterInfo info;
  if (JoinedCluster* joined = g_driver->joined.get()) {  // what the node told at Join
    info.node_name = joined->node_name;
    info.session_dir = joined->session_dir;
    info.resources = joined->resources;
    info.dashboard_url = joined->dashboard_url;
    return info;
  }
  LocalCluster& cluster = *g_driver->embedded;
  NodeManager::Counters c = cluster.node->GetCounters();
  info.node_name = cluster.node_name;
  info.session_dir = cluster.session_dir;
  info.resources = cluster.resources;
  info.worker_pids = std::move(c.worker_pids);
  info.num_objects = c.num_objects;
  info.worker_deaths_seen_by_caf = c.deaths_seen_by_caf;
  info.worker_deaths_seen_by_reaping = c.deaths_seen_by_reaping;
  info.objects_evicted = c.objects_evicted;
  info.tasks_rebuilt = c.tasks_rebuilt;
  info.supervisor_port = c.supervisor_port;
  if (cluster.dashboard) info.dashboard_url = cluster.dashboard->url();
  storage::StoreStats stats = cluster.store->LocalClient()->Stats();
  info.store_used_bytes = stats.used_bytes;
  info.store_capacity_bytes = stats.capacity_bytes;
  info.store_spilled_objects = stats.num_spilled;
  return info;
}

// In a worker, lumen runs from before main: both answer as in the driver.
bool IsInitialized() {
  if (IsWorkerProcess()) return HasCurrentCore();
  std::lock_guard lock(g_mu);
  return g_driver != nullptr;
}

std::string GetNamespace() {
  if (IsWorkerProcess()) return WorkerNamespace();
  std::lock_guard lock(g_mu);
  if (!g_driver) throw Error("lumen::GetNamespace: lumen is not running; call lumen::Init() first");
  return g_driver->ns();
}

void Shutdown() {
  std::lock_guard lock(g_mu);
  if (!g_driver) return;
  g_driver->signals.reset();  // the default disposition again
  SetCurrentCore(nullptr);
  g_driver->link.reset();
  g_driver.reset();  // a joined driver's socket closes (its job ends); an embedded cluster stops
}

}  // namespace lumen
