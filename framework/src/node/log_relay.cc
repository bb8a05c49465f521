#include "node/log_relay.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "lumen/errors.h"
#include "runtime/write_all.h"

namespace lumen::internal {

namespace {
constexpr uint64_t kWakeTag = ~0ull;

}  // namespace

struct LogRelay::Stream {
  int read_fd = -1;
  int file_fd = -1;
  Log log;
};

LogRelay::LogRelay(std::string dir, int echo_fd) : dir_(std::move(dir)), echo_fd_(echo_fd) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec || ::chmod(dir_.c_str(), 0700) != 0)
    throw Error("cannot make the directory for worker logs " + dir_ + ": " + (ec ? ec.message() : std::strerror(errno)));
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  thread_ = std::thread([this] { Run(); });
}

LogRelay::~LogRelay() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  thread_.join();
  for (auto& [n, s] : streams_) {
    if (s->read_fd >= 0) ::close(s->read_fd);
    if (s->file_fd >= 0) ::close(s->file_fd);
  }
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

int LogRelay::Open(int number) {
  auto s = std::make_shared<Stream>();
  s->log.worker = number;
  s->log.path = dir_ + "/worker-" + std::to_string(number) + ".log";
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  s->file_fd = ::open(s->log.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (s->file_fd < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return -1;
  }
  s->read_fd = fds[0];
  ::fcntl(s->read_fd, F_SETFL, O_NONBLOCK);
  {
    std::lock_guard lock(mu_);
    streams_[number] = s;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(number);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s->read_fd, &ev);
  return fds[1];
}

void LogRelay::SetPid(int number, pid_t pid) {
  std::lock_guard lock(mu_);
  if (auto it = streams_.find(number); it != streams_.end()) it->second->log.pid = pid;
}

std::vector<LogRelay::Log> LogRelay::Logs() const {
  std::lock_guard lock(mu_);
  std::vector<Log> out;
  for (const auto& [n, s] : streams_) out.push_back(s->log);
  return out;
}

// Copies what the pipe holds now; at its end (the worker and every process
// it forked closed it), closes it. Only the relay's thread reads the fds.
void LogRelay::Drain(Stream& s) {
  char buf[64 << 10];
  for (;;) {
    ssize_t n = ::read(s.read_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;  // EAGAIN: all read for now
    if (n == 0) break;
    // A full disk or a closed terminal loses output, not the worker.
    (void)WriteAll(s.file_fd, buf, static_cast<size_t>(n));
    if (echo_fd_ >= 0) (void)WriteAll(echo_fd_, buf, static_cast<size_t>(n));
  }
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s.read_fd, nullptr);
  ::close(s.read_fd);
  ::close(s.file_fd);
  s.read_fd = s.file_fd = -1;
  std::lock_guard lock(mu_);
  s.log.open = false;
}

void LogRelay::Run() {
  epoll_event events[32];
  for (;;) {
    int n = ::epoll_wait(epoll_fd_, events, 32, -1);
    for (int i = 0; i < n; ++i) {
      std::shared_ptr<Stream> s;
      {
        std::lock_guard lock(mu_);
        if (events[i].data.u64 == kWakeTag) continue;
        auto it = streams_.find(static_cast<int>(events[i].data.u64));
        if (it != streams_.end()) s = it->second;
      }
      if (s && s->read_fd >= 0) Drain(*s);
    }
    std::lock_guard lock(mu_);
    if (!stopping_) continue;
    // What the pipes hold still goes out; workers are gone by now.
    for (auto& [number, s] : streams_) {
      if (s->read_fd < 0) continue;
      mu_.unlock();
      Drain(*s);
      mu_.lock();
    }
    return;
  }
}

}  // namespace lumen::internal
