#include "daemon_commands.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "lumen/errors.h"
#include "driver/cluster_file.h"
#include "driver/local_cluster.h"
#include "driver/session.h"
#include "runtime/validation.h"

namespace lumen::cli {

using internal::ClusterFile;

namespace {

constexpr auto kStartWithin = std::chrono::seconds(60);  // a head that takes longer is reported
constexpr auto kStopWithin = std::chrono::seconds(10);   // then SIGKILL

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

// The daemon: serves until SIGTERM, SIGINT or SIGHUP, then stops its parts
// and removes its session. `ready` gets one line: "ok" or "error: why".
[[noreturn]] void RunHead(const StartOptions& options, std::map<std::string, double> resources, int ready) {
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
  try {
    internal::RaiseDescriptorLimit();
    internal::RemoveDeadSessions();
    internal::LocalClusterOptions cluster_options;
    cluster_options.who = "lumen start";
    cluster_options.num_cpus =
        options.num_cpus > 0 ? options.num_cpus : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    cluster_options.resources = std::move(resources);
    cluster_options.storage_dir = options.storage;
    cluster_options.dashboard = !options.no_dashboard;
    cluster_options.dashboard_host = options.dashboard_host;
    cluster_options.dashboard_port = options.dashboard_port;
    cluster_options.announce_dashboard = false;  // the starter prints it
    cluster_options.serve_drivers = true;
    // The secret is made before the node starts, so it never serves without one.
    std::string secret = internal::RandomHex(32);
    cluster_options.cluster_secret = secret;
    cluster = internal::LocalCluster::Start(cluster_options);
    std::string log = cluster->session_dir + "/logs/head.log";
    std::filesystem::create_directories(cluster->session_dir + "/logs");
    int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd >= 0) ::dup2(log_fd, STDOUT_FILENO), ::dup2(log_fd, STDERR_FILENO), ::close(log_fd);
    internal::WriteClusterSecret(cluster->session_dir, secret);
    ClusterFile file;
    file.address = "127.0.0.1:" + std::to_string(options.port);
    file.pid = ::getpid();
    file.session_dir = cluster->session_dir;
    file.node_socket = cluster->session_dir + "/node.sock";
    file.store_socket = cluster->session_dir + "/store.sock";
    if (cluster->dashboard) file.dashboard_url = cluster->dashboard->url();
    internal::WriteClusterFile(file);
    std::fprintf(stderr, "lumen: head of %s serving (pid %d, session %s)\n", file.address.c_str(),
                 static_cast<int>(file.pid), file.session_dir.c_str());
    tell("ok " + file.session_dir);
  } catch (const std::exception& e) {
    tell(std::string("error: ") + e.what());
    cluster.reset();
    std::_Exit(1);
  }
  ::close(ready);
  int signo = 0;
  ::sigwait(&stop_signals, &signo);
  std::fprintf(stderr, "lumen: stopping (signal %d)\n", signo);
  std::fflush(stderr);
  cluster.reset();  // workers, store, log: stopped and flushed; the session dir removed
  std::_Exit(0);
}

int StartHead(const StartOptions& options) {
  if (options.port <= 0 || options.port > 65535) {
    std::fprintf(stderr, "lumen start: --port must be in 1..65535, got %d\n", options.port);
    return 2;
  }
  if (options.num_cpus < 0) {
    std::fprintf(stderr, "lumen start: --num-cpus must be >= 0, got %d\n", options.num_cpus);
    return 2;
  }
  std::map<std::string, double> resources;
  try {
    resources = ParseResources(options.resources_json);
  } catch (const Error& e) {
    std::fprintf(stderr, "lumen start: %s\n", e.what());
    return 2;
  }
  std::string address = "127.0.0.1:" + std::to_string(options.port);
  if (auto running = internal::FindCluster(address)) {
    std::fprintf(stderr, "lumen start: a lumen cluster already serves %s on this machine (pid %d); `lumen stop` it first\n",
                 address.c_str(), static_cast<int>(running->pid));
    return 1;
  }
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
    RunHead(options, std::move(resources), pipe_fds[1]);
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
      std::fprintf(stderr, "lumen start: the head did not start within %d s; stopping it\n",
                   static_cast<int>(kStartWithin.count()));
      ::kill(pid, SIGKILL);
    } else {
      std::fprintf(stderr, "lumen start: %s", line.rfind("error: ", 0) == 0 ? line.c_str() + 7 : line.c_str());
    }
    return 1;
  }
  std::string session = line.substr(3, line.size() - 4);
  auto file = internal::FindCluster(address);
  std::printf("lumen: started the head of a cluster at %s (pid %d)\n", address.c_str(), static_cast<int>(pid));
  std::printf("  session:   %s (logs in logs/)\n", session.c_str());
  if (file && !file->dashboard_url.empty()) std::printf("  dashboard: %s\n", file->dashboard_url.c_str());
  std::printf("\nJoin it from a driver on this machine:\n  LUMEN_ADDRESS=%s ./your_driver\n", address.c_str());
  std::printf("A driver reads the cluster's secret from the session; from elsewhere (another user, a container):\n"
              "  LUMEN_ADDRESS=%s LUMEN_CLUSTER_SECRET=$(cat %s) ./your_driver\n",
              address.c_str(), internal::SecretPath(session).c_str());
  std::printf("Stop it with `lumen stop`.\n");
  return 0;
}

