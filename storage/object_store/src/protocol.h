// The wire protocol between a store client and the StoreServer.
//
// A client has one SOCK_SEQPACKET Unix connection and at most one request in
// flight on it, so every message is one packet and needs no framing. Right
// after accept the server sends a Hello, with the segment's descriptor
// attached (SCM_RIGHTS): that is the only way to reach the segment. From then
// on each Request is answered by exactly one Response. A connection's end (EOF) is the client's death
// notice: the server drops its pins and frees what it created but never sealed.
//
// Both ends are processes of the same build on the same host: structs travel
// in native layout, checked by the magic and version in Hello.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "lumen/storage/object_id.h"
#include "lumen/storage/object_store.h"
#include "lumen/storage/status.h"

namespace lumen::storage::wire {

inline constexpr uint32_t kMagic = 0x4C4D5354;  // "LMST"
// 2: the segment travels as a descriptor; 3: so may an object's spill file
inline constexpr uint32_t kVersion = 3;
// Large enough for a Response with a full error message; longer messages are cut.
inline constexpr size_t kMaxPacket = 2048;

// Server -> client, once, right after accept, carrying the segment's fd.
struct Hello {
  uint32_t magic = kMagic;
  uint32_t version = kVersion;
  uint64_t segment_size = 0;  // bytes to map
  char label[256] = {};       // NUL-terminated StoreConfig::label, for messages
};

// Sends one packet of `len` bytes, with `fd` attached unless it is -1; true
// if the whole packet went out.
inline bool SendPacket(int socket, const void* data, size_t len, int fd) {
  iovec iov{const_cast<void*>(data), len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  return sendmsg(socket, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) == static_cast<ssize_t>(len);
}

// Receives one packet of at most `capacity` bytes into `data` and its first
// descriptor, if any (close-on-exec; *fd = -1 if none). Any descriptors
// beyond one are closed, never leaked. Returns the packet's length, or -1
// with errno set; a packet or its descriptors cut short count as -1 (EMSGSIZE).
inline ssize_t ReceivePacket(int socket, void* data, size_t capacity, int* fd) {
  *fd = -1;
  iovec iov{data, capacity};
  alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int one;
      std::memcpy(&one, CMSG_DATA(c) + i * sizeof(int), sizeof one);
      if (*fd < 0) {
        *fd = one;
      } else {
        close(one);
      }
    }
  }
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
    errno = EMSGSIZE;
    return -1;
  }
  return n;
}

// Sends `hello` with `fd` attached; true if the whole packet went out.
inline bool SendHello(int socket, const Hello& hello, int fd) {
  return fd >= 0 && SendPacket(socket, &hello, sizeof hello, fd);
}

// Receives a Hello and its one descriptor. False, with *fd = -1 and nothing
// left open, unless exactly one packet of Hello's size came with one.
inline bool ReceiveHello(int socket, Hello* hello, int* fd) {
  const bool ok = ReceivePacket(socket, hello, sizeof *hello, fd) == static_cast<ssize_t>(sizeof *hello);
  if (!ok || *fd < 0) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
    return false;
  }
  return true;
}

enum class Op : uint8_t {
  kCreate = 1,  // id, size, reconstructable -> offset
  kSeal,        // id
  kAbort,       // id
  kGet,         // id -> offset, size (pins)
  kRelease,     // id (unpins)
  kDelete,      // id
  kContains,    // id -> size = 1 if present
  kStats,       // -> stats
};

struct Request {
  Op op;
  uint8_t reconstructable = 0;
  uint8_t id[ObjectID::kSize] = {};
  uint64_t size = 0;
};

struct WireStats {
  uint64_t capacity_bytes, used_bytes, num_objects, num_spilled, evictions, spills, restores,
      pinned_bytes, num_clients, spilled_bytes, reads_in_place, creates_in_file;
};

// Followed by `message_size` bytes of the status message. A Create's or
// Get's answer with `in_file` set carries the object's file as a descriptor
// (SCM_RIGHTS), to be mapped in place of the segment at `offset`.
struct ResponseHeader {
  uint8_t code = 0;  // StatusCode
  uint8_t in_file = 0;
  uint32_t message_size = 0;
  uint32_t pins = 0;  // Get: the client's pins of the object now
  uint64_t offset = 0;
  uint64_t size = 0;
  WireStats stats = {};
};

inline WireStats ToWire(const StoreStats& s) {
  return {s.capacity_bytes, s.used_bytes,     s.num_objects, s.num_spilled,
          s.evictions,      s.spills,         s.restores,    s.pinned_bytes,
          s.num_clients,    s.spilled_bytes,  s.reads_in_place, s.creates_in_file};
}

inline StoreStats FromWire(const WireStats& w) {
  StoreStats s;
  s.capacity_bytes = w.capacity_bytes;
  s.used_bytes = w.used_bytes;
  s.num_objects = w.num_objects;
  s.num_spilled = w.num_spilled;
  s.evictions = w.evictions;
  s.spills = w.spills;
  s.restores = w.restores;
  s.pinned_bytes = w.pinned_bytes;
  s.num_clients = w.num_clients;
  s.spilled_bytes = w.spilled_bytes;
  s.reads_in_place = w.reads_in_place;
  s.creates_in_file = w.creates_in_file;
  return s;
}

// Writes header + message into `buf` (kMaxPacket bytes); returns the length.
inline size_t EncodeResponse(const Status& status, ResponseHeader header, char* buf) {
  header.code = static_cast<uint8_t>(status.code());
  const size_t room = kMaxPacket - sizeof header;
  header.message_size = static_cast<uint32_t>(std::min(status.message().size(), room));
  std::memcpy(buf, &header, sizeof header);
  std::memcpy(buf + sizeof header, status.message().data(), header.message_size);
  return sizeof header + header.message_size;
}

// Parses a packet of `n` bytes; false if it is malformed.
inline bool DecodeResponse(const char* buf, size_t n, ResponseHeader* header, Status* status) {
  if (n < sizeof *header) return false;
  std::memcpy(header, buf, sizeof *header);
  if (header->message_size != n - sizeof *header) return false;
  const auto code = static_cast<StatusCode>(header->code);
  *status = code == StatusCode::kOk
                ? Status::OK()
                : Status(code, std::string(buf + sizeof *header, header->message_size));
  return true;
}

}  // namespace lumen::storage::wire
