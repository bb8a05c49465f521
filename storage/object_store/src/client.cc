// SocketStore: the ObjectStore of a process other than the server's.
//
// Data moves through this process's own mapping of the segment, or of an
// object's spill file where the segment had no room in one piece; only ids,
// offsets and such a file's descriptor cross the socket. Requests are serialised by a mutex (one in
// flight), which keeps the protocol free of request ids. Every wait on the
// server ends: EOF when the server dies, a timeout if it stops answering; a
// broken connection fails every later call with kDisconnected.
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "lumen/storage/object_store.h"
#include "file_views.h"
#include "protocol.h"
#include "segment.h"

namespace lumen::storage {

namespace {

// Generous because restoring a large spilled object reads it from disk while
// the request waits.
constexpr int kReplyTimeoutSeconds = 60;
constexpr int kConnectTimeoutSeconds = 10;
// Objects at least this large get their pages mapped in one call (see
// Segment::Populate); below it, a few demand faults cost less than the call.
constexpr size_t kPopulateThreshold = 256 << 10;

void SetTimeouts(int fd, int seconds) {
  timeval tv{seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

class SocketStore final : public ObjectStore {
 public:
  SocketStore(int fd, std::unique_ptr<Segment> segment) : fd_(fd), segment_(std::move(segment)) {}
  ~SocketStore() override {
    if (fd_ >= 0) close(fd_);
  }

  Status Create(const ObjectID& id, size_t size, bool reconstructable, uint8_t** data) override {
    std::lock_guard lock(mu_);
    wire::ResponseHeader h;
    int fd;
    Status s = Call(Request(wire::Op::kCreate, id, size, reconstructable), &h, &fd);
    if (!s.ok()) return s;
    if (fd >= 0) return views_.Map(id, fd, size, /*writable=*/true, 0, data);
    if (!segment_->Contains(segment_->base() + h.offset, size)) return BadOffset(id);
    *data = segment_->base() + h.offset;
    if (size >= kPopulateThreshold) segment_->Populate(*data, size);
    return s;
  }
  Status Seal(const ObjectID& id) override { return EndCreation(wire::Op::kSeal, id); }
  Status Abort(const ObjectID& id) override { return EndCreation(wire::Op::kAbort, id); }
  Status Get(const ObjectID& id, ObjectBuffer* out) override {
    std::lock_guard lock(mu_);
    wire::ResponseHeader h;
    int fd;
    Status s = Call(Request(wire::Op::kGet, id), &h, &fd);
    if (!s.ok()) return s;
    if (fd >= 0) {
      uint8_t* data;
      s = views_.Map(id, fd, h.size, /*writable=*/false, h.pins, &data);
      if (s.ok()) *out = {data, h.size};
      return s;
    }
    if (!segment_->Contains(segment_->base() + h.offset, h.size)) return BadOffset(id);
    views_.Pinned(id);
    *out = {segment_->base() + h.offset, h.size};
    if (h.size >= kPopulateThreshold) segment_->Populate(out->data, h.size);
    return s;
  }
  Status Release(const ObjectID& id) override {
    std::lock_guard lock(mu_);
    Status s = Simple(wire::Op::kRelease, id);
    if (s.ok()) views_.Released(id);
    return s;
  }
  Status Delete(const ObjectID& id) override {
    std::lock_guard lock(mu_);
    return Simple(wire::Op::kDelete, id);
  }
  bool Contains(const ObjectID& id) override {
    std::lock_guard lock(mu_);
    wire::ResponseHeader h;
    return Call(Request(wire::Op::kContains, id), &h).ok() && h.size == 1;
  }
  StoreStats Stats() override {
    std::lock_guard lock(mu_);
    wire::ResponseHeader h;
    if (!Call(Request(wire::Op::kStats, ObjectID()), &h).ok()) return {};
    return wire::FromWire(h.stats);
  }
  // Not under the request mutex (a call may hold it, waiting): the socket
  // stays open, so its number is not reused while a call still reads it.
  void Disconnect() override { ::shutdown(fd_, SHUT_RDWR); }

 private:
  static wire::Request Request(wire::Op op, const ObjectID& id, uint64_t size = 0,
                               bool reconstructable = false) {
    wire::Request r;
    r.op = op;
    r.reconstructable = reconstructable ? 1 : 0;
    std::memcpy(r.id, id.data(), ObjectID::kSize);
    r.size = size;
    return r;
  }
  // REQUIRES: mu_, as every function below.
  Status Simple(wire::Op op, const ObjectID& id) {
    wire::ResponseHeader h;
    return Call(Request(op, id), &h);
  }
  Status EndCreation(wire::Op op, const ObjectID& id) {
    std::lock_guard lock(mu_);
    views_.CreationEnded(id);
    return Simple(op, id);
  }
  static Status BadOffset(const ObjectID& id) {
    return {StatusCode::kInvalid, "server answered an out-of-segment range for " + id.Hex()};
  }

  Status Call(const wire::Request& request, wire::ResponseHeader* header) {
    int fd;
    Status s = Call(request, header, &fd);
    if (fd >= 0) close(fd);
    return s;
  }
  // *object_fd: the object's file sent with a Create's or Get's answer, or -1.
  Status Call(const wire::Request& request, wire::ResponseHeader* header, int* object_fd) {
    *object_fd = -1;
    if (fd_ < 0) {
      return {StatusCode::kDisconnected, "the connection to the object store server was lost"};
    }
    ssize_t n;
    do {
      n = send(fd_, &request, sizeof request, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n != sizeof request) return Broken(StatusCode::kDisconnected, "send", n < 0 ? errno : EPIPE);
    char buf[wire::kMaxPacket];
    n = wire::ReceivePacket(fd_, buf, sizeof buf, object_fd);
    if (n == 0) return Broken(StatusCode::kDisconnected, "the server closed the connection", 0);
    if (n < 0) {
      const bool timed_out = errno == EAGAIN || errno == EWOULDBLOCK;
      return Broken(timed_out ? StatusCode::kTimedOut : StatusCode::kDisconnected,
                    timed_out ? "no answer within " + std::to_string(kReplyTimeoutSeconds) + " s"
                              : "recv",
                    timed_out ? 0 : errno);
    }
    Status status;
    const bool sound = wire::DecodeResponse(buf, static_cast<size_t>(n), header, &status) &&
                       (header->in_file != 0) == (*object_fd >= 0) && (status.ok() || *object_fd < 0);
    if (!sound) {
      if (*object_fd >= 0) close(*object_fd);
      *object_fd = -1;
      return Broken(StatusCode::kInvalid, "malformed answer from the server", 0);
    }
    return status;
  }

  // A late answer would be taken for the next request's: never reuse the socket.
  Status Broken(StatusCode code, const std::string& what, int err) {
    close(fd_);
    fd_ = -1;
    return {code, "object store server connection lost: " + what +
                      (err != 0 ? std::string(": ") + std::strerror(err) : std::string())};
  }

  std::mutex mu_;  // one request in flight, and the views follow the answers in order
  int fd_;  // -1 once broken
  const std::unique_ptr<Segment> segment_;
  FileViews views_;  // guarded by mu_
};

}  // namespace

Status ConnectToStore(const std::string& socket_path, std::shared_ptr<ObjectStore>* out) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
    return {StatusCode::kInvalid, "bad store socket path '" + socket_path + "'"};
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return {StatusCode::kIOError, std::string("socket: ") + std::strerror(errno)};
  SetTimeouts(fd, kConnectTimeoutSeconds);
  auto fail = [fd](StatusCode code, const std::string& message) {
    close(fd);
    return Status(code, message);
  };
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return fail(StatusCode::kDisconnected, "no object store server on " + socket_path + ": " +
                                               std::strerror(errno));
  }
  wire::Hello hello;
  int segment_fd;
  if (!wire::ReceiveHello(fd, &hello, &segment_fd) || hello.magic != wire::kMagic ||
      hello.version != wire::kVersion || hello.label[sizeof hello.label - 1] != '\0') {
    if (segment_fd >= 0) close(segment_fd);
    return fail(StatusCode::kDisconnected,
                "no valid greeting from the object store server on " + socket_path);
  }
  std::unique_ptr<Segment> segment;
  Status s = Segment::Open(segment_fd, hello.label, hello.segment_size, &segment);
  if (!s.ok()) return fail(s.code(), s.message());
  SetTimeouts(fd, kReplyTimeoutSeconds);
  *out = std::make_shared<SocketStore>(fd, std::move(segment));
  return Status::OK();
}

}  // namespace lumen::storage
