// Starting and stopping lumen in a driver program.
//
// lumen::Init() with no address starts an embedded single-node cluster owned
// by this process: a node manager, an object store (one shared-memory segment)
// and worker processes that re-execute this very binary. In those worker
// processes Init (indeed main) never runs the driver's code: the runtime takes
// over before main. Call Init before anything with side effects in main.
#pragma once

#include <map>
#include <string>

namespace lumen {

// NON_DETACHED actors die with the process that created them; DETACHED ones
// live until killed or the cluster stops.
enum class ActorLifetime { NON_DETACHED, DETACHED };

struct Config {
  // "" starts an embedded cluster; "host:port" joins one started with
  // `lumen start --head` on this machine (env LUMEN_ADDRESS wins over an
  // empty field). A joined driver presents the cluster's secret: env
  // LUMEN_CLUSTER_SECRET, else the one its session on this machine keeps.
  std::string address;
  // Joined drivers: what the cluster's workers execute for this job; "" =
  // this program's own binary.
  std::string worker_binary;
  // Worker processes of an embedded cluster; 0 = the machine's cores.
  int num_cpus = 0;
  // Custom resources of the embedded node, e.g. {{"GPU", 1}}.
  std::map<std::string, double> resources;
  // Namespace of named actors; "" = a fresh one per job.
  std::string ns;
  // Lineage log directory of an embedded cluster; "" = a fresh one under /tmp.
  std::string storage_dir;
  // Size of the node's shared-memory object store; 0 = 512 MiB (env
  // LUMEN_OBJECT_STORE_MB sets the default). Prefaulted in the background.
  size_t object_store_bytes = 0;
  // Lifetime of actors created without SetLifetime.
  ActorLifetime default_actor_lifetime = ActorLifetime::NON_DETACHED;
  // Record every task and Put in the lineage log (env LUMEN_LINEAGE=0 turns it off).
  bool enable_lineage = true;
  // How long a worker process may stay silent (stopped, wedged, cut off)
  // before it is declared dead, killed and its tasks retried or failed; 0 =
  // 5000 ms (env LUMEN_WORKER_LIVENESS_MS sets the default). Workers send a
  // heartbeat every tenth of it from a thread of their own, so a task that
  // computes for longer does not make its worker silent. A silent worker is
  // declared dead between 1x and 1.1x this after its last message.
  int64_t worker_liveness_timeout_ms = 0;
  // The dashboard, its JSON API and /metrics, served by the driver of an
  // embedded cluster (env LUMEN_INCLUDE_DASHBOARD=0 turns it off). When the
  // port is taken, the next free one (up to 15 more); the URL is printed
  // and `lumen status` / `lumen list` find it.
  bool include_dashboard = true;
  std::string dashboard_host = "127.0.0.1";
  int dashboard_port = 8265;
};

void Init();
void Init(const Config& config);
void Init(const Config& config, int argc, char** argv);
bool IsInitialized();
std::string GetNamespace();
// Stops the workers, frees the object store and removes every file the
// cluster made (but a storage_dir you named). Safe to call twice; Init may be
// called again after it.
void Shutdown();

}  // namespace lumen
