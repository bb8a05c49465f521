// Where an object's bytes live: inline in a Payload (small objects), or in
// the node's shared-memory store. One place for both directions, used by the
// node manager (driver) and by worker processes alike.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "lumen/internal/core.h"
#include "lumen/storage/object_store.h"
#include "protocol/messages.h"
#include "runtime/current_core.h"

namespace lumen::internal {

// Encodes `encoded` inline when it is at most kMaxInlineBytes, else writes it
// into `store` as object `id`. A store that cannot take it gives a kStoreFull
// payload (ObjectStoreFullError at Get), naming the size. An unsealed object
// of the same id (a dead attempt's) is waited for up to kDeadAttemptWait.
// `reconstructable`: the store may evict it (lineage can rebuild it).
inline constexpr std::chrono::milliseconds kDeadAttemptWait{3000};
Payload StorePayload(storage::ObjectStore& store, const ObjectID& id, const codec::Encoded& encoded,
                     std::vector<ObjectID> nested_refs, bool reconstructable = false);

// The bytes of a ready payload: inline ones as they are, stored ones pinned in
// `store` until the returned ObjectData's owner goes. Throws the payload's
// error, or ObjectLostError if the store no longer has the object. A spilled
// object is read back whatever the store holds: from its file if no piece of
// the store can take it.
ObjectData ResolvePayload(const std::shared_ptr<storage::ObjectStore>& store, const ObjectID& id, const Payload& p);

}  // namespace lumen::internal
