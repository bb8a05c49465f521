#include "local_store.h"

namespace lumen::storage {

Status LocalStore::Create(const ObjectID& id, size_t size, bool reconstructable, uint8_t** data) {
  std::lock_guard lock(views_->mu);
  Placement where;
  Status s = core_->Create(kLocalClientId, id, size, reconstructable, &where);
  if (!s.ok()) return s;
  if (where.fd < 0) {
    *data = core_->segment().base() + where.offset;
    return s;
  }
  s = views_->views.Map(id, where.fd, size, /*writable=*/true, 0, data);
  if (!s.ok()) (void)core_->Abort(kLocalClientId, id);
  return s;
}

Status LocalStore::Seal(const ObjectID& id) {
  std::lock_guard lock(views_->mu);
  views_->views.CreationEnded(id);
  return core_->Seal(kLocalClientId, id);
}

Status LocalStore::Abort(const ObjectID& id) {
  std::lock_guard lock(views_->mu);
  views_->views.CreationEnded(id);
  return core_->Abort(kLocalClientId, id);
}

Status LocalStore::Get(const ObjectID& id, ObjectBuffer* out) {
  std::lock_guard lock(views_->mu);
  Placement where;
  uint64_t size;
  Status s = core_->Get(kLocalClientId, id, &where, &size);
  if (!s.ok()) return s;
  if (where.fd < 0) {
    views_->views.Pinned(id);
    *out = {core_->segment().base() + where.offset, size};
    return s;
  }
  uint8_t* data;
  s = views_->views.Map(id, where.fd, size, /*writable=*/false, where.pins, &data);
  if (!s.ok()) {
    (void)core_->Release(kLocalClientId, id);
    return s;
  }
  *out = {data, size};
  return s;
}

Status LocalStore::Release(const ObjectID& id) {
  std::lock_guard lock(views_->mu);
  Status s = core_->Release(kLocalClientId, id);
  if (s.ok()) views_->views.Released(id);
  return s;
}

Status LocalStore::Delete(const ObjectID& id) { return core_->Delete(kLocalClientId, id); }

bool LocalStore::Contains(const ObjectID& id) {
  bool present = false;
  return core_->Contains(id, &present).ok() && present;
}

StoreStats LocalStore::Stats() { return core_->Stats(); }

}  // namespace lumen::storage
