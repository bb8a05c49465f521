#include "protocol/wire.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "lumen/errors.h"

namespace lumen::internal {

void WireWriter::PutPayload(const Payload& p) {
  U8(p.kind);
  switch (p.kind) {
    case Payload::kInline:
      U64(p.bytes->size());
      Raw(p.bytes->data(), p.bytes->size());
      break;
    case Payload::kInStore:
      U64(p.size);
      break;
    case Payload::kError:
      U8(static_cast<uint8_t>(p.error.kind));
      Str(p.error.message);
      Str(p.error.exception_type);
      break;
  }
  Ids(p.nested_refs);
}

Payload WireReader::GetPayload() {
  Payload p;
  p.kind = static_cast<Payload::Kind>(U8());
  switch (p.kind) {
    case Payload::kInline:
      p.size = U64();
      p.bytes = Bytes(p.size);
      break;
    case Payload::kInStore:
      p.size = U64();
      break;
    case Payload::kError: {
      uint8_t kind = U8();
      if (!IsErrorKind(kind)) throw WireError("bad error kind");
      p.error.kind = static_cast<ErrorKind>(kind);
      p.error.message = Str();
      p.error.exception_type = Str();
      break;
    }
    default:
      throw WireError("bad payload kind");
  }
  p.nested_refs = Ids();
  return p;
}

void WireWriter::PutArgs(const std::vector<TaskArg>& args) {
  U32(static_cast<uint32_t>(args.size()));
  for (const auto& a : args) {
    U8(a.by_ref);
    if (a.by_ref) {
      Id(a.ref);
    } else {
      U64(a.value.bytes->size());
      Raw(a.value.bytes->data(), a.value.bytes->size());
      Ids(a.value.nested_refs);
    }
  }
}

std::vector<TaskArg> WireReader::GetArgs() {
  uint32_t n = U32();
  std::vector<TaskArg> args(n);
  for (auto& a : args) {
    a.by_ref = U8();
    if (a.by_ref) {
      a.ref = Id<ObjectID>();
    } else {
      a.value.bytes = Bytes(U64());
      a.value.nested_refs = Ids();
    }
  }
  return args;
}

void WireWriter::PutSpec(const TaskSpec& spec) {
  Id(spec.actor);
  Str(spec.function);
  Str(spec.name);
  I64(spec.max_retries);
  U8(spec.retry_exceptions);
  U32(static_cast<uint32_t>(spec.resources.size()));
  for (const auto& [k, v] : spec.resources) {
    Str(k);
    F64(v);
  }
  Str(spec.placement_group);
  I64(spec.bundle_index);
  Str(spec.node_affinity);
  U8(spec.node_affinity_soft);
  PutArgs(spec.args);
}

TaskSpec WireReader::GetSpec() {
  TaskSpec spec;
  spec.actor = Id<ActorID>();
  spec.function = Str();
  spec.name = Str();
  spec.max_retries = static_cast<int>(I64());
  spec.retry_exceptions = U8();
  for (uint32_t i = 0, n = U32(); i < n; ++i) {
    std::string key = Str();
    spec.resources[key] = F64();
  }
  spec.placement_group = Str();
  spec.bundle_index = static_cast<int>(I64());
  spec.node_affinity = Str();
  spec.node_affinity_soft = U8();
  spec.args = GetArgs();
  return spec;
}

void WireWriter::PutActorOptions(const ActorOptions& o) {
  Str(o.class_name);
  I64(o.max_restarts);
  I64(o.max_task_retries);
  I64(o.max_concurrency);
  Str(o.name);
  Str(o.ns);
  U8(o.detached ? (*o.detached ? 2 : 1) : 0);
  U8(o.replay_on_restart);
}

ActorOptions WireReader::GetActorOptions() {
  ActorOptions o;
  o.class_name = Str();
  o.max_restarts = static_cast<int>(I64());
  o.max_task_retries = static_cast<int>(I64());
  o.max_concurrency = static_cast<int>(I64());
  o.name = Str();
  o.ns = Str();
  uint8_t d = U8();
  if (d) o.detached = d == 2;
  o.replay_on_restart = U8() != 0;
  return o;
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

bool Connection::NextFrame(MsgType* type, std::string* body) {
  size_t avail = in_.size() - in_used_;
  if (avail < 5) return false;
  uint32_t len;
  std::memcpy(&len, in_.data() + in_used_, 4);
  if (len == 0) throw WireError("empty frame");
  if (avail < 4 + size_t{len}) return false;
  *type = static_cast<MsgType>(in_[in_used_ + 4]);
  body->assign(in_.data() + in_used_ + 5, len - 1);
  in_used_ += 4 + len;
  if (in_used_ > (1u << 20) && in_used_ * 2 > in_.size()) {  // compact now and then
    in_.erase(0, in_used_);
    in_used_ = 0;
  }
  return true;
}

}  // namespace lumen::internal
