// What the harness needs to know about processes, read from /proc: whether a
// pid is still a live child of ours (so that a signal can never hit an
// unrelated process that reused a dead worker's pid), and which children are
// left after Shutdown. And processes watched by pidfd, and commands run with
// a bound.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace chaos {

enum class ProcessState { kGone, kZombie, kStopped, kRunning };

ProcessState StateOf(pid_t pid);
// 0 when the process is gone.
pid_t ParentOf(pid_t pid);
// Children of `parent`, zombies included.
std::vector<pid_t> ChildrenOf(pid_t parent);
// Children of this process, zombies included.
std::vector<pid_t> OurChildren();
// True when `pid` is a child of ours that has not exited.
bool IsLiveChild(pid_t pid);

// A process watched through a pidfd: its exit is an event to poll, and a
// pid reused after it died can never be mistaken for it.
class ProcessHandle {
 public:
  explicit ProcessHandle(pid_t pid);  // invalid() when the process is already gone
  ~ProcessHandle();
  ProcessHandle(ProcessHandle&& other) noexcept;
  ProcessHandle(const ProcessHandle&) = delete;
  ProcessHandle& operator=(const ProcessHandle&) = delete;
  ProcessHandle& operator=(ProcessHandle&&) = delete;

  pid_t pid() const { return pid_; }
  bool invalid() const { return fd_ < 0; }
  int fd() const { return fd_; }
  bool Signal(int signo) const;
  // True once it has exited (all its threads), or when it was gone already at the handle's making.
  bool Exited() const;

 private:
  pid_t pid_;
  int fd_;
};

// Waits until every process has exited or `deadline` passed; returns the
// pids still running then.
std::vector<pid_t> AwaitExits(const std::vector<ProcessHandle>& processes,
                              std::chrono::steady_clock::time_point deadline);

// "812 813 900": for messages.
std::string PidList(const std::vector<pid_t>& pids);

// Milliseconds left until `deadline`, for poll: never negative.
int MsUntil(std::chrono::steady_clock::time_point deadline);

// Runs `binary` with `args` (no shell), its stdin /dev/null, and collects
// its stdout and stderr until it exits; past `bound` it is killed. `status`
// is its exit status, -1 when it did not exit by itself.
struct CommandRun {
  std::string out;
  int status = -1;
};
CommandRun RunCommand(const std::string& binary, const std::vector<std::string>& args,
                      std::chrono::milliseconds bound);

}  // namespace chaos
