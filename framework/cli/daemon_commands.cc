#include "daemon_commands.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include "lumen/errors.h"
#include "driver/cluster_file.h"
#include "driver/local_cluster.h"
#include "driver/session.h"
#include "protocol/tls_tunnel.h"
#include "head_registration.h"
#include "runtime/validation.h"

namespace lumen::cli {

using internal::ClusterFile;

namespace {

constexpr auto kStartWithin = std::chrono::seconds(60);  // a head that takes longer is reported
constexpr auto kStopWithin = std::chrono::seconds(10);   // then SIGKILL

std::string HostOf(const std::string& address) { return address.substr(0, address.rfind(':')); }
std::string HeadIp(const StartOptions& options) { return options.node_ip.empty() ? "127.0.0.1" : options.node_ip; }
std::string HeadAddress(const StartOptions& options) { return HeadIp(options) + ":" + std::to_string(options.port); }

std::map<std::string, double> ParseResources(const std::string& text) {
  std::map<std::string, double> resources;
  if (text.empty()) return resources;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) throw Error("--resources must be a JSON object of numbers, e.g. '{\"GPU\": 2}', got: " + text);
  for (auto& [name, amount] : j.items()) {
    if (!amount.is_number()) throw Error("--resources: '" + name + "' must be a number, got " + amount.dump());
    resources[name] = amount.get<double>();
  }
  internal::CheckNodeResources(resources, "--resources");
  if (resources.count("CPU")) throw Error("--resources: give CPUs with --num-cpus, not as a resource");
  return resources;
}

// What a daemon serves as: the head (a fresh secret, the lineage log) or one
// more node of the head at `head` (its secret; no log: the head's records
// what runs anywhere).
struct Role {
  std::optional<ClusterFile> head;  // set for a node; its node_socket a tls:// address if `remote`
  std::string secret;
  bool remote = false;  // a node that speaks to its head over TCP (another host's, or one with its own IP)
};

// The daemon: serves until SIGTERM, SIGINT or SIGHUP (a node: or until its
// head goes), then stops its parts and removes its session. `ready` gets
// one line: "ok SESSION" or "error: why".
[[noreturn]] void RunDaemon(const StartOptions& options, std::map<std::string, double> resources, const Role& role,
                            int ready) {
  auto tell = [&](const std::string& line) {
    std::string text = line + "\n";
    (void)!::write(ready, text.data(), text.size());
  };
  ::setsid();
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  ::dup2(null, STDIN_FILENO);
  // Before any thread starts, so that every thread inherits the mask and
  // only sigwait below takes these.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&stop_signals, s);
  ::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::unique_ptr<internal::LocalCluster> cluster;
  std::unique_ptr<HeadRegistration> registration;
  try {
    internal::RaiseDescriptorLimit();
    internal::RemoveDeadSessions();
    internal::LocalClusterOptions cluster_options;
    cluster_options.who = "lumen start";
    cluster_options.num_cpus =
        options.num_cpus > 0 ? options.num_cpus : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    cluster_options.resources = std::move(resources);
    cluster_options.node_name = options.node_name;
    cluster_options.lineage = !role.head;
    cluster_options.placement_groups = !role.head;  // a node holds the bundles its head places on it
    cluster_options.storage_dir = options.storage;
    cluster_options.dashboard = !role.head && !options.no_dashboard;
    cluster_options.dashboard_host = options.dashboard_host;
    cluster_options.dashboard_port = options.dashboard_port;
    cluster_options.announce_dashboard = false;  // the starter prints it
    cluster_options.serve_drivers = true;
    // A head restarted on its storage dir is the same cluster: it keeps the
    // secret there (0600), so its nodes and drivers come back to it.
    std::string secret = role.secret;
    bool keeps_secret = !role.head && !options.storage.empty();
    if (keeps_secret)
      if (std::string kept = internal::ReadClusterSecret(options.storage); !kept.empty()) secret = kept;
    cluster_options.cluster_secret = secret;  // before the node starts: it never serves without one
    if (!role.head || role.remote) {  // the head on its port; a remote node where its head reaches it
      cluster_options.listen_host = HeadIp(options);
      cluster_options.listen_port = role.head ? 0 : static_cast<uint16_t>(options.port);
    }
    cluster = internal::LocalCluster::Start(cluster_options);
    std::string log = cluster->session_dir + "/logs/" + (role.head ? "node.log" : "head.log");
    std::filesystem::create_directories(cluster->session_dir + "/logs");
    int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd >= 0) ::dup2(log_fd, STDOUT_FILENO), ::dup2(log_fd, STDERR_FILENO), ::close(log_fd);
    ClusterFile file;
    file.address = role.head ? role.head->address : HeadAddress(options);
    file.role = role.head ? "node" : "head";
    file.pid = ::getpid();
    file.session_dir = cluster->session_dir;
    file.node_socket = cluster->session_dir + "/node.sock";
    file.store_socket = cluster->session_dir + "/store.sock";
    if (cluster->dashboard) file.dashboard_url = cluster->dashboard->url();
    if (role.head) {  // join the head (and again when it comes back)
      // A remote node's head reaches it over TCP, its node and its store both at its tunnel entrance.
      std::string reached_at = role.remote ? cluster->node->RemoteAddress() : "";
      registration = std::make_unique<HeadRegistration>(
          *role.head, role.secret,
          HeadRegistration::Node{cluster->node_name, role.remote ? reached_at : file.node_socket,
                                 role.remote ? reached_at : file.store_socket, cluster->resources,
                                 [node = cluster->node.get()] {
                                   internal::NodeManager::Load load = node->GetLoad();
                                   return internal::NodeLoadMsg{load.workers, load.running_tasks};
                                 },
                                 [node = cluster->node.get()](const internal::Message& m) {
                                   return node->OnBundleCommand(m);
                                 },
                                 [node = cluster->node.get()] { node->ReturnAllBundles(); }},
          [](const std::string& why) {
            std::fprintf(stderr, "lumen: %s; stopping this node\n", why.c_str());
            ::kill(::getpid(), SIGTERM);
          });
    } else {
      internal::WriteClusterSecret(cluster->session_dir, secret);
      if (keeps_secret) internal::WriteClusterSecret(options.storage, secret);
    }
    internal::WriteClusterFile(file);
    std::fprintf(stderr, "lumen: %s of %s serving (pid %d, session %s)\n", file.role.c_str(), file.address.c_str(),
                 static_cast<int>(file.pid), file.session_dir.c_str());
    tell("ok " + file.session_dir);
  } catch (const std::exception& e) {
    tell(std::string("error: ") + e.what());
    registration.reset();
    cluster.reset();
    std::_Exit(1);
  }
  ::close(ready);
  int signo = 0;
  ::sigwait(&stop_signals, &signo);
  std::fprintf(stderr, "lumen: stopping (signal %d)\n", signo);
  std::fflush(stderr);
  registration.reset();  // the head re-runs elsewhere what ran here, at once
  cluster.reset();       // workers, store, log: stopped and flushed; the session dir removed
  std::_Exit(0);
}

