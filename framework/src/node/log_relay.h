// Worker processes' output: each worker's stdout and stderr go into a pipe
// of its own, which this class's thread copies to the worker's log file
// (`<dir>/worker-<N>.log`, what `lumen logs` and the dashboard show) and on
// to the driver's stderr, so a user still sees what workers print where the
// driver runs. A worker's log stays after it died, until the session ends.
//
// Thread-safe. Costs the driver one descriptor per live worker (the pipe's
// read end) and one per open log file.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lumen::internal {

class LogRelay {
 public:
  struct Log {
    int worker = 0;
    pid_t pid = 0;
    std::string path;
    bool open = true;  // its pipe has not reached end of file yet
  };

  // Creates `dir` (0700). Throws lumen::Error if it cannot. Output is also
  // copied to `echo_fd` (the driver's stderr), unless it is -1.
  explicit LogRelay(std::string dir, int echo_fd = 2);
  ~LogRelay();  // copies what the pipes still hold, then stops

  // A pipe for worker `number`'s output: the returned write end goes to the
  // child (its stdout and stderr); the caller closes it once forked. -1 if
  // no pipe or file could be made (the worker then writes where the driver does).
  int Open(int number);
  // The worker's pid, once forked, for the listing.
  void SetPid(int number, pid_t pid);
  std::vector<Log> Logs() const;

 private:
  struct Stream;
  void Run();
  void Drain(Stream& s);

  const std::string dir_;
  const int echo_fd_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  mutable std::mutex mu_;  // guards streams_ (the thread reads what it owns without it)
  std::map<int, std::shared_ptr<Stream>> streams_;  // by worker number
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lumen::internal
