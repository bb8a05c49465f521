// The wire protocol between a store client and the StoreServer.
//
// A client has one SOCK_SEQPACKET Unix connection and at most one request in
// flight on it, so every message is one packet and needs no framing. Right
// after accept the server sends a Hello; from then on each Request is answered
// by exactly one Response. A connection's end (EOF) is the client's death
// notice: the server drops its pins and frees what it created but never sealed.
//
// Both ends are processes of the same build on the same host: structs travel
// in native layout, checked by the magic and version in Hello.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "lumen/storage/object_id.h"
#include "lumen/storage/object_store.h"
#include "lumen/storage/status.h"

namespace lumen::storage::wire {

inline constexpr uint32_t kMagic = 0x4C4D5354;  // "LMST"
inline constexpr uint32_t kVersion = 1;
// Large enough for a Response with a full error message; longer messages are cut.
inline constexpr size_t kMaxPacket = 2048;

// Server -> client, once, right after accept.
struct Hello {
  uint32_t magic = kMagic;
  uint32_t version = kVersion;
  uint64_t segment_size = 0;   // bytes to map
  char segment_name[256] = {};  // NUL-terminated shm name
};

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
      pinned_bytes, num_clients;
};

// Followed by `message_size` bytes of the status message.
struct ResponseHeader {
  uint8_t code = 0;  // StatusCode
  uint32_t message_size = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  WireStats stats = {};
};

inline WireStats ToWire(const StoreStats& s) {
  return {s.capacity_bytes, s.used_bytes, s.num_objects, s.num_spilled, s.evictions,
          s.spills,         s.restores,   s.pinned_bytes, s.num_clients};
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
