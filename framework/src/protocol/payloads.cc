#include "protocol/payloads.h"

#include "lumen/errors.h"

namespace lumen::internal {

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
  Status s = store.Create(id, encoded.size(), reconstructable, &dest);
  if (s.code() == StatusCode::kAlreadyExists && store.Contains(id)) {
    // A retried task's result, sealed by an attempt whose worker died before
    // it reported: that copy is the result (task ids name their results).
    p.kind = Payload::kInStore;
    return p;
  }
  if (s.ok()) {
    encoded.WriteTo(dest);
    s = store.Seal(id);
  }
  if (!s.ok()) {
    p.kind = Payload::kError;
    p.error = {ErrorKind::kStoreFull, "storing a " + std::to_string(encoded.size()) + "-byte object: " + s.message(), ""};
    return p;
  }
  p.kind = Payload::kInStore;
  return p;
}

ObjectData ResolvePayload(const std::shared_ptr<storage::ObjectStore>& store, const ObjectID& id, const Payload& p) {
  if (p.kind == Payload::kError) ThrowObjectError(p.error);
  if (p.kind == Payload::kInline) return {p.bytes->data(), p.bytes->size(), p.bytes};
  storage::ObjectBuffer buf;
  Status s = store->Get(id, &buf);
  if (!s.ok()) throw ObjectLostError("object " + id.Hex() + " is not in the object store: " + s.message());
  return {buf.data, buf.size, std::shared_ptr<const void>(buf.data, [store, id](const void*) {
            (void)store->Release(id);
          })};
}

}  // namespace lumen::internal
