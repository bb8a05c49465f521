#include "cluster_benchmarks.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_cluster.h"
#include "driver/session.h"
#include "lumen/api.h"
#include "lumen/storage/object_store.h"
#include "runtime/command_line.h"
#include "transfer/object_transfer.h"
#include "transfer/remote_store.h"
#include "transfer/store_gateway.h"
#include "protocol/tls_tunnel.h"
#include "driver/local_cluster.h"

namespace lumen::cli {

// Sleeps, having said (in wall-clock ms) when it started.
double StartedAtThenSleep(int ms) {
  double now = std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return now;
}

}  // namespace lumen::cli

LUMEN_REMOTE(lumen::cli::StartedAtThenSleep);

namespace lumen::cli {
namespace {

double WallMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One daemon this run started (this binary's `start`), stopped by its pid.
class Daemon {
 public:
  explicit Daemon(const std::string& args) {
    std::string command = internal::OwnBinary() + " start --no-dashboard " + args + " 2>&1";
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) throw std::runtime_error("cannot run " + command);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out_.append(buf, n);
    int status = ::pclose(p);
    auto at = out_.find("(pid ");
    if (status != 0 || at == std::string::npos) throw std::runtime_error("lumen start " + args + " failed: " + out_);
    pid_ = std::atoi(out_.c_str() + at + 5);
  }
  ~Daemon() { Stop(SIGTERM); }
  void Stop(int signo) {
    if (pid_ <= 0) return;
    ::kill(pid_, signo);
    auto deadline = Clock::now() + std::chrono::seconds(15);
    while (internal::ProcessRunning(pid_) && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (internal::ProcessRunning(pid_)) ::kill(pid_, SIGKILL);
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }

 private:
  std::string out_;
  pid_t pid_ = -1;
};

std::string Address(int port) { return "127.0.0.1:" + std::to_string(port); }
int PortOfThisRun() { return 30000 + ::getpid() % 20000; }

void Join(int port) {
  lumen::Config config;
  config.address = Address(port);
  lumen::Init(config);
  std::vector<ObjectRef<std::string>> warm;
  for (int i = 0; i < 8; ++i) warm.push_back(lumen::Task(SmallValue).Remote());
  lumen::Get(warm);
}

// `n` nodes: a head and n - 1 more, each with this machine's cores.
std::vector<std::unique_ptr<Daemon>> StartNodes(int port, int n, const std::string& extra_for_others = "") {
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<Daemon>> daemons;
  daemons.push_back(std::make_unique<Daemon>("--head --port " + std::to_string(port) + " --num-cpus " +
                                             std::to_string(cpus)));
  for (int i = 1; i < n; ++i)
    daemons.push_back(std::make_unique<Daemon>("--address " + Address(port) + " --num-cpus " + std::to_string(cpus) +
                                               " " + extra_for_others));
  return daemons;
}

void JoinedAndMultiNode(Bench& b, int port) {
  for (int nodes = 1; nodes <= 3; ++nodes) {
    std::string name = "multi_node_tasks_async_" + std::to_string(nodes) + (nodes == 1 ? "_node" : "_nodes");
    bool sync = nodes == 1 && b.Wanted("joined_client_tasks_sync");
    if (!b.Wanted(name) && !sync) continue;
    b.Guard(name, [&] {
      auto daemons = StartNodes(port, nodes);
      Join(port);
      if (sync) b.TimeIt("joined_client_tasks_sync", [] { lumen::Get(lumen::Task(SmallValue).Remote()); });
      if (b.Wanted(name)) b.TimeIt(name, [] { SubmitAndGetBatch(kBatch); }, kBatch);
      lumen::Shutdown();
    });
    lumen::Shutdown();
  }
}

// One object copied store to store: segment to segment on this host
// (node_transfer_gigabytes), or pushed to a store served as to another host,
// through a TLS tunnel on the loopback (node_transfer_tcp_gigabytes).
void Transfer(Bench& b, bool over_tcp) {
  const std::string name = over_tcp ? "node_transfer_tcp_gigabytes" : "node_transfer_gigabytes";
  if (!b.Wanted(name)) return;
  b.Guard(name, [&] {
    const size_t bytes = b.quick() ? size_t{64} << 20 : size_t{256} << 20;
    std::string dir = std::filesystem::temp_directory_path() / ("lumen-transfer-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::unique_ptr<storage::StoreServer> from, to;
    for (auto* server : {&from, &to}) {
      storage::StoreConfig config;
      config.label = "lumen-bench-" + std::to_string(::getpid()) + (server == &from ? "-a" : "-b");
      config.socket_path = dir + (server == &from ? "/a.sock" : "/b.sock");
      config.capacity_bytes = bytes + (64 << 20);
      Status s = storage::StoreServer::Start(config, server);
      if (!s.ok()) throw std::runtime_error(s.message());
    }
    std::vector<uint8_t> value(bytes, 7);
    ObjectID id = ObjectID::ForPut();
    if (Status s = from->LocalClient()->Put(id, value.data(), value.size(), false); !s.ok())
      throw std::runtime_error(s.message());
    std::shared_ptr<storage::ObjectStore> target;
    std::unique_ptr<internal::StoreGateway> gateway;
    std::unique_ptr<internal::TunnelEntrance> entrance;
    std::string where = dir + "/b.sock";
    const std::string secret = internal::RandomHex(32);
    if (over_tcp) {  // the far store as the head sees another host's node
      gateway = std::make_unique<internal::StoreGateway>(to->LocalClient());
      std::string why;
      entrance = internal::TunnelEntrance::Listen(
          "127.0.0.1", 0, secret, [&](internal::TunnelService, int fd, const std::string& from) { gateway->Serve(fd, from); },
          &why);
      if (!entrance) throw std::runtime_error(why);
      where = entrance->address();
    }
    if (Status s = internal::ConnectToAnyStore(where, secret, &target); !s.ok()) throw std::runtime_error(s.message());
    auto source = from->LocalClient();
    b.TimeIt(name, [&] {
      uint64_t size = 0;
      Status s = internal::ObjectTransfer::CopyNow(*source, *target, id, false, &size);
      if (!s.ok()) throw std::runtime_error(s.message());
      (void)to->LocalClient()->Delete(id);  // so that the next copy copies again
    }, static_cast<double>(bytes) / 1e9);
    target.reset();
    entrance.reset();
    gateway.reset();
    to.reset();
    from.reset();
    std::filesystem::remove_all(dir);
  });
}

void NodeDeath(Bench& b, int port) {
  const std::string name = "node_death_to_rerun_ms";
  if (!b.Wanted(name)) return;
  b.Progress(name);
  b.Guard(name, [&] {
    std::vector<double> ms;
    for (int i = 0; i < (b.quick() ? 1 : 3); ++i) {
      Daemon head("--head --port " + std::to_string(port) + " --num-cpus 1");
      auto a = std::make_unique<Daemon>("--address " + Address(port) + " --num-cpus 1 --resources '{\"spot\": 1}'");
      Daemon c("--address " + Address(port) + " --num-cpus 1 --resources '{\"spot\": 1}'");
      Join(port);
      // One task per spot node: the second one shows where the first is.
      auto first = lumen::Task(StartedAtThenSleep).SetResource("spot", 1).Remote(400);
      std::this_thread::sleep_for(std::chrono::milliseconds(150));  // both started (a generous bound on this machine)
      double killed_at = WallMs();
      a->Stop(SIGKILL);
      c.Stop(SIGKILL);  // whichever ran it: the other is killed too, so the rerun waits for a fresh node
      Daemon d("--address " + Address(port) + " --num-cpus 1 --resources '{\"spot\": 1}'");
      double started = *lumen::Get(first, 60000);
      ms.push_back(started - killed_at);
      lumen::Shutdown();
    }
    b.ReportLatency(name, ms, "kill of the nodes running it until it starts on a node that joined after (incl. its start)");
  });
  lumen::Shutdown();
}

void HeadRestart(Bench& b, int port) {
  const std::string name = "head_restart_to_first_call_ms";
  if (!b.Wanted(name)) return;
  b.Progress(name);
  b.Guard(name, [&] {
    std::string storage = std::filesystem::temp_directory_path() / ("lumen-head-" + std::to_string(::getpid()));
    std::vector<double> ms;
    for (int i = 0; i < (b.quick() ? 1 : 3); ++i) {
      auto head = std::make_unique<Daemon>("--head --port " + std::to_string(port) + " --num-cpus 1 --storage " + storage);
      Join(port);
      lumen::Shutdown();
      head->Stop(SIGKILL);
      auto t0 = Clock::now();
      Daemon again("--head --port " + std::to_string(port) + " --num-cpus 1 --storage " + storage);
      lumen::Config config;
      config.address = Address(port);
      lumen::Init(config);
      lumen::Get(lumen::Task(SmallValue).Remote());
      ms.push_back(SecondsSince(t0) * 1000);
      lumen::Shutdown();
    }
    std::filesystem::remove_all(storage);
    b.ReportLatency(name, ms, "SIGKILL, then start on the same storage dir, join and one task");
  });
  lumen::Shutdown();
}

// Create, Wait, remove: on the embedded cluster one bundle of 1 CPU; on
// three daemons (a joined driver) three bundles STRICT_SPREAD, so each
// round prepares and commits on every node.
void PlacementGroups(Bench& b, int port) {
  for (int nodes : {1, 3}) {
    const std::string name = nodes == 1 ? "placement_group_create_removal" : "placement_group_create_removal_3_nodes";
    if (!b.Wanted(name)) continue;
    b.Guard(name, [&] {
      std::vector<std::map<std::string, double>> bundles(static_cast<size_t>(nodes), {{"CPU", 1}});
      std::vector<std::unique_ptr<Daemon>> daemons;
      if (nodes == 1) {
        StartCluster(/*lineage=*/true, /*large_store=*/false);
      } else {
        daemons = StartNodes(port, nodes);
        Join(port);
      }
      int n = 0;
      b.TimeIt(name, [&] {
        lumen::PlacementGroupCreationOptions options{"bench-" + std::to_string(n++), bundles,
                                                    nodes == 1 ? lumen::PlacementStrategy::PACK
                                                               : lumen::PlacementStrategy::STRICT_SPREAD};
        lumen::PlacementGroup pg = lumen::CreatePlacementGroup(options);
        if (!pg.Wait(10)) throw std::runtime_error("a placement group was not ready within 10 s");
        lumen::RemovePlacementGroup(pg.GetID());
      });
      lumen::Shutdown();
    });
    lumen::Shutdown();
  }
}

}  // namespace

void RunClusterDaemonBenchmarks(Bench& b) {
  int port = PortOfThisRun();
  JoinedAndMultiNode(b, port);
  Transfer(b, /*over_tcp=*/false);
  Transfer(b, /*over_tcp=*/true);
  NodeDeath(b, port);
  HeadRestart(b, port);
  PlacementGroups(b, port);
}

void ReportClusterRatios(Bench& b) {
  b.Ratio("joined_tasks_sync_over_embedded", "joined_client_tasks_sync", "single_client_tasks_sync");
  b.Ratio("node_transfer_over_memcpy", "node_transfer_gigabytes", "memcpy_gigabytes");
  b.Ratio("node_transfer_tcp_over_memcpy", "node_transfer_tcp_gigabytes", "memcpy_gigabytes");
  b.Ratio("tasks_async_3_nodes_over_1_node", "multi_node_tasks_async_3_nodes", "multi_node_tasks_async_1_node");
}

}  // namespace lumen::cli
