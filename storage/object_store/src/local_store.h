// LocalStore: the ObjectStore the server's own process gets from
// StoreServer::LocalClient(). Direct calls into the StoreCore under its mutex:
// no socket, no copy. Its pins belong to the process, which lives as long as
// the server.
#pragma once

#include <memory>

#include "lumen/storage/object_store.h"
#include "store_core.h"

namespace lumen::storage {

class LocalStore final : public ObjectStore {
 public:
  explicit LocalStore(std::shared_ptr<StoreCore> core) : core_(std::move(core)) {}

  Status Create(const ObjectID& id, size_t size, bool reconstructable, uint8_t** data) override;
  Status Seal(const ObjectID& id) override;
  Status Abort(const ObjectID& id) override;
  Status Get(const ObjectID& id, ObjectBuffer* out) override;
  Status Release(const ObjectID& id) override;
  Status Delete(const ObjectID& id) override;
  bool Contains(const ObjectID& id) override;
  StoreStats Stats() override;

 private:
  // Shared so that the mapping outlives the server while buffers are held.
  const std::shared_ptr<StoreCore> core_;
};

}  // namespace lumen::storage
