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

#include <gtest/gtest.h>

namespace lumen::testing {

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
  std::error_code ec;
  for (auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "stat");
    std::string line;
    std::getline(in, line);
    auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z' && line[close + 2] != 'X')
      return true;
  }
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

// A daemon started with the lumen CLI: its pid and session as `lumen start`
// printed them; stopped by its pid at the end (SIGTERM, bounded, SIGKILL).
class Daemon {
 public:
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  ~Daemon() { Stop(); }

  // SIGTERM and wait (bounded), as `lumen stop` does for this one only.
  void Stop() {
    if (pid_ <= 0 || !Alive(pid_)) return;
    ::kill(pid_, SIGTERM);
    if (!Eventually([&] { return !Alive(pid_); }, std::chrono::seconds(15))) {
      ADD_FAILURE() << "the daemon (pid " << pid_ << ") did not stop within 15 s of SIGTERM";
      ::kill(pid_, SIGKILL);
    }
  }

  const ShellRun& start() const { return start_; }
  pid_t pid() const { return pid_; }
  const std::string& session_dir() const { return session_dir_; }
  const std::string& dashboard_url() const { return dashboard_url_; }  // a head's, if it serves one
  std::string Log() const {
    std::ifstream in(session_dir_ + "/logs/" + log_name_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 protected:
  Daemon(const std::string& arguments, std::string log_name) : log_name_(std::move(log_name)) {
    start_ = Shell(std::string(LUMEN_CLI_PATH) + " start " + arguments);
    auto at = start_.out.find("(pid ");
    if (at != std::string::npos) pid_ = std::atoi(start_.out.c_str() + at + 5);
    auto session = start_.out.find("session:   ");
    if (session != std::string::npos) {
      session_dir_ = start_.out.substr(session + 11);
      session_dir_ = session_dir_.substr(0, session_dir_.find(' '));
    }
    if (auto url = start_.out.find("dashboard: "); url != std::string::npos) {
      dashboard_url_ = start_.out.substr(url + 11);
      dashboard_url_ = dashboard_url_.substr(0, dashboard_url_.find_first_of(" \n"));
    }
  }

 private:
  std::string log_name_;
  ShellRun start_;
  pid_t pid_ = -1;
  std::string session_dir_;
  std::string dashboard_url_;
};

// The head, on a port of this test's own (the same for a head started again
// in this process); `extra` goes on the command line. With a dashboard: on
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
  static int Port() { return 20000 + ::getpid() % 20000; }
  std::string address_;
};

// One more node of `head`'s cluster.
class NodeDaemon : public Daemon {
 public:
  NodeDaemon(const HeadDaemon& head, const std::string& extra)
      : Daemon("--address " + head.address() + " " + extra, "node.log") {}
};

}  // namespace lumen::testing