bool Alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

int Stop(const std::string& address) {
  std::vector<ClusterFile> clusters;
  if (address.empty()) {
    clusters = internal::ClustersOnThisMachine();
  } else if (auto one = internal::FindCluster(address)) {
    clusters.push_back(*one);
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
    std::printf("lumen stop: stopped the head of %s (pid %d)%s\n", c.address.c_str(), static_cast<int>(c.pid),
                killed ? ", killed: it did not stop within 10 s of SIGTERM" : "");
  }
  return status;
}

}  // namespace

DaemonCommands::DaemonCommands(CLI::App& app) {
  start_ = app.add_subcommand("start", "Start a cluster's daemons on this machine (the head, and its node)");
  start_->add_flag("--head", options_.head, "start the head: directory, lineage log, dashboard, and a node");
  start_->add_option("--address", options_.address, "add a node to the cluster at HOST:PORT (not supported yet)")
      ->type_name("HOST:PORT");
  start_->add_option("--port", options_.port, "the cluster's port: its address is 127.0.0.1:PORT (default 6379)");
  start_->add_option("--num-cpus", options_.num_cpus, "CPUs of the node (default: the machine's cores)")->type_name("N");
  start_->add_option("--resources", options_.resources_json, "custom resources of the node, e.g. '{\"GPU\": 2}'")
      ->type_name("JSON");
  start_->add_option("--storage", options_.storage,
                     "the lineage log's dir, kept after stop (default: one in the session, removed at stop)")
      ->type_name("DIR");
  start_->add_option("--dashboard-host", options_.dashboard_host, "the dashboard's address (default 127.0.0.1)");
  start_->add_option("--dashboard-port", options_.dashboard_port, "the dashboard's port (default 8265, or the next free)");
  start_->add_flag("--no-dashboard", options_.no_dashboard, "serve no dashboard");
  start_->footer("Returns once the head serves. Drivers join with LUMEN_ADDRESS=127.0.0.1:PORT (or Config::address); "
                 "each is a job with its own namespace and workers that run its binary. Logs: SESSION/logs/.");
  stop_ = app.add_subcommand("stop", "Stop this machine's lumen daemons (SIGTERM, then SIGKILL after 10 s)");
  stop_->add_option("--address", stop_address_, "stop only the cluster at HOST:PORT")->type_name("HOST:PORT");
}

bool DaemonCommands::Parsed() const { return start_->parsed() || stop_->parsed(); }

int DaemonCommands::Run() {
  if (stop_->parsed()) return Stop(stop_address_);
  if (!options_.address.empty()) {
    std::fprintf(stderr, "lumen start --address: adding a node to a cluster is not supported yet; a cluster is its "
                         "head's node for now (lumen start --head)\n");
    return 1;
  }
  if (!options_.head) {
    std::fprintf(stderr, "lumen start: say --head (start a cluster) or --address HOST:PORT (join one)\n");
    return 2;
  }
  return StartHead(options_);
}

}  // namespace lumen::cli
