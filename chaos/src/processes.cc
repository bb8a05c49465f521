#include "processes.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

extern char** environ;

namespace chaos {
namespace {

// The fields of /proc/PID/stat after the command name, which may itself
// hold spaces and parentheses: everything after the last ')'.
bool ReadStat(pid_t pid, char* state, pid_t* parent) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 1));
  return static_cast<bool>(rest >> *state >> *parent);
}

}  // namespace

ProcessState StateOf(pid_t pid) {
  char state = 0;
  pid_t parent = 0;
  if (!ReadStat(pid, &state, &parent)) return ProcessState::kGone;
  switch (state) {
    case 'Z':
    case 'X': return ProcessState::kZombie;
    case 'T':
    case 't': return ProcessState::kStopped;
    default: return ProcessState::kRunning;
  }
}

pid_t ParentOf(pid_t pid) {
  char state = 0;
  pid_t parent = 0;
  return ReadStat(pid, &state, &parent) ? parent : 0;
}

std::vector<pid_t> OurChildren() { return ChildrenOf(getpid()); }

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::atol(name.c_str()));
    if (ParentOf(pid) == parent) children.push_back(pid);
  }
  return children;
}

bool IsLiveChild(pid_t pid) {
  if (pid <= 0 || ParentOf(pid) != getpid()) return false;
  ProcessState state = StateOf(pid);
  return state == ProcessState::kRunning || state == ProcessState::kStopped;
}

std::string PidList(const std::vector<pid_t>& pids) {
  std::string out;
  for (pid_t pid : pids) out += (out.empty() ? "" : " ") + std::to_string(pid);
  return out;
}

int MsUntil(std::chrono::steady_clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

// By syscall: this glibc's <sys/pidfd.h> does not declare them extern "C".
ProcessHandle::ProcessHandle(pid_t pid) : pid_(pid), fd_(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))) {}

ProcessHandle::~ProcessHandle() {
  if (fd_ >= 0) ::close(fd_);
}

ProcessHandle::ProcessHandle(ProcessHandle&& other) noexcept : pid_(other.pid_), fd_(other.fd_) { other.fd_ = -1; }

bool ProcessHandle::Signal(int signo) const {
  return fd_ >= 0 && ::syscall(SYS_pidfd_send_signal, fd_, signo, nullptr, 0) == 0;
}

bool ProcessHandle::Exited() const {
  if (fd_ < 0) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;  // a pidfd is readable once its process exited
}

std::vector<pid_t> AwaitExits(const std::vector<ProcessHandle>& processes, std::chrono::steady_clock::time_point deadline) {
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


CommandRun RunCommand(const std::string& binary, const std::vector<std::string>& args,
                      std::chrono::milliseconds bound) {
  CommandRun run;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    run.out = std::string("pipe: ") + std::strerror(errno);
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  std::vector<std::string> argv_strings{binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int spawned = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    run.out = "cannot run " + binary + ": " + std::strerror(spawned);
    return run;
  }
  // Until the end of its output: a daemon it forks lets go of the pipe once it serves.
  const auto deadline = std::chrono::steady_clock::now() + bound;
  char chunk[4096];
  while (true) {
    pollfd p{fds[0], POLLIN, 0};
    int n = ::poll(&p, 1, MsUntil(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    ssize_t got = ::read(fds[0], chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    run.out.append(chunk, static_cast<size_t>(got));
  }
  ::close(fds[0]);
  std::vector<ProcessHandle> command;
  command.emplace_back(pid);
  const bool killed = !AwaitExits(command, deadline).empty() && ::kill(pid, SIGKILL) == 0;
  int status = 0;
  if (::waitpid(pid, &status, 0) == pid && !killed && WIFEXITED(status)) run.status = WEXITSTATUS(status);
  return run;
}

}  // namespace chaos
