// A local cluster of lumen daemons for the cluster scenarios: the head
// (`lumen start --head`, on a storage dir and a port of its own, so that
// runs in parallel never meet) and node daemons (`lumen start --address`),
// started with the lumen CLI as a user would, watched by pidfd, killed and
// restarted by the harness. Every daemon it ever started is remembered: at
// the end each one and its workers must be gone and its session dir and
// store segment removed. Should the watchdog fire, it kills every daemon
// still there and removes their sessions (abandon.h).
//
// Not thread safe: the harness's thread alone uses it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "abandon.h"
#include "processes.h"

namespace chaos {

struct DaemonOptions {
  std::string cli;           // the lumen CLI
  std::string storage_dir;   // the head's --storage
  int head_cpus = 1;         // few: tasks must go to the nodes
  int node_cpus = 2;
};

class LocalDaemons {
 public:
  struct Daemon {
    bool head = false;
    pid_t pid = 0;
    std::string session_dir;
    std::shared_ptr<ProcessHandle> process;  // shared with the watchdog's action
    bool killed = false;                     // by the harness
  };

  // What a SIGKILL of some daemons left: `workers` were their children at
  // the kill; the pids are those still running at the bound.
  struct Killed {
    std::vector<pid_t> daemons, workers;
    std::vector<pid_t> daemons_alive, workers_alive;
    int64_t gone_ms = 0;  // from the kill until the last one was seen gone (or the bound)
  };

  explicit LocalDaemons(DaemonOptions options);
  ~LocalDaemons();  // kills whatever is still there (StopAll checks; this only cleans up)
  LocalDaemons(const LocalDaemons&) = delete;
  LocalDaemons& operator=(const LocalDaemons&) = delete;

  // The head: on the first call a port of its own is picked; later calls
  // (a restart) use the same port and storage dir. "" or why it failed.
  std::string StartHead();
  std::string AddNode();

  const std::string& address() const { return address_; }
  Daemon* head();                   // the live head, or nullptr
  std::vector<Daemon*> LiveNodes();  // by pid
  // The live daemons' children: their workers now, sorted.
  std::vector<pid_t> Workers() const;
  // True once the live head's log says node `pid` joined it; how many times it did.
  bool RegisteredWithHead(pid_t pid) const;
  int RegistrationsWithHead(pid_t pid) const;
  // How many times the live head's log says it declared node `pid` dead (silent past its liveness timeout).
  int DeclaredDead(pid_t pid) const;
  // How many times node `pid`'s own log says it lost its head (silent past
  // the liveness timeout, or gone), and that it registered again with one.
  int LostHead(pid_t pid) const;
  int RegisteredAgain(pid_t pid) const;
  bool Alive(const Daemon& d) const;
  bool IsLiveDaemon(pid_t pid) const;

  // SIGKILLs them all at once and waits, within `bound`, for them and their workers to exit.
  Killed Kill(const std::vector<Daemon*>& daemons, std::chrono::milliseconds bound);

  // SIGTERMs every live daemon (as `lumen stop` would, but only ours) and
  // checks that nothing of any daemon ever started is left: processes,
  // workers, session dirs, store segments. One line a broken invariant;
  // whatever is left is then killed and removed.
  std::vector<std::string> StopAll();

  // The head's log (for a failure's details): its last `bytes`; a node daemon's.
  std::string HeadLogTail(size_t bytes) const;
  std::string NodeLogTail(pid_t pid, size_t bytes) const;

 private:
  std::string Start(const std::vector<std::string>& args, bool head);
  int nodes_added_ = 0;  // the odd ones speak TCP to the head (AddNode)
  void Forget(const Daemon& d);  // removes its session dir and store segment
  std::string LastHeadLog() const;  // of the head started last, "" if none
  std::string LogOf(const Daemon& d) const;
  int NodeLogLines(pid_t pid, const std::string& line) const;  // of the node daemon `pid`

  const DaemonOptions options_;
  int port_ = 0;
  std::string address_;
  std::deque<Daemon> daemons_;  // every one ever started, in order (a deque: pointers stay valid)
  // The watchdog's view of the processes to kill and dirs to remove.
  struct AbandonList {
    std::mutex mu;
    std::vector<std::shared_ptr<ProcessHandle>> processes;
    std::vector<std::string> sessions;
  };
  std::shared_ptr<AbandonList> abandon_list_ = std::make_shared<AbandonList>();
  AbandonAction abandon_;
};

}  // namespace chaos
