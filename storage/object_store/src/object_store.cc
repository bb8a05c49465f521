#include "lumen/storage/object_store.h"

#include <cstring>

namespace lumen::storage {

Status ObjectStore::Put(const ObjectID& id, const void* bytes, size_t size, bool reconstructable) {
  uint8_t* data = nullptr;
  Status s = Create(id, size, reconstructable, &data);
  if (!s.ok()) return s;
  if (size > 0) std::memcpy(data, bytes, size);
  return Seal(id);
}

}  // namespace lumen::storage
