// Workload "shuffle": mappers make blocks of 1-4 MiB, reducers read one
// partition's blocks each and return a checksum of their bytes, through a
// store smaller than a round's data (Configure: 64 MiB for ~80 MiB a round,
// all held by the driver until the round ends). The store must spill and
// restore; every checksum must equal the one the driver computes from the
// same generator, so a single wrong byte after a restore fails the run. The
// driver also reads one block of the round in place (GetView) to check the
// restore path in its own process.
#include <algorithm>
#include <string>
#include <vector>

#include "workload.h"

namespace chaos {
namespace {

using Block = std::vector<uint64_t>;
constexpr size_t kMiB = 1 << 20;
constexpr int kPartitions = 4;

// The words of block (round, mapper, partition) and how many there are:
// 1-4 MiB, the same everywhere.
size_t BlockWords(uint64_t seed, uint64_t round, int mapper, int partition) {
  uint64_t h = Mix(seed ^ Mix(round * 131 + mapper * 17 + partition));
  return (kMiB + h % (3 * kMiB)) / sizeof(uint64_t);
}
uint64_t Word(uint64_t key, size_t i) { return Mix(key + i); }
uint64_t BlockKey(uint64_t seed, uint64_t round, int mapper, int partition) {
  return Mix(seed * 0x100000001b3ULL + round * 1009 + mapper * 31 + partition);
}

Block MapBlock(uint64_t seed, uint64_t round, int mapper, int partition) {
  Block block(BlockWords(seed, round, mapper, partition));
  uint64_t key = BlockKey(seed, round, mapper, partition);
  for (size_t i = 0; i < block.size(); ++i) block[i] = Word(key, i);
  return block;
}

uint64_t ExpectedChecksum(uint64_t seed, uint64_t round, int mappers, int partition) {
  uint64_t h = 0x243f6a8885a308d3ULL;
  for (int m = 0; m < mappers; ++m) {
    Block block = MapBlock(seed, round, m, partition);
    h = Checksum(block.data(), block.size(), h);
  }
  return h;
}

// Reads its blocks in place, one at a time, so that only one is pinned.
uint64_t ReducePartition(std::vector<lumen::ObjectRef<Block>> blocks) {
  uint64_t h = 0x243f6a8885a308d3ULL;
  for (const auto& ref : blocks) {
    auto view = lumen::GetView(ref, 60000);
    h = Checksum(view.span().data(), view.span().size(), h);
  }
  return h;
}
LUMEN_REMOTE(MapBlock, ReducePartition);

class Shuffle : public Workload {
 public:
  explicit Shuffle(const WorkloadSettings& settings) : settings_(settings), mappers_(8 * settings.scale) {}

  void Configure(lumen::Config* config) const override { config->object_store_bytes = 64 * kMiB; }

  std::vector<FaultKind> Faults() const override {
    return {FaultKind::kKillWorker, FaultKind::kKillWorker, FaultKind::kStopWorker, FaultKind::kFillStore};
  }

  void RunRound(RunLog& log) override {
    std::vector<std::vector<lumen::ObjectRef<Block>>> by_partition(kPartitions);
    for (int m = 0; m < mappers_; ++m)
      for (int p = 0; p < kPartitions; ++p)
        by_partition[p].push_back(lumen::Task(MapBlock).SetMaxRetries(-1).Remote(settings_.seed, round_, m, p));
    std::vector<lumen::ObjectRef<uint64_t>> sums;
    for (int p = 0; p < kPartitions; ++p)
      sums.push_back(lumen::Task(ReducePartition).SetMaxRetries(-1).Remote(by_partition[p]));

    for (int p = 0; p < kPartitions; ++p) {
      std::string what = "round " + std::to_string(round_) + " partition " + std::to_string(p);
      uint64_t got = *GetWithin(sums[p], settings_.get_timeout_ms, what + "'s checksum");
      if (got != ExpectedChecksum(settings_.seed, round_, mappers_, p))
        log.Fail("shuffle " + what + ": checksum differs from the bytes the mappers made");
      else
        log.ResultChecked();
    }
    // ClusterInfo counts the objects spilled now, not spills so far: sample it
    // while the round's blocks are all still referenced.
    most_spilled_ = std::max<uint64_t>(most_spilled_, lumen::GetClusterInfo().store_spilled_objects);
    // The first block of the round was written first, so it is the likeliest
    // to have been spilled: read it back in the driver.
    CheckBlockInDriver(log, by_partition[0][0], 0, 0);
    blocks_ += mappers_ * kPartitions;
    ++round_;
  }

  std::string Extra() const override {
    return std::to_string(blocks_) + " blocks, <=" + std::to_string(most_spilled_) + " spilled";
  }

 private:
  void CheckBlockInDriver(RunLog& log, const lumen::ObjectRef<Block>& ref, int mapper, int partition) {
    std::string what = "round " + std::to_string(round_) + " block " + std::to_string(mapper) + "/" + std::to_string(partition);
    auto view = GetViewWithin(ref, settings_.get_timeout_ms, what);
    Block expected = MapBlock(settings_.seed, round_, mapper, partition);
    auto words = view.span();
    if (words.size() != expected.size() || !std::equal(words.begin(), words.end(), expected.begin()))
      log.Fail("shuffle " + what + " read in the driver differs from what its mapper made");
    else
      log.ResultChecked();
  }

  const WorkloadSettings settings_;
  const int mappers_;
  uint64_t round_ = 0;
  uint64_t blocks_ = 0;
  uint64_t most_spilled_ = 0;  // at once, at the end of a round
};

}  // namespace

std::unique_ptr<Workload> MakeShuffle(const WorkloadSettings& settings) { return std::make_unique<Shuffle>(settings); }

}  // namespace chaos
