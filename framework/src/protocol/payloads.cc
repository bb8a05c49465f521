#include "protocol/payloads.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include "lumen/errors.h"

namespace lumen::internal {

namespace {
// `attempt()` again, after 1, 2, 4 .. 50 ms, while it fails with `code`, for
// at most about `bound`: for a condition another process ends (a dead
// process's half-made object reclaimed by the store).
Status RetryWhile(StatusCode code, std::chrono::milliseconds bound, const std::function<Status()>& attempt) {
  Status s = attempt();
  auto waited = std::chrono::milliseconds(0);
  for (auto pause = std::chrono::milliseconds(1); s.code() == code && waited < bound;
       pause = std::min(pause * 2, std::chrono::milliseconds(50))) {
    std::this_thread::sleep_for(pause);
    waited += pause;
    s = attempt();
  }
  return s;
}
}  // namespace

Payload StorePayload(storage::ObjectStore& store, const ObjectID& id, const codec::Encoded& encoded,
                     std::vector<ObjectID> nested_refs, bool reconstructable) {
  Payload p;
  p.size = encoded.size();
  p.nested_refs = std::move(nested_refs);
  if (encoded.size() <= kMaxInlineBytes) {
    auto bytes = std::make_shared<Bytes>(encoded.size());
    encoded.WriteTo(bytes->data());
    p.bytes = std::move(bytes);
    return p;
  }
  uint8_t* dest = nullptr;
  // A retried task's result may meet its dead attempt's: sealed, that copy is
  // the result (task ids name their results); still unsealed, the store
  // reclaims it once it sees the dead process's connection close.
  bool sealed = false;
  Status s = RetryWhile(StatusCode::kAlreadyExists, kDeadAttemptWait, [&] {
    Status created = store.Create(id, encoded.size(), reconstructable, &dest);
    sealed = created.code() == StatusCode::kAlreadyExists && store.Contains(id);
    return sealed ? Status::OK() : created;
  });
  if (sealed) {
    p.kind = Payload::kInStore;
    return p;
  }
  if (s.ok()) {
    encoded.WriteTo(dest);
    s = store.Seal(id);
  }
  if (!s.ok()) {
    p.kind = Payload::kError;
    // Not full but gone (its node stopped or died): a plain lumen::Error.
    const ErrorKind kind = s.code() == StatusCode::kDisconnected ? ErrorKind::kBadCall : ErrorKind::kStoreFull;
    p.error = {kind, "storing a " + std::to_string(encoded.size()) + "-byte object: " + s.message(), ""};
    return p;
  }
  p.kind = Payload::kInStore;
  return p;
}

ObjectData ResolvePayload(const std::shared_ptr<storage::ObjectStore>& store, const ObjectID& id, const Payload& p) {
  if (p.kind == Payload::kError) ThrowObjectError(p.error);
  if (p.kind == Payload::kInline) return {p.bytes->data(), p.bytes->size(), p.bytes};
  storage::ObjectBuffer buf;
  // A spilled object with no room to come back is read from its file.
  Status s = store->Get(id, &buf);
  if (s.code() == StatusCode::kDisconnected)  // its node stopped or died: not lost, out of reach
    throw Error("object " + id.Hex() + " cannot be read: " + s.message());
  if (!s.ok()) throw ObjectLostError("object " + id.Hex() + " is not in the object store: " + s.message());
  return {buf.data, buf.size, std::shared_ptr<const void>(buf.data, [store, id](const void*) {
            (void)store->Release(id);
          })};
}

}  // namespace lumen::internal
