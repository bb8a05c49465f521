// A second lumen-chaos process that runs as a driver (the hidden flags
// --child-driver, driver_kill.h, and --cluster-driver, cluster_run.h):
// started with the write end of a pipe as its fd 3, on which it mirrors its
// run log line by line (run_log.h), and one end of a socket pair as its fd 4,
// on which the harness tells it things ("finish"). An embedded driver's
// workers are its own children, so killing it tests what a driver's death
// leaves: they must die with it (their parent-death signal) and the next
// Init must clean up after it. The watchdog kills it too (abandon.h).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "abandon.h"
#include "processes.h"

namespace chaos {

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
  // One line on its fd 4; false when it is gone.
  bool Tell(const std::string& line);
  // Its children, each watched: its workers as they are now.
  std::vector<ProcessHandle> Children() const;
  bool Kill() const;  // SIGKILL
  // Waits for its exit and reaps it; "exited 1", "killed by signal 9", or
  // "" when it did not end by `deadline`.
  std::string Reap(std::chrono::steady_clock::time_point deadline);

 private:
  ChildDriver(ProcessHandle process, int pipe_fd, int command_fd);

  ProcessHandle process_;
  int pipe_fd_;
  int command_fd_;
  AbandonAction abandon_;
  std::string buffer_;
  bool eof_ = false;
  bool reaped_ = false;
};

}  // namespace chaos