// Forks the daemon and returns once it serves (0), or could not (1, and why).
int StartDaemon(const StartOptions& options, std::map<std::string, double> resources, const Role& role,
                std::string* session) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    std::perror("lumen start: pipe");
    return 1;
  }
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("lumen start: fork");
    return 1;
  }
  if (pid == 0) {
    ::close(pipe_fds[0]);
    RunDaemon(options, std::move(resources), role, pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  // Its one line, once it serves (or why it could not), within a bound.
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + kStartWithin;
  for (char c; line.empty() || line.back() != '\n';) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{pipe_fds[0], POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    if (::read(pipe_fds[0], &c, 1) != 1) break;
    line += c;
  }
  ::close(pipe_fds[0]);
  if (line.rfind("ok ", 0) != 0) {
    if (line.empty()) {
      std::fprintf(stderr, "lumen start: the daemon did not start within %d s; stopping it\n",
                   static_cast<int>(kStartWithin.count()));
      ::kill(pid, SIGKILL);
    } else {
      std::fprintf(stderr, "lumen start: %s", line.rfind("error: ", 0) == 0 ? line.c_str() + 7 : line.c_str());
    }
    return 1;
  }
  *session = line.substr(3, line.size() - 4);
  std::printf("lumen: started the %s of a cluster at %s (pid %d)%s\n", role.head ? "node" : "head",
              role.head ? role.head->address.c_str() : HeadAddress(options).c_str(), static_cast<int>(pid),
              role.remote ? ", over TCP" : "");
  std::printf("  session:   %s (logs in logs/)\n", session->c_str());
  return 0;
}

bool CheckCommon(const StartOptions& options, std::map<std::string, double>* resources) {
  if (options.num_cpus < 0) {
    std::fprintf(stderr, "lumen start: --num-cpus must be >= 0, got %d\n", options.num_cpus);
    return false;
  }
  try {
    *resources = ParseResources(options.resources_json);
  } catch (const Error& e) {
    std::fprintf(stderr, "lumen start: %s\n", e.what());
    return false;
  }
  return true;
}

int StartHead(const StartOptions& options) {
  if (options.port <= 0 || options.port > 65535) {
    std::fprintf(stderr, "lumen start: --port must be in 1..65535, got %d\n", options.port);
    return 2;
  }
  std::map<std::string, double> resources;
  if (!CheckCommon(options, &resources)) return 2;
  std::string address = HeadAddress(options);
  if (auto running = internal::FindCluster(address)) {
    std::fprintf(stderr, "lumen start: a lumen cluster already serves %s on this machine (pid %d); `lumen stop` it first\n",
                 address.c_str(), static_cast<int>(running->pid));
    return 1;
  }
  std::string session;
  int status = StartDaemon(options, std::move(resources), Role{std::nullopt, internal::RandomHex(32)}, &session);
  if (status != 0) return status;
  auto file = internal::FindCluster(address);
  if (file && !file->dashboard_url.empty()) std::printf("  dashboard: %s\n", file->dashboard_url.c_str());
  std::printf("\nJoin it from a driver on this machine:\n  LUMEN_ADDRESS=%s ./your_driver\n", address.c_str());
  std::printf("Add a node on this machine:\n  lumen start --address %s --num-cpus N\n", address.c_str());
  std::printf("A driver or node reads the cluster's secret from the session; to give it another way:\n"
              "  LUMEN_ADDRESS=%s LUMEN_CLUSTER_SECRET=$(cat %s) ./your_driver\n",
              address.c_str(), internal::SecretPath(session).c_str());
  std::printf("Add a node on another machine (this head's --node-ip must be one it can reach):\n"
              "  LUMEN_CLUSTER_SECRET=$(cat %s) lumen start --address %s --node-ip THAT_MACHINES_IP\n",
              internal::SecretPath(session).c_str(), address.c_str());
  std::printf("Stop it with `lumen stop`.\n");
  return 0;
}

int StartNode(const StartOptions& options) {
  std::map<std::string, double> resources;
  if (!CheckCommon(options, &resources)) return 2;
  const char* given = std::getenv("LUMEN_CLUSTER_SECRET");
  auto head = internal::FindCluster(options.address);
  Role role{head, given ? given : head ? internal::ReadClusterSecret(head->session_dir) : ""};
  // A head of another host, or one this node means to reach as if it were (its own IP): over TCP.
  role.remote = !head || (!options.node_ip.empty() && options.node_ip != HostOf(head->address));
  if (role.remote) {
    const std::string why_tcp =
        head ? "this node speaks to its head over TCP" : "no lumen head serves " + options.address + " on this machine";
    ClusterFile far;
    far.address = head ? head->address : options.address;
    far.node_socket = internal::TlsAddressOf(options.address);
    if (options.node_ip.empty() || far.node_socket.empty()) {
      std::fprintf(stderr, "lumen start: %s; give --node-ip, the address it reaches this node at%s\n", why_tcp.c_str(),
                   far.node_socket.empty() ? ", and --address as HOST:PORT" : "");
      return 1;
    }
    if (role.secret.empty()) {
      std::fprintf(stderr, "lumen start: %s; give its cluster's secret in LUMEN_CLUSTER_SECRET (the head printed how)\n",
                   why_tcp.c_str());
      return 1;
    }
    role.head = far;
  }
  std::string session;
  int status = StartDaemon(options, std::move(resources), role, &session);
  if (status == 0)
    std::printf("It runs the tasks of the cluster at %s that do not fit elsewhere.\n", role.head->address.c_str());
  return status;
}

bool Alive(pid_t pid) { return internal::ProcessRunning(pid); }

int Stop(const std::string& address) {
  std::vector<ClusterFile> clusters;
  if (address.empty()) {
    clusters = internal::ClustersOnThisMachine();
  } else {
    for (ClusterFile& c : internal::ClustersOnThisMachine())
      if (internal::SameAddress(c.address, address)) clusters.push_back(std::move(c));
  }
  if (clusters.empty()) {
    std::printf("lumen stop: no lumen daemon %s on this machine\n",
                address.empty() ? "runs" : ("serves " + address).c_str());
    return 0;
  }
  for (const ClusterFile& c : clusters) ::kill(c.pid, SIGTERM);
  int status = 0;
  for (const ClusterFile& c : clusters) {
    auto deadline = std::chrono::steady_clock::now() + kStopWithin;
    while (Alive(c.pid) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    bool killed = Alive(c.pid);
    if (killed) {  // its workers die with it (parent-death signal)
      ::kill(c.pid, SIGKILL);
      while (Alive(c.pid)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      std::error_code ec;
      std::filesystem::remove_all(c.session_dir, ec);
      status = 1;
    }
    std::printf("lumen stop: stopped the %s of %s (pid %d)%s\n", c.role.c_str(), c.address.c_str(), static_cast<int>(c.pid),
                killed ? ", killed: it did not stop within 10 s of SIGTERM" : "");
  }
  return status;
}

}  // namespace

DaemonCommands::DaemonCommands(CLI::App& app) {
  start_ = app.add_subcommand("start", "Start a cluster's daemons on this machine (the head, and its node)");
  start_->add_flag("--head", options_.head, "start the head: directory, lineage log, dashboard, and a node");
  start_->add_option("--address", options_.address, "add a node to the cluster at HOST:PORT")
      ->type_name("HOST:PORT");
  start_->add_option("--port", options_.port, "the head's port: the cluster's address is NODE_IP:PORT (default 6379)");
  start_->add_option("--node-ip", options_.node_ip,
                     "the address other hosts reach this daemon at (default 127.0.0.1: this host only)")
      ->type_name("IP");
  start_->add_option("--num-cpus", options_.num_cpus, "CPUs of the node (default: the machine's cores)")->type_name("N");
  start_->add_option("--node-name", options_.node_name,
                     "the node's name, for node affinity (default: node- and its session's id)")
      ->type_name("NAME");
  start_->add_option("--resources", options_.resources_json, "custom resources of the node, e.g. '{\"GPU\": 2}'")
      ->type_name("JSON");
  start_->add_option("--storage", options_.storage,
                     "the lineage log's dir, kept after stop (default: one in the session, removed at stop)")
      ->type_name("DIR");
  start_->add_option("--dashboard-host", options_.dashboard_host, "the dashboard's address (default 127.0.0.1)");
  start_->add_option("--dashboard-port", options_.dashboard_port, "the dashboard's port (default 8265, or the next free)");
  start_->add_flag("--no-dashboard", options_.no_dashboard, "serve no dashboard");
  start_->footer("Returns once the daemon serves. Drivers join with LUMEN_ADDRESS=NODE_IP:PORT (or Config::address); "
                 "each is a job with its own namespace and workers that run its binary. Other hosts' nodes and the "
                 "head speak TLS keyed by the cluster's secret (a node there gets it in LUMEN_CLUSTER_SECRET). "
                 "Logs: SESSION/logs/.");
  stop_ = app.add_subcommand("stop", "Stop this machine's lumen daemons (SIGTERM, then SIGKILL after 10 s)");
  stop_->add_option("--address", stop_address_, "stop only the cluster at HOST:PORT")->type_name("HOST:PORT");
}

bool DaemonCommands::Parsed() const { return start_->parsed() || stop_->parsed(); }

int DaemonCommands::Run() {
  if (stop_->parsed()) return Stop(stop_address_);
  if (!options_.address.empty() && options_.head) {
    std::fprintf(stderr, "lumen start: --head starts a cluster, --address joins one: not both\n");
    return 2;
  }
  if (!options_.address.empty()) return StartNode(options_);
  if (!options_.head) {
    std::fprintf(stderr, "lumen start: say --head (start a cluster) or --address HOST:PORT (join one)\n");
    return 2;
  }
  return StartHead(options_);
}

}  // namespace lumen::cli
