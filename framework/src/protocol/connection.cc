#include "protocol/connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>


namespace lumen::internal {

int ConnectUnix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

Connection::Connection(int fd) : fd_(fd) {}
Connection::~Connection() { ::close(fd_); }

bool Connection::Flush() {
  while (out_sent_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    } else {
      return false;
    }
  }
  out_.clear();
  out_sent_ = 0;
  return true;
}

bool Connection::FlushBlocking() {
  while (HasPendingWrites()) {
    if (!Flush()) return false;
    if (!HasPendingWrites()) break;
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, -1) < 0 && errno != EINTR) return false;
  }
  return true;
}

bool Connection::ReadAvailable() {
  if (in_used_ > 0 && in_used_ == in_.size()) {
    in_.clear();
    in_used_ = 0;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof buf) return true;
    } else if (n == 0) {
      return false;
    } else if (errno == EINTR) {
      continue;
    } else {
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
  }
}

bool Connection::ReadBlocking(int timeout_ms) {
  timed_out_ = false;
  pollfd p{fd_, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  if (r == 0) {
    timed_out_ = true;
    return false;
  }
  if (r < 0) return false;
  return ReadAvailable();
}

bool Connection::NextFrame(Message* message) {
  size_t avail = in_.size() - in_used_;
  if (avail < kFrameHeaderBytes) return false;
  uint64_t len;
  std::memcpy(&len, in_.data() + in_used_, sizeof len);
  if (len == 0 || len % 8 != 0 || len > kMaxFrameBodyBytes)
    throw ProtocolError("malformed frame: a body of " + std::to_string(len) + " bytes");
  if (avail < kFrameHeaderBytes + len) return false;
  body_.resize(len / 8);
  std::memcpy(body_.data(), in_.data() + in_used_ + kFrameHeaderBytes, len);
  in_used_ += kFrameHeaderBytes + len;
  if (in_used_ > (1u << 20) && in_used_ * 2 > in_.size()) {  // compact now and then
    in_.erase(0, in_used_);
    in_used_ = 0;
  }
  *message = DecodeFrame(body_.data(), body_.size());
  return true;
}

}  // namespace lumen::internal
