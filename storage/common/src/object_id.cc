#include "lumen/storage/object_id.h"

#include <unistd.h>

#include <atomic>
#include <random>

namespace lumen {

namespace {
// Random prefix from the OS (unique across processes) plus a counter (cheap
// per id). Reseeded in a forked child so parent and child never collide.
struct IdSource {
  std::array<uint8_t, 8> prefix{};
  std::atomic<uint64_t> counter{0};
  std::atomic<pid_t> pid{-1};
};

IdSource& Source() {
  static IdSource source;
  if (source.pid.load(std::memory_order_relaxed) != getpid()) {
    std::random_device rd;
    for (auto& b : source.prefix) b = static_cast<uint8_t>(rd());
    source.pid = getpid();
  }
  return source;
}
}  // namespace

template <>
BinaryID<16> BinaryID<16>::Random() {
  IdSource& s = Source();
  uint64_t n = s.counter.fetch_add(1, std::memory_order_relaxed);
  BinaryID<16> id;
  std::memcpy(id.bytes_.data(), &n, 8);
  std::memcpy(id.bytes_.data() + 8, s.prefix.data(), 8);
  return id;
}

}  // namespace lumen
