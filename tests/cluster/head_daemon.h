// Daemons for one test: a head (`lumen start --head`) on a port of its own
// (several tests run at once) and nodes of it (`lumen start --address`),
// each stopped by its pid at the end, so no test stops another's. Their
// children (worker and actor processes) are countable.
#pragma once

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "../storage/lineage/temp_dir.h"
#include "../support/thread_states.h"
#include "lumen/api.h"

namespace lumen::testing {

// A storage dir for a test's heads (`--storage path()`), removed with what
// they kept there at the end: declare it before the daemons, so that they
// stop first.
using StorageDir = storage::testing::TempDir;

// Runs `command` through the shell; its stdout and stderr, and exit status.
struct ShellRun {
  std::string out;
  int status = -1;
};
inline ShellRun Shell(const std::string& command) {
  ShellRun r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Running: some thread of it neither gone nor a zombie (a daemon is reaped
// by whoever adopted it, in its time; a killed one's first thread turns
// zombie before the others end).
inline bool Alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  for (char state : ThreadStates(pid))
    if (state != 'Z' && state != 'X') return true;
  return false;
}

// Polls `done` every 10 ms for up to `bound`.
inline bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// The live child processes of `pid` (over all its threads).
inline std::set<pid_t> ChildrenOf(pid_t pid) {
  std::set<pid_t> children;
  std::error_code ec;
  for (auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "children");
    for (pid_t child; in >> child;) children.insert(child);
  }
  return children;
}

// What `lumen start` printed: the daemon's pid, its session dir, its
// dashboard's address ("" for none).
struct Started {
  pid_t pid = -1;
  std::string session_dir, dashboard;
};
inline Started ParseStart(const std::string& out) {
  Started s;
  auto at = out.find("(pid ");
  if (at != std::string::npos) s.pid = std::atoi(out.c_str() + at + 5);
  auto line = [&](const std::string& label) {
    auto from = out.find(label);
    if (from == std::string::npos) return std::string();
    std::string rest = out.substr(from + label.size());
    return rest.substr(0, rest.find_first_of(" \n"));
  };
  s.session_dir = line("session:   ");
  s.dashboard = line("dashboard: ");
  return s;
}

// A daemon started with the lumen CLI: its pid and session as `lumen start`
// printed them; stopped by its pid at the end (SIGTERM, bounded, SIGKILL).
class Daemon {
 public:
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  ~Daemon() { Stop(); }

  // SIGTERM and wait (bounded), as `lumen stop` does for this one only.
  void Stop() {
    if (started_.pid <= 0 || !Alive(started_.pid)) return;
    ::kill(started_.pid, SIGTERM);
    if (!Eventually([&] { return !Alive(started_.pid); }, std::chrono::seconds(15))) {
      ADD_FAILURE() << "the daemon (pid " << started_.pid << ") did not stop within 15 s of SIGTERM";
      ::kill(started_.pid, SIGKILL);
    }
  }

  const ShellRun& start() const { return start_; }
  pid_t pid() const { return started_.pid; }
  const std::string& session_dir() const { return started_.session_dir; }
  const std::string& dashboard_url() const { return started_.dashboard; }  // a head's, if it serves one
  std::string Log() const {
    std::ifstream in(started_.session_dir + "/logs/" + log_name_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 protected:
  Daemon(const std::string& arguments, std::string log_name) : log_name_(std::move(log_name)) {
    start_ = Shell(std::string(LUMEN_CLI_PATH) + " start " + arguments);
    started_ = ParseStart(start_.out);
  }

 private:
  std::string log_name_;
  ShellRun start_;
  Started started_;
};

// The head, on a port of this test's own (the same for a head started again
// in this process); `extra` goes on the command line. With `dashboard`, on
// any free port (dashboard_url()).
class HeadDaemon : public Daemon {
 public:
  explicit HeadDaemon(const std::string& extra = "", bool dashboard = false)
      : Daemon(std::string("--head ") + (dashboard ? "--dashboard-port 0" : "--no-dashboard") + " --num-cpus 2 --port " +
                   std::to_string(Port()) + " " + extra,
               "head.log"),
        address_("127.0.0.1:" + std::to_string(Port())) {}
  const std::string& address() const { return address_; }

 private:
  // Below the kernel's ephemeral range (32768 up), where any outgoing
  // connection of the tests alongside may hold a port; the chaos runs' heads
  // take 28000-32767.
  static int Port() { return 10000 + ::getpid() % 18000; }
  std::string address_;
};

// What a driver joining `head`'s cluster is started with.
inline lumen::Config JoinConfig(const HeadDaemon& head) {
  lumen::Config config;
  config.address = head.address();
  return config;
}

// One more node of `head`'s cluster; its session removed if a test killed
// it (a stopped one removes its own).
class NodeDaemon : public Daemon {
 public:
  NodeDaemon(const HeadDaemon& head, const std::string& extra)
      : Daemon("--address " + head.address() + " " + extra, "node.log") {}
  ~NodeDaemon() {
    Stop();
    if (!session_dir().empty() && pid() > 0 && !Alive(pid())) {
      std::error_code ignore;
      std::filesystem::remove_all(session_dir(), ignore);
    }
  }
  // As the cluster names it unless --node-name said: node-<its session's id>.
  std::string name() const { return "node-" + std::filesystem::path(session_dir()).filename().string().substr(6); }
};

}  // namespace lumen::testing
