// A real cluster of daemons on this machine, for lesson 05: the head and
// its nodes are started with the lumen CLI (`lumen start`), as you would by
// hand, and stopped with `lumen stop` when the guard goes, whatever happened
// in between (a failed check, an exception, Ctrl-C).
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace lesson {

// The lumen CLI: $LUMEN_CLI, else the one built next to the lessons.
inline std::string LumenCli() {
  const char* env = std::getenv("LUMEN_CLI");
  return env && *env ? env : LUMEN_CLI_PATH;
}

// Runs `command` through the shell: its output (stdout and stderr) and exit status.
struct ShellRun {
  std::string out;
  int status = -1;
};
inline ShellRun Shell(const std::string& command) {
  ShellRun r;
  std::fflush(nullptr);
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Running: neither gone nor a zombie waiting to be reaped.
inline bool Alive(int pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

// The live child processes of `pid` (over all its threads): a daemon's workers.
inline std::set<int> ChildrenOf(int pid) {
  std::set<int> children;
  std::error_code ec;
  for (auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "children");
    for (int child; in >> child;) children.insert(child);
  }
  return children;
}

// Polls `done` every 10 ms for at most `ms`.
template <class F>
bool Within(int ms, F done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// The daemons' pids, for a signal handler: it may only kill(), not run
// `lumen stop`. Then the handler that was there before runs (lumen::Init
// leaves a signal the program handles to the program).
inline volatile sig_atomic_t g_daemon_pids[8] = {};
inline struct sigaction g_previous[32] = {};
inline void StopDaemonsOnSignal(int signo, siginfo_t* info, void* context) {
  for (auto pid : g_daemon_pids)
    if (pid > 0) ::kill(pid, SIGTERM);  // a node also stops when its head is gone
  const struct sigaction& before = g_previous[signo];
  if (before.sa_flags & SA_SIGINFO) return before.sa_sigaction(signo, info, context);
  if (before.sa_handler != SIG_DFL && before.sa_handler != SIG_IGN) return before.sa_handler(signo);
  ::signal(signo, SIG_DFL);
  ::raise(signo);
}
// Catches SIGINT, SIGTERM and SIGHUP, in front of whatever handles them now.
inline void StopDaemonsOnSignals() {
  for (int signo : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction now {};
    ::sigaction(signo, nullptr, &now);
    if ((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == StopDaemonsOnSignal) continue;
    g_previous[signo] = now;
    struct sigaction mine {};
    mine.sa_sigaction = StopDaemonsOnSignal;
    mine.sa_flags = SA_SIGINFO;
    ::sigemptyset(&mine.sa_mask);
    ::sigaction(signo, &mine, nullptr);
  }
}

class LocalCluster {
 public:
  struct Daemon {
    std::string name;
    int pid = -1;
    std::string session;  // its session dir (logs in logs/)
  };

  // Owns nothing yet; Ctrl-C from now on stops whatever it started.
  LocalCluster() { StopDaemonsOnSignals(); }
  ~LocalCluster() { Stop(); }
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // `lumen start --head` on a free port derived from this process's pid (tests
  // run in parallel, each lesson its own cluster). False (and why) if it failed.
  bool StartHead(int num_cpus, std::string* why) {
    for (int attempt = 0; attempt < 8; ++attempt) {
      int port = 10000 + (::getpid() * 7 + attempt * 101) % 10000;  // below the ephemeral range
      if (!PortFree(port)) continue;
      ShellRun run = Shell(LumenCli() + " start --head --no-dashboard --port " + std::to_string(port) +
                           " --num-cpus " + std::to_string(num_cpus));
      if (!Record("head", run, why)) continue;
      address_ = "127.0.0.1:" + std::to_string(port);  // only ours: Stop stops what this names
      return true;
    }
    return false;
  }

  // `lumen start --address` of one more node on this machine.
  bool AddNode(const std::string& name, int num_cpus, const std::string& resources_json, std::string* why) {
    ShellRun run = Shell(LumenCli() + " start --address " + address_ + " --node-name " + name + " --num-cpus " +
                         std::to_string(num_cpus) + " --resources '" + resources_json + "'");
    return Record(name, run, why);
  }

  // `lumen stop --address`: every daemon of this cluster. Its output, once.
  std::string Stop() {
    if (address_.empty() || stopped_) return "";
    stopped_ = true;
    ShellRun run = Shell(LumenCli() + " stop --address " + address_);
    for (auto& pid : g_daemon_pids) pid = 0;
    return run.out;
  }

  const std::string& address() const { return address_; }
  const std::vector<Daemon>& daemons() const { return daemons_; }
  // A daemon's name by its pid ("?" if none): how a task tells where it ran.
  std::string NameOf(int pid) const {
    for (const Daemon& d : daemons_)
      if (d.pid == pid) return d.name;
    return "?(pid " + std::to_string(pid) + ")";
  }
  const Daemon* Find(const std::string& name) const {
    for (const Daemon& d : daemons_)
      if (d.name == name) return &d;
    return nullptr;
  }
  std::string HeadLog() const {
    std::ifstream in(daemons_.empty() ? "" : daemons_[0].session + "/logs/head.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  static bool PortFree(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  // Reads "(pid N)" and "session:   DIR" from `lumen start`'s output.
  bool Record(const std::string& name, const ShellRun& run, std::string* why) {
    auto at = run.out.find("(pid ");
    auto session = run.out.find("session:   ");
    if (run.status != 0 || at == std::string::npos || session == std::string::npos) {
      *why = "`lumen start` exited with " + std::to_string(run.status) + (run.out.empty() ? "" : ": " + run.out);
      return false;
    }
    Daemon d{name, std::atoi(run.out.c_str() + at + 5), run.out.substr(session + 11)};
    d.session = d.session.substr(0, d.session.find(' '));
    if (daemons_.size() < std::size(g_daemon_pids)) g_daemon_pids[daemons_.size()] = d.pid;
    daemons_.push_back(d);
    return true;
  }

  std::string address_;
  std::vector<Daemon> daemons_;
  bool stopped_ = false;
};

}  // namespace lesson
