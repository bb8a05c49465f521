#include "lumen/storage/object_id.h"

#include <pthread.h>

#include <atomic>
#include <random>

namespace lumen {

namespace {
// Random prefix from the OS (unique across processes) plus a counter (cheap
// per id). A forked child draws a new prefix (pthread_atfork), so parent and
// child never collide; no system call per id.
struct IdSource {
  std::array<uint8_t, 8> prefix{};
  std::atomic<uint64_t> counter{0};
  void Reseed() {
    std::random_device rd;
    for (auto& b : prefix) b = static_cast<uint8_t>(rd());
  }
  IdSource() {
    Reseed();
    pthread_atfork(nullptr, nullptr, [] { Source().Reseed(); });
  }
  static IdSource& Source();
};

IdSource& IdSource::Source() {
  static IdSource source;
  return source;
}

IdSource& Source() { return IdSource::Source(); }
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
