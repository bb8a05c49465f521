// A second lumen-chaos process that runs as a driver (the hidden flag
// --child-driver, driver_kill.h): started with the write end of a pipe as
// its fd 3, on which it mirrors its run log line by line (run_log.h). Its
// workers are its own children, so killing it tests what a driver's death
// leaves: they must die with it (their parent-death signal) and the next
// Init must clean up after it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chaos {

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

 private:
  pid_t pid_;
  int fd_;
};

// Waits until every process has exited or `deadline` passed; returns the
// pids still running then.
std::vector<pid_t> AwaitExits(const std::vector<ProcessHandle>& processes,
                              std::chrono::steady_clock::time_point deadline);

class ChildDriver {
 public:
  // Starts this binary with `args` after its name; "" and the error when it
  // cannot. The child's fd 3 is the pipe.
  static std::unique_ptr<ChildDriver> Start(const std::vector<std::string>& args, std::string* error);
  ~ChildDriver();  // kills and reaps it if still there
  ChildDriver(const ChildDriver&) = delete;
  ChildDriver& operator=(const ChildDriver&) = delete;

  pid_t pid() const { return process_.pid(); }
  // The next whole line (without its newline), or nullopt at `deadline` or
  // at the end of the pipe (ended() then). A last line cut short by the
  // child's death is never returned.
  std::optional<std::string> ReadLine(std::chrono::steady_clock::time_point deadline);
  bool ended() const { return eof_; }
  // Its children, each watched: its workers as they are now.
  std::vector<ProcessHandle> Children() const;
  bool Kill() const;  // SIGKILL
  // Waits for its exit and reaps it; "exited 1", "killed by signal 9", or
  // "" when it did not end by `deadline`.
  std::string Reap(std::chrono::steady_clock::time_point deadline);

 private:
  ChildDriver(ProcessHandle process, int pipe_fd) : process_(std::move(process)), pipe_fd_(pipe_fd) {}

  ProcessHandle process_;
  int pipe_fd_;
  std::string buffer_;
  bool eof_ = false;
  bool reaped_ = false;
};

}  // namespace chaos
