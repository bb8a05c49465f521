#include "local_store.h"

namespace lumen::storage {

Status LocalStore::Create(const ObjectID& id, size_t size, bool reconstructable, uint8_t** data) {
  uint64_t offset;
  Status s = core_->Create(kLocalClientId, id, size, reconstructable, &offset);
  if (s.ok()) *data = core_->segment().base() + offset;
  return s;
}

Status LocalStore::Seal(const ObjectID& id) { return core_->Seal(kLocalClientId, id); }

Status LocalStore::Abort(const ObjectID& id) { return core_->Abort(kLocalClientId, id); }

Status LocalStore::Get(const ObjectID& id, ObjectBuffer* out) {
  uint64_t offset, size;
  Status s = core_->Get(kLocalClientId, id, &offset, &size);
  if (s.ok()) *out = {core_->segment().base() + offset, size};
  return s;
}

Status LocalStore::Release(const ObjectID& id) { return core_->Release(kLocalClientId, id); }

Status LocalStore::Delete(const ObjectID& id) { return core_->Delete(kLocalClientId, id); }

bool LocalStore::Contains(const ObjectID& id) {
  bool present = false;
  return core_->Contains(id, &present).ok() && present;
}

StoreStats LocalStore::Stats() { return core_->Stats(); }

}  // namespace lumen::storage
