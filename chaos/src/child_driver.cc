#include "child_driver.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "processes.h"

extern char** environ;

namespace chaos {
namespace {

using Clock = std::chrono::steady_clock;

// Milliseconds left until `deadline`, for poll: never negative.
int MsUntil(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

}  // namespace

// By syscall: this glibc's <sys/pidfd.h> does not declare them extern "C".
ProcessHandle::ProcessHandle(pid_t pid) : pid_(pid), fd_(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))) {}

ProcessHandle::~ProcessHandle() {
  if (fd_ >= 0) ::close(fd_);
}

ProcessHandle::ProcessHandle(ProcessHandle&& other) noexcept : pid_(other.pid_), fd_(other.fd_) { other.fd_ = -1; }

bool ProcessHandle::Signal(int signo) const {
  return fd_ >= 0 && ::syscall(SYS_pidfd_send_signal, fd_, signo, nullptr, 0) == 0;
}

std::vector<pid_t> AwaitExits(const std::vector<ProcessHandle>& processes, Clock::time_point deadline) {
  std::vector<pollfd> waiting;
  std::vector<pid_t> pids;
  for (const ProcessHandle& p : processes)
    if (!p.invalid()) {
      waiting.push_back({p.fd(), POLLIN, 0});
      pids.push_back(p.pid());
    }
  while (!waiting.empty()) {
    int n = ::poll(waiting.data(), waiting.size(), MsUntil(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the deadline
    for (size_t i = waiting.size(); i-- > 0;)
      if (waiting[i].revents) {  // a pidfd is readable once its process exited
        waiting.erase(waiting.begin() + static_cast<ptrdiff_t>(i));
        pids.erase(pids.begin() + static_cast<ptrdiff_t>(i));
      }
  }
  return pids;
}

std::unique_ptr<ChildDriver> ChildDriver::Start(const std::vector<std::string>& args, std::string* error) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 3);  // the dup is not close-on-exec
  std::vector<std::string> argv_strings{"lumen-chaos"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int spawned = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    *error = std::string("posix_spawn of the child driver: ") + std::strerror(spawned);
    return nullptr;
  }
  return std::unique_ptr<ChildDriver>(new ChildDriver(ProcessHandle(pid), fds[0]));
}

ChildDriver::~ChildDriver() {
  if (!reaped_) {
    Kill();
    Reap(Clock::now() + std::chrono::seconds(10));
  }
  ::close(pipe_fd_);
}

bool ChildDriver::Kill() const { return process_.Signal(SIGKILL); }

std::optional<std::string> ChildDriver::ReadLine(Clock::time_point deadline) {
  while (true) {
    size_t end = buffer_.find('\n');
    if (end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 1);
      return line;
    }
    if (eof_) return std::nullopt;
    pollfd p{pipe_fd_, POLLIN, 0};
    int n = ::poll(&p, 1, MsUntil(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    char chunk[65536];
    ssize_t got = ::read(pipe_fd_, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      eof_ = true;  // what is left in buffer_ has no newline: cut short
      continue;
    }
    buffer_.append(chunk, static_cast<size_t>(got));
  }
}

std::vector<ProcessHandle> ChildDriver::Children() const {
  std::vector<ProcessHandle> children;
  for (pid_t pid : ChildrenOf(pid())) children.emplace_back(pid);
  return children;
}

std::string ChildDriver::Reap(Clock::time_point deadline) {
  if (reaped_) return "reaped";
  pollfd p{process_.fd(), POLLIN, 0};
  while (::poll(&p, 1, MsUntil(deadline)) < 0 && errno == EINTR) {
  }
  int status = 0;
  if (::waitpid(pid(), &status, WNOHANG) != pid()) return "";
  reaped_ = true;
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "exited " + std::to_string(WEXITSTATUS(status));
}

}  // namespace chaos
