#include "transfer/gateway_wire.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/poll_until.h"

namespace lumen::internal::gateway {

namespace {

using Deadline = std::chrono::steady_clock::time_point;

Deadline After(Patience patience) {
  return patience == kForever ? Deadline::max() : std::chrono::steady_clock::now() + patience;
}

// Deadline::max(): an idle connection waits for its next request.
Status Wait(int fd, short events, Deadline deadline) {
  switch (PollUntil(fd, events, deadline)) {
    case PollResult::kReady: return Status::OK();
    case PollResult::kTimedOut: return {StatusCode::kTimedOut, "the other node did not answer in time"};
    case PollResult::kFailed: break;
  }
  return {StatusCode::kIOError, std::string("poll: ") + std::strerror(errno)};
}

Status Gone() { return {StatusCode::kDisconnected, "the connection to the other node closed"}; }

// Exactly `size` bytes one way; the bound starts again with every byte that
// moves, so a large transfer is not cut for being large.
Status Exactly(bool write, int fd, char* p, size_t size, Patience patience) {
  Deadline deadline = After(patience);
  while (size > 0) {
    if (Status s = Wait(fd, write ? POLLOUT : POLLIN, deadline); !s.ok()) return s;
    ssize_t n = write ? ::send(fd, p, size, MSG_DONTWAIT | MSG_NOSIGNAL) : ::recv(fd, p, size, MSG_DONTWAIT);
    if (n == 0 && !write) return Gone();
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return Gone();
    }
    p += n;
    size -= static_cast<size_t>(n);
    deadline = After(patience);
  }
  return Status::OK();
}

}  // namespace

Status ReadBytes(int fd, void* data, size_t size, Patience patience) {
  return Exactly(false, fd, static_cast<char*>(data), size, patience);
}

Status WriteBytes(int fd, const void* data, size_t size, Patience patience) {
  return Exactly(true, fd, const_cast<char*>(static_cast<const char*>(data)), size, patience);  // only read from
}

Status AwaitBytes(int fd, Patience patience) { return Wait(fd, POLLIN, After(patience)); }

Status WriteMessage(int fd, capnp::MessageBuilder& message, Patience patience) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  uint32_t size = static_cast<uint32_t>(bytes.size());
  if (Status s = WriteBytes(fd, &size, sizeof size, patience); !s.ok()) return s;
  return WriteBytes(fd, bytes.begin(), bytes.size(), patience);
}

Status ReadMessage(int fd, std::unique_ptr<capnp::FlatArrayMessageReader>* reader, kj::Array<capnp::word>* storage,
                   Patience patience) {
  uint32_t size = 0;
  if (Status s = ReadBytes(fd, &size, sizeof size, patience); !s.ok()) return s;
  if (size == 0 || size % sizeof(capnp::word) != 0 || size > kMaxMessageBytes)
    return {StatusCode::kInvalid, "a malformed message: " + std::to_string(size) + " bytes"};
  *storage = kj::heapArray<capnp::word>(size / sizeof(capnp::word));
  if (Status s = ReadBytes(fd, storage->begin(), size, patience); !s.ok()) return s;
  capnp::ReaderOptions options;
  options.traversalLimitInWords = 2 * storage->size() + 64;
  options.nestingLimit = 8;
  try {
    *reader = std::make_unique<capnp::FlatArrayMessageReader>(*storage, options);
  } catch (const kj::Exception& e) {
    return {StatusCode::kInvalid, std::string("a malformed message: ") + e.getDescription().cStr()};
  }
  return Status::OK();
}

bool ReadId(capnp::Data::Reader bytes, ObjectID* id) {
  if (bytes.size() != ObjectID::kSize) return false;
  *id = ObjectID::FromBinary(bytes.begin());
  return true;
}

}  // namespace lumen::internal::gateway
