#include "file_views.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace lumen::storage {

FileViews::~FileViews() {
  for (auto& [id, view] : views_) munmap(view.data, view.length);
}

Status FileViews::Map(const ObjectID& id, int fd, size_t size, bool writable, uint32_t pins,
                      uint8_t** data) {
  auto it = views_.find(id);
  if (it == views_.end()) {
    // A 0-byte object still gets an address of its own (never read).
    const size_t length = std::max<size_t>(size, 1);
    void* p = mmap(nullptr, length, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
    const int err = errno;
    close(fd);
    if (p == MAP_FAILED) {
      return {StatusCode::kIOError, "cannot map the file of object " + id.Hex() + ": " + std::strerror(err)};
    }
    it = views_.emplace(id, View{static_cast<uint8_t*>(p), length, 0, false}).first;
  } else {
    close(fd);
  }
  if (writable) {
    it->second.creating = true;
  } else {
    it->second.pins = pins;  // every pin of this process, this one included
  }
  *data = it->second.data;
  return Status::OK();
}

void FileViews::CreationEnded(const ObjectID& id) {
  auto it = views_.find(id);
  if (it == views_.end()) return;
  it->second.creating = false;
  MaybeUnmap(it);
}

void FileViews::Count(const ObjectID& id, int delta) {
  auto it = views_.find(id);
  if (it == views_.end()) return;
  if (delta > 0) {
    ++it->second.pins;
  } else if (it->second.pins > 0) {
    --it->second.pins;
    MaybeUnmap(it);
  }
}

void FileViews::MaybeUnmap(Views::iterator it) {
  if (it->second.pins > 0 || it->second.creating) return;
  munmap(it->second.data, it->second.length);
  views_.erase(it);
}

}  // namespace lumen::storage
