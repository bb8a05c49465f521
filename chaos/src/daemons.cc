#include "daemons.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "workload.h"

namespace chaos {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kStartBound{70000};  // `lumen start` gives its daemon 60 s to serve
constexpr milliseconds kStopBound{15000};   // SIGTERM until a daemon is gone
constexpr milliseconds kWorkersBound{5000}; // a daemon gone until its workers are

fs::path SegmentOf(const std::string& session_dir) { return fs::path("/dev/shm") / fs::path(session_dir).filename(); }

// Handles on the children of `pid` that run now (its workers), made before anything is signalled.
void AddChildren(pid_t pid, std::vector<ProcessHandle>* handles) {
  for (pid_t child : ChildrenOf(pid))
    if (StateOf(child) != ProcessState::kZombie) handles->emplace_back(child);
}

std::vector<pid_t> PidsOf(const std::vector<ProcessHandle>& handles) {
  std::vector<pid_t> pids;
  for (const ProcessHandle& h : handles) pids.push_back(h.pid());
  return pids;
}

}  // namespace

LocalDaemons::LocalDaemons(DaemonOptions options)
    : options_(std::move(options)), abandon_([list = abandon_list_] {
        std::lock_guard lock(list->mu);
        for (const auto& p : list->processes) p->Signal(SIGKILL);  // their workers die with them
        std::error_code ignore;
        for (const std::string& s : list->sessions) fs::remove_all(s, ignore), fs::remove(SegmentOf(s), ignore);
      }) {}

LocalDaemons::~LocalDaemons() {
  std::vector<ProcessHandle> workers, live;
  for (Daemon& d : daemons_)
    if (Alive(d)) {
      AddChildren(d.pid, &workers);
      live.emplace_back(d.pid);
      d.process->Signal(SIGKILL);
    }
  AwaitExits(live, Clock::now() + kWorkersBound);
  for (const ProcessHandle& w : workers) w.Signal(SIGKILL);
  for (const Daemon& d : daemons_) Forget(d);
}

std::string LocalDaemons::StartHead() {
  std::vector<std::string> common{"start", "--head", "--no-dashboard", "--num-cpus", std::to_string(options_.head_cpus),
                                  "--storage", options_.storage_dir, "--port"};
  if (port_ != 0) {  // a restart: the same cluster
    common.push_back(std::to_string(port_));
    return Start(common, true);
  }
  // A port of its own: it names the cluster (the daemons find each other by
  // it); another run's cluster may hold one, so a few are tried. Below the
  // kernel's ephemeral range (32768 up), where an outgoing connection may
  // hold the port when the head restarts on it; the tests' heads take
  // 10000-27999.
  std::string why;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int port = 28000 + static_cast<int>((::getpid() * 13L + attempt * 101L) % 4768);
    std::vector<std::string> args = common;
    args.push_back(std::to_string(port));
    why = Start(args, true);
    if (why.empty()) {
      port_ = port;
      address_ = "127.0.0.1:" + std::to_string(port);
      return "";
    }
    if (why.find("already serves") == std::string::npos && why.find("cannot listen") == std::string::npos) return why;
  }
  return why;
}

// Every other node speaks TCP to the head, as a node of another host would
// (an IP of its own on the loopback), so faults hit both kinds of links.
std::string LocalDaemons::AddNode() {
  const std::string slots = "{\"" + std::string(kNodeResource) + "\": " + std::to_string(options_.node_cpus) + "}";
  std::vector<std::string> args{"start", "--address", address_, "--num-cpus", std::to_string(options_.node_cpus),
                                "--resources", slots};
  if (nodes_added_++ % 2 == 1) args.insert(args.end(), {"--node-ip", "127.0.0.2"});
  return Start(args, false);
}

std::string LocalDaemons::Start(const std::vector<std::string>& args, bool head) {
  CommandRun run = RunCommand(options_.cli, args, kStartBound);
  const size_t at = run.out.find("(pid ");
  const size_t session = run.out.find("session:   ");
  std::string command = "lumen";
  for (const std::string& a : args) command += " " + a;
  if (run.status != 0 || at == std::string::npos || session == std::string::npos)
    return "`" + command + "` exited with " + std::to_string(run.status) + ": " + run.out;
  Daemon d;
  d.head = head;
  d.pid = static_cast<pid_t>(std::atoi(run.out.c_str() + at + 5));
  d.session_dir = run.out.substr(session + 11);
  d.session_dir = d.session_dir.substr(0, d.session_dir.find_first_of(" \n"));
  d.process = std::make_shared<ProcessHandle>(d.pid);
  {
    std::lock_guard lock(abandon_list_->mu);
    abandon_list_->processes.push_back(d.process);
    abandon_list_->sessions.push_back(d.session_dir);
  }
  daemons_.push_back(std::move(d));
  return "";
}

bool LocalDaemons::Alive(const Daemon& d) const { return !d.process->Exited(); }

bool LocalDaemons::IsLiveDaemon(pid_t pid) const {
  for (const Daemon& d : daemons_)
    if (d.pid == pid && Alive(d)) return true;
  return false;
}

LocalDaemons::Daemon* LocalDaemons::head() {
  for (auto it = daemons_.rbegin(); it != daemons_.rend(); ++it)
    if (it->head) return Alive(*it) ? &*it : nullptr;
  return nullptr;
}

std::vector<LocalDaemons::Daemon*> LocalDaemons::LiveNodes() {
  std::vector<Daemon*> nodes;
  for (Daemon& d : daemons_)
    if (!d.head && Alive(d)) nodes.push_back(&d);
  std::sort(nodes.begin(), nodes.end(), [](const Daemon* a, const Daemon* b) { return a->pid < b->pid; });
  return nodes;
}

