// StoreServer: owns the segment and the StoreCore, and serves socket clients
// from one epoll thread.
//
// One thread is enough: every request is a few map operations under the
// core's mutex (only spilling and restoring touch the disk), and a client has
// at most one request in flight. A connection's EOF is how the server learns a
// client died, whatever killed it.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <unordered_map>

#include "local_store.h"
#include "lumen/storage/object_store.h"
#include "protocol.h"
#include "segment.h"
#include "spill.h"
#include "store_core.h"

namespace lumen::storage {

namespace {

Status SysError(const std::string& what, int err) {
  return {StatusCode::kIOError, what + ": " + std::strerror(err)};
}

bool FillAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr->sun_path) return false;
  std::memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

// True if a server is accepting on `path`; false for a missing or stale socket.
bool SomeoneListens(const sockaddr_un& addr) {
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool listening = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return listening;
}

class StoreServerImpl final : public StoreServer {
 public:
  explicit StoreServerImpl(StoreConfig config) : config_(std::move(config)) {}
  ~StoreServerImpl() override;

  Status Init();

  std::shared_ptr<ObjectStore> LocalClient() override {
    return std::make_shared<LocalStore>(core_, local_views_);
  }
  void SetEvictionListener(std::function<void(const ObjectID&)> listener) override {
    core_->SetEvictionListener(std::move(listener));
  }
  const StoreConfig& config() const override { return config_; }

 private:
  void Run();
  void Accept();
  // Answers one request from `fd`; false once the client is gone or misbehaved.
  bool ServeOne(int fd, ClientId client);
  // *fd: an object's file to send with the answer (-1: none), closed by the caller.
  wire::ResponseHeader Dispatch(ClientId client, const wire::Request& request, Status* status, int* fd);
  void Disconnect(int fd);

  const StoreConfig config_;
  std::shared_ptr<StoreCore> core_;
  const std::shared_ptr<LocalViews> local_views_ = std::make_shared<LocalViews>();
  bool socket_bound_ = false;
  bool spill_dir_created_ = false;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: wakes the thread to stop
  std::unordered_map<int, ClientId> connections_;  // server thread only
  std::thread thread_;
};

Status StoreServerImpl::Init() {
  // memfd_create takes names of up to 249 bytes.
  if (config_.label.empty() || config_.label.size() > 200) {
    return {StatusCode::kInvalid, "label must have 1 to 200 characters"};
  }
  if (config_.capacity_bytes < Allocator::kAlignment) {
    return {StatusCode::kInvalid, "capacity_bytes " + std::to_string(config_.capacity_bytes) + " is too small"};
  }
  // Far above any machine's memory, far below where page rounding wraps around.
  constexpr uint64_t kMaxCapacity = uint64_t{1} << 46;
  if (config_.capacity_bytes > kMaxCapacity) {
    return {StatusCode::kInvalid, "capacity_bytes " + std::to_string(config_.capacity_bytes) +
                                      " is larger than a store can map (2^46 bytes, 64 TiB)"};
  }
  sockaddr_un addr;
  if (!FillAddress(config_.socket_path, &addr)) {
    return {StatusCode::kInvalid, "socket_path '" + config_.socket_path + "' is empty or longer than " +
                                      std::to_string(sizeof addr.sun_path - 1) + " characters"};
  }
  if (!config_.spill_dir.empty()) {
    Status s = EnsureSpillDir(config_.spill_dir, &spill_dir_created_);
    if (!s.ok()) return s;
  }
  if (SomeoneListens(addr)) {
    return {StatusCode::kAlreadyExists, "a store server already listens on " + config_.socket_path};
  }
  unlink(config_.socket_path.c_str());  // stale, from a server that died

  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t size = (config_.capacity_bytes + page - 1) / page * page;
  std::unique_ptr<Segment> segment;
  Status s = Segment::Create(config_.label, size, &segment);
  if (!s.ok()) return s;
  core_ = std::make_shared<StoreCore>(std::move(segment), config_.spill_dir);

  listen_fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) return SysError("socket", errno);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return SysError("cannot bind " + config_.socket_path, errno);
  }
  socket_bound_ = true;
  // bind() applies the umask; nobody can connect before listen(), so fixing
  // the mode in between leaves no window: only this user may reach the store.
  if (chmod(config_.socket_path.c_str(), 0600) != 0) {
    return SysError("cannot restrict " + config_.socket_path + " to its owner", errno);
  }
  if (listen(listen_fd_, SOMAXCONN) != 0) return SysError("listen", errno);

  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return SysError("epoll_create1", errno);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return SysError("eventfd", errno);
  for (int fd : {listen_fd_, wake_fd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return SysError("epoll_ctl", errno);
  }
  thread_ = std::thread([this] { Run(); });
  return Status::OK();
}

