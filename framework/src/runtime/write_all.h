// Writes that finish: all of the bytes to a descriptor, retrying what a
// signal interrupted and what a short write left.
#pragma once

#include <cstddef>
#include <string>

namespace lumen::internal {

// All `size` bytes to `fd`, or false (errno says why).
bool WriteAll(int fd, const void* data, size_t size);
inline bool WriteAll(int fd, const std::string& text) { return WriteAll(fd, text.data(), text.size()); }

}  // namespace lumen::internal
