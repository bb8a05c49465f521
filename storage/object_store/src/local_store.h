// LocalStore: the ObjectStore the server's own process gets from
// StoreServer::LocalClient(). Direct calls into the StoreCore under its mutex:
// no socket, no copy. Its pins belong to the process, which lives as long as
// the server.
#pragma once

#include <memory>
#include <mutex>

#include "file_views.h"
#include "lumen/storage/object_store.h"
#include "store_core.h"

namespace lumen::storage {

// The server process's views of objects in files, shared by all its
// LocalStores as its pins are (kLocalClientId); `mu` orders each view update
// with the store call it follows.
struct LocalViews {
  std::mutex mu;
  FileViews views;  // guarded by mu
};

class LocalStore final : public ObjectStore {
 public:
  LocalStore(std::shared_ptr<StoreCore> core, std::shared_ptr<LocalViews> views)
      : core_(std::move(core)), views_(std::move(views)) {}

  Status Create(const ObjectID& id, size_t size, bool reconstructable, uint8_t** data) override;
  Status Seal(const ObjectID& id) override;
  Status Abort(const ObjectID& id) override;
  Status Get(const ObjectID& id, ObjectBuffer* out) override;
  Status Release(const ObjectID& id) override;
  Status Delete(const ObjectID& id) override;
  bool Contains(const ObjectID& id) override;
  StoreStats Stats() override;

 private:
  // Shared so that the mappings outlive the server while buffers are held.
  const std::shared_ptr<StoreCore> core_;
  const std::shared_ptr<LocalViews> views_;
};

}  // namespace lumen::storage