StoreServerImpl::~StoreServerImpl() {
  // Refuse LocalClient calls first, so nothing is half-served while we stop.
  if (core_) core_->Shutdown();
  if (thread_.joinable()) {
    uint64_t one = 1;
    ssize_t n = write(wake_fd_, &one, sizeof one);
    (void)n;
    thread_.join();
  }
  for (const auto& [fd, client] : connections_) close(fd);  // clients see EOF
  connections_.clear();
  for (int fd : {listen_fd_, epoll_fd_, wake_fd_}) {
    if (fd >= 0) close(fd);
  }
  if (socket_bound_) unlink(config_.socket_path.c_str());
  // Only a directory we made, and only if empty: never someone else's files.
  if (spill_dir_created_) rmdir(config_.spill_dir.c_str());
}

void StoreServerImpl::Run() {
  epoll_event events[64];
  for (;;) {
    int n = epoll_wait(epoll_fd_, events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) return;
      if (fd == listen_fd_) {
        Accept();
        continue;
      }
      auto it = connections_.find(fd);
      if (it != connections_.end() && !ServeOne(fd, it->second)) Disconnect(fd);
    }
  }
}

void StoreServerImpl::Accept() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN, or out of fds: the rest stay queued for the next wake
    }
    wire::Hello hello;
    hello.segment_size = core_->segment().size();
    std::memcpy(hello.label, config_.label.data(), config_.label.size());
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (!wire::SendHello(fd, hello, core_->segment().fd()) ||
        epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      continue;
    }
    connections_[fd] = core_->AddClient();
  }
}

bool StoreServerImpl::ServeOne(int fd, ClientId client) {
  wire::Request request;
  ssize_t n;
  do {
    n = recv(fd, &request, sizeof request, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
  if (n != sizeof request) return false;  // EOF (n == 0) or not our protocol
  Status status;
  int object_fd = -1;
  wire::ResponseHeader header = Dispatch(client, request, &status, &object_fd);
  char buf[wire::kMaxPacket];
  size_t len = wire::EncodeResponse(status, header, buf);
  // The client waits for this answer with nothing else in flight, so its
  // receive buffer has room; a full one means it is not our client.
  const bool sent = wire::SendPacket(fd, buf, len, object_fd);
  if (object_fd >= 0) close(object_fd);
  return sent;
}

wire::ResponseHeader StoreServerImpl::Dispatch(ClientId client, const wire::Request& request,
                                               Status* status, int* fd) {
  wire::ResponseHeader h;
  const ObjectID id = ObjectID::FromBinary(request.id);
  Placement where;
  switch (request.op) {
    case wire::Op::kCreate:
      *status = core_->Create(client, id, request.size, request.reconstructable != 0, &where);
      break;
    case wire::Op::kSeal:
      *status = core_->Seal(client, id);
      break;
    case wire::Op::kAbort:
      *status = core_->Abort(client, id);
      break;
    case wire::Op::kGet:
      *status = core_->Get(client, id, &where, &h.size);
      break;
    case wire::Op::kRelease:
      *status = core_->Release(client, id);
      break;
    case wire::Op::kDelete:
      *status = core_->Delete(client, id);
      break;
    case wire::Op::kContains: {
      bool present = false;
      *status = core_->Contains(id, &present);
      h.size = present ? 1 : 0;
      break;
    }
    case wire::Op::kStats:
      h.stats = wire::ToWire(core_->Stats());
      *status = Status::OK();
      break;
    default:
      *status = Status(StatusCode::kInvalid, "unknown request op " +
                                                 std::to_string(static_cast<int>(request.op)));
  }
  h.offset = where.offset;
  h.pins = where.pins;
  h.in_file = where.fd >= 0 ? 1 : 0;
  *fd = where.fd;
  return h;
}

void StoreServerImpl::Disconnect(int fd) {
  auto it = connections_.find(fd);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  core_->DropClient(it->second);
  connections_.erase(it);
}

}  // namespace

Status StoreServer::Start(const StoreConfig& config, std::unique_ptr<StoreServer>* out) {
  auto server = std::make_unique<StoreServerImpl>(config);
  Status s = server->Init();
  if (!s.ok()) return s;  // the destructor undoes what Init did
  *out = std::move(server);
  return Status::OK();
}

}  // namespace lumen::storage