std::vector<pid_t> LocalDaemons::Workers() const {
  std::vector<pid_t> workers;
  for (const Daemon& d : daemons_)
    if (Alive(d))
      for (pid_t child : ChildrenOf(d.pid))
        if (StateOf(child) == ProcessState::kRunning) workers.push_back(child);
  std::sort(workers.begin(), workers.end());
  return workers;
}

// A head's own log is head.log, a node's node.log (`lumen start`).
std::string LocalDaemons::LogOf(const Daemon& d) const {
  std::ifstream in(d.session_dir + (d.head ? "/logs/head.log" : "/logs/node.log"));
  std::stringstream log;
  log << in.rdbuf();
  return log.str();
}

std::string LocalDaemons::LastHeadLog() const {
  for (auto it = daemons_.rbegin(); it != daemons_.rend(); ++it)
    if (it->head) return LogOf(*it);
  return "";
}

bool LocalDaemons::RegisteredWithHead(pid_t pid) const { return RegistrationsWithHead(pid) > 0; }

namespace {
int Occurrences(const std::string& text, const std::string& line) {
  int n = 0;
  for (size_t at = text.find(line); at != std::string::npos; at = text.find(line, at + line.size())) ++n;
  return n;
}
}  // namespace

int LocalDaemons::RegistrationsWithHead(pid_t pid) const {
  // A node of this host: "(pid N)"; one that speaks TCP to the head: "(pid N from IP:PORT, ...)".
  const std::string joined = "joined the cluster (pid " + std::to_string(pid);
  const std::string log = LastHeadLog();
  return Occurrences(log, joined + ")") + Occurrences(log, joined + " from ");
}

int LocalDaemons::DeclaredDead(pid_t pid) const {
  return Occurrences(LastHeadLog(), "(pid " + std::to_string(pid) + ") sent nothing for");
}

int LocalDaemons::NodeLogLines(pid_t pid, const std::string& line) const {
  for (const Daemon& d : daemons_)
    if (!d.head && d.pid == pid) return Occurrences(LogOf(d), line);
  return 0;
}

// cli/head_registration.cc says so.
int LocalDaemons::LostHead(pid_t pid) const { return NodeLogLines(pid, "lumen: lost the head at "); }
int LocalDaemons::RegisteredAgain(pid_t pid) const { return NodeLogLines(pid, "lumen: registered again with the head at "); }

LocalDaemons::Killed LocalDaemons::Kill(const std::vector<Daemon*>& daemons, milliseconds bound) {
  Killed k;
  std::vector<ProcessHandle> processes, workers;
  for (Daemon* d : daemons) {
    AddChildren(d->pid, &workers);
    processes.emplace_back(d->pid);
  }
  const auto start = Clock::now();
  for (Daemon* d : daemons) {
    d->process->Signal(SIGKILL);
    d->killed = true;
  }
  k.daemons = PidsOf(processes);
  k.workers = PidsOf(workers);
  k.daemons_alive = AwaitExits(processes, start + bound);
  k.workers_alive = AwaitExits(workers, start + bound);
  k.gone_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
  for (const ProcessHandle& w : workers) w.Signal(SIGKILL);  // none is left stopped or running, whatever was found
  return k;
}

std::vector<std::string> LocalDaemons::StopAll() {
  std::vector<std::string> broken;
  std::vector<ProcessHandle> workers;
  std::vector<ProcessHandle> live;
  for (Daemon& d : daemons_)
    if (Alive(d)) {
      AddChildren(d.pid, &workers);
      live.emplace_back(d.pid);
      d.process->Signal(SIGTERM);
    }
  for (pid_t pid : AwaitExits(live, Clock::now() + kStopBound)) {
    broken.push_back("the daemon pid " + std::to_string(pid) + " did not stop within " +
                     std::to_string(kStopBound.count()) + " ms of SIGTERM: killed");
    ::kill(pid, SIGKILL);  // still running (a pidfd said so just now): not a reused pid
  }
  std::vector<pid_t> left = AwaitExits(workers, Clock::now() + kWorkersBound);
  if (!left.empty()) broken.push_back("workers still alive after their daemons stopped: " + PidList(left));
  for (const ProcessHandle& w : workers) w.Signal(SIGKILL);
  for (const Daemon& d : daemons_) {
    std::error_code ec;
    const std::string what = std::string(d.head ? "the head" : "the node") + " pid " + std::to_string(d.pid) +
                             (d.killed ? " (killed)" : "");
    if (fs::exists(d.session_dir, ec)) broken.push_back("the session dir of " + what + " is still there: " + d.session_dir);
    if (fs::exists(SegmentOf(d.session_dir), ec))
      broken.push_back("the store segment of " + what + " is still there: " + SegmentOf(d.session_dir).string());
    Forget(d);
  }
  return broken;
}

void LocalDaemons::Forget(const Daemon& d) {
  std::error_code ignore;
  fs::remove_all(d.session_dir, ignore);
  fs::remove(SegmentOf(d.session_dir), ignore);
}

namespace {
std::string Tail(const std::string& text, size_t bytes) {
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}
}  // namespace

std::string LocalDaemons::HeadLogTail(size_t bytes) const { return Tail(LastHeadLog(), bytes); }

std::string LocalDaemons::NodeLogTail(pid_t pid, size_t bytes) const {
  for (const Daemon& d : daemons_)
    if (!d.head && d.pid == pid) return Tail(LogOf(d), bytes);
  return "";
}

}  // namespace chaos
