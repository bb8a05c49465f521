// Spill files: one file per object that was moved out of memory to make room.
//
// Spilling exists for objects lineage cannot rebuild; their bytes must come
// back exactly. The files are scratch, not a durable copy: they die with the
// server, so there is no fsync.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "lumen/storage/status.h"

namespace lumen::storage {

// Creates `dir` (and parents) if missing; *created tells whether it did.
Status EnsureSpillDir(const std::string& dir, bool* created);
// Writes [data, data + size) to `path`, replacing it. Removes a partial file on error.
Status WriteSpillFile(const std::string& path, const uint8_t* data, size_t size);
// Reads exactly `size` bytes of `path` into `data`.
Status ReadSpillFile(const std::string& path, uint8_t* data, size_t size);
// Opens `path` read-only (close-on-exec), for mapping in place.
Status OpenSpillFile(const std::string& path, int* fd);
// Creates `path` of `size` zero bytes, open read-write in *fd, replacing any
// file there; removes it again on error.
Status CreateSpillFile(const std::string& path, uint64_t size, int* fd);
void RemoveSpillFile(const std::string& path);

}  // namespace lumen::storage
