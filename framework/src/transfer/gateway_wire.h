// The store gateway's wire (schema/store_gateway.capnp): one message framed
// by its size, and raw object bytes in chunks, over a blocking descriptor,
// each bounded by how long it may go without progress. Shared by the gateway
// (store_gateway.h) and its client (remote_store.h).
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "lumen/storage/object_id.h"
#include "lumen/storage/status.h"
#include "lumen/transfer/store_gateway.capnp.h"

namespace lumen::internal::gateway {

// How long a read or write may wait without a byte moving: a transfer that
// is slow but progresses is never cut, one that stalls is. kForever: no bound
// (an idle connection waiting for its next request).
using Patience = std::chrono::milliseconds;
inline constexpr Patience kForever = Patience::max();
inline constexpr size_t kMaxMessageBytes = 64 << 10;  // requests and replies are small; bytes travel outside
inline constexpr size_t kChunkBytes = 1 << 20;
// A put's bytes go in chunks of kChunkBytes, each acknowledged by the
// gateway as it arrives (schema/store_gateway.capnp), so that the sender
// sees progress up to its last byte, not only up to its last write (which
// merely fills the buffers along the path). It runs at most this many
// chunks ahead of the acknowledgements, so that those, which it reads only
// when it must, never fill the way back.
inline constexpr size_t kPutAheadChunks = 16;

// Exactly `size` bytes; a Status naming what failed (kDisconnected: the peer
// went; kTimedOut: no byte moved for `patience`).
Status ReadBytes(int fd, void* data, size_t size, Patience patience);
Status WriteBytes(int fd, const void* data, size_t size, Patience patience);

// Until a byte can be read (or the peer closed, which the read then says),
// for at most `patience`: an idle connection's wait for its next request.
Status AwaitBytes(int fd, Patience patience);

Status WriteMessage(int fd, capnp::MessageBuilder& message, Patience patience);
// One message into *reader; kInvalid for a malformed one (the caller ends the connection).
Status ReadMessage(int fd, std::unique_ptr<capnp::FlatArrayMessageReader>* reader, kj::Array<capnp::word>* storage,
                   Patience patience);

inline capnp::Data::Reader IdBytes(const ObjectID& id) { return {id.data(), ObjectID::kSize}; }
// The id a message names; false if it is not one.
bool ReadId(capnp::Data::Reader bytes, ObjectID* id);

}  // namespace lumen::internal::gateway
