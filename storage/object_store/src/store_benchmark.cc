#include "lumen/storage/store_benchmark.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "lumen/storage/object_store.h"

namespace lumen::storage {

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

constexpr size_t kBigSize = 100ull << 20;

double SmallOpsPerSecond(ObjectStore& store, double budget_s) {
  constexpr int kBatch = 2000;
  uint8_t payload[64];
  std::memset(payload, 7, sizeof payload);
  std::vector<ObjectID> ids(kBatch);
  uint64_t cycles = 0;
  double timed = 0;
  const auto start = Clock::now();
  while (SecondsSince(start) < budget_s) {
    for (auto& id : ids) id = ObjectID::ForPut();
    const auto batch_start = Clock::now();
    for (const ObjectID& id : ids) {
      uint8_t* data;
      ObjectBuffer buffer;
      if (!store.Create(id, sizeof payload, true, &data).ok()) return 0;
      std::memcpy(data, payload, sizeof payload);
      if (!store.Seal(id).ok() || !store.Get(id, &buffer).ok() || !store.Release(id).ok()) return 0;
    }
    timed += SecondsSince(batch_start);
    cycles += kBatch;
    for (const ObjectID& id : ids) (void)store.Delete(id);  // untimed: keeps the store empty
  }
  return timed > 0 ? cycles / timed : 0;
}

double PutGbPerSecond(ObjectStore& store, const uint8_t* source, int rounds) {
  double best = 0;
  for (int i = 0; i < rounds; ++i) {
    const ObjectID id = ObjectID::ForPut();
    const auto start = Clock::now();
    if (!store.Put(id, source, kBigSize, true).ok()) return 0;
    best = std::max(best, kBigSize / SecondsSince(start) / 1e9);
    (void)store.Delete(id);
  }
  return best;
}

double MemcpyGbPerSecond(uint8_t* dst, const uint8_t* src, int rounds) {
  double best = 0;
  for (int i = 0; i < rounds; ++i) {
    const auto start = Clock::now();
    std::memcpy(dst, src, kBigSize);
    // Keep the copy observable so it is not optimised away.
    std::atomic_signal_fence(std::memory_order_seq_cst);
    best = std::max(best, kBigSize / SecondsSince(start) / 1e9);
  }
  return best;
}

}  // namespace

StoreBenchResult RunStoreBenchmark(int seconds_budget_hint) {
  static std::atomic<int> run{0};
  const std::string tag = std::to_string(getpid()) + "-" + std::to_string(run++);
  StoreConfig config;
  config.label = "lumen-bench-" + tag;
  config.socket_path = "/tmp/lumen-bench-" + tag + ".sock";
  config.capacity_bytes = kBigSize + (64ull << 20);
  std::unique_ptr<StoreServer> server;
  if (!StoreServer::Start(config, &server).ok()) return {};
  std::shared_ptr<ObjectStore> client;
  if (!ConnectToStore(config.socket_path, &client).ok()) return {};

  StoreBenchResult result;
  const double budget = std::max(1, seconds_budget_hint);
  result.small_ops_per_s = SmallOpsPerSecond(*client, budget * 0.6);

  // Both buffers prefaulted, like the segment, so the comparison is fair.
  std::unique_ptr<uint8_t[]> src(new uint8_t[kBigSize]);
  std::unique_ptr<uint8_t[]> dst(new uint8_t[kBigSize]);
  std::memset(src.get(), 0x5a, kBigSize);
  std::memset(dst.get(), 0, kBigSize);
  const int rounds = std::clamp(static_cast<int>(budget * 4), 3, 20);
  result.memcpy_gb_per_s = MemcpyGbPerSecond(dst.get(), src.get(), rounds);
  result.put_gb_per_s = PutGbPerSecond(*client, src.get(), rounds);
  return result;
}

}  // namespace lumen::storage
