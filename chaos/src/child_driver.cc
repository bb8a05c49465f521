#include "child_driver.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "processes.h"

extern char** environ;

namespace chaos {
using Clock = std::chrono::steady_clock;

std::unique_ptr<ChildDriver> ChildDriver::Start(const std::vector<std::string>& args, std::string* error) {
  int report[2], commands[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  // A socket, so that telling a child that is gone is an error, not SIGPIPE.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, commands) != 0) {
    *error = std::string("socketpair: ") + std::strerror(errno);
    ::close(report[0]), ::close(report[1]);
    return nullptr;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, report[1], 3);  // the dups are not close-on-exec
  posix_spawn_file_actions_adddup2(&actions, commands[0], 4);
  std::vector<std::string> argv_strings{"lumen-chaos"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int spawned = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(report[1]);
  ::close(commands[0]);
  if (spawned != 0) {
    ::close(report[0]);
    ::close(commands[1]);
    *error = std::string("posix_spawn of the child driver: ") + std::strerror(spawned);
    return nullptr;
  }
  return std::unique_ptr<ChildDriver>(new ChildDriver(ProcessHandle(pid), report[0], commands[1]));
}

ChildDriver::ChildDriver(ProcessHandle process, int pipe_fd, int command_fd)
    : process_(std::move(process)),
      pipe_fd_(pipe_fd),
      command_fd_(command_fd),
      abandon_([this] { Kill(); }) {}

bool ChildDriver::Tell(const std::string& line) {
  const std::string text = line + "\n";
  return ::send(command_fd_, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

ChildDriver::~ChildDriver() {
  if (!reaped_) {
    Kill();
    Reap(Clock::now() + std::chrono::seconds(10));
  }
  ::close(pipe_fd_);
  ::close(command_fd_);
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
