// Workload "tree": the sum of N numbers reduced pairwise by tasks, a binary
// tree of 2N - 1 tasks a round whose root must be the exact sum. Every task
// retries forever, so a killed or stopped worker may slow a round down but
// never change its result: an interior sum computed twice is the same sum.
//
// With kill-driver in the schedule each round's root is reported flushed
// once its tree is submitted (before its Get: a round under way at the kill
// counts too); the new driver gets every root by its id, rebuilt from the
// lineage log (all of its tasks re-run), and each must be its exact sum.
#include <string>
#include <vector>

#include "workload.h"

namespace chaos {
namespace {

uint64_t Leaf(uint64_t value) { return value; }
uint64_t AddPair(uint64_t a, uint64_t b) { return a + b; }
LUMEN_REMOTE(Leaf, AddPair);

class TreeReduce : public Workload {
 public:
  // On a cluster of daemons a task costs a joined driver's round trip (and
  // some a hop to a node): a quarter of the leaves keeps a round near a second.
  explicit TreeReduce(const WorkloadSettings& settings)
      : settings_(settings), leaves_((settings.on_cluster ? 1024 : 4096) * static_cast<uint64_t>(settings.scale)) {}

  std::vector<FaultKind> Faults() const override {
    return {FaultKind::kKillWorker, FaultKind::kKillWorker, FaultKind::kStopWorker, FaultKind::kFillStore,
            FaultKind::kKillDriver};
  }

  void RunRound(RunLog& log) override {
    // Round r sums base + 0 .. base + N-1, base = r * N + seed: a different
    // exact answer each round, so a stale result cannot pass for a new one.
    const uint64_t base = round_ * leaves_ + settings_.seed;
    std::vector<lumen::ObjectRef<uint64_t>> level;
    level.reserve(leaves_);
    for (uint64_t i = 0; i < leaves_; ++i) level.push_back(lumen::Task(Leaf).SetMaxRetries(-1).Remote(base + i));
    while (level.size() > 1) {
      std::vector<lumen::ObjectRef<uint64_t>> next;
      for (size_t i = 0; i + 1 < level.size(); i += 2)
        next.push_back(lumen::Task(AddPair).SetMaxRetries(-1).Remote(level[i], level[i + 1]));
      if (level.size() % 2) next.push_back(level.back());
      level = std::move(next);
    }
    const uint64_t expected = leaves_ * base + leaves_ * (leaves_ - 1) / 2;
    if (settings_.flush) {
      try {
        lumen::Flush();
      } catch (const lumen::Error& e) {
        throw WorkloadError(std::string("lumen::Flush threw: ") + e.what());
      }
      log.Flushed(level[0].ID(), expected);
    }
    std::string what = "the root of round " + std::to_string(round_);
    uint64_t got = *GetWithin(level[0], settings_.get_timeout_ms, what);
    if (got != expected)
      log.Fail("tree round " + std::to_string(round_) + ": sum " + std::to_string(got) + ", expected " +
               std::to_string(expected));
    else
      log.ResultChecked();
    tasks_ += 2 * leaves_ - 1;
    ++round_;
  }

  void CheckRecovered(const std::vector<FlushedObject>& roots, RunLog& log) override {
    // One Get a root, each within the bound: a root's rebuild re-runs its
    // whole tree, and the first Get of a root starts it.
    bool exact = true;
    for (const FlushedObject& root : roots) {
      auto ref = lumen::ObjectRef<uint64_t>::FromID(root.id);
      uint64_t got = *GetWithin(ref, settings_.get_timeout_ms, "the root " + root.id + " by its id");
      if (got != root.expect) {
        exact = false;
        log.Fail("tree root " + root.id + " rebuilt after the kill: sum " + std::to_string(got) + ", expected " +
                 std::to_string(root.expect));
      }
    }
    if (exact) log.ResultChecked(roots.size());
    recovered_ = roots.size();
  }

  std::string Extra() const override {
    std::string tasks = std::to_string(tasks_) + " tasks";
    return recovered_ ? std::to_string(recovered_) + " roots by id after the kill, " + tasks : tasks;
  }

 private:
  const WorkloadSettings settings_;
  const uint64_t leaves_;
  uint64_t round_ = 0;
  uint64_t tasks_ = 0;
  size_t recovered_ = 0;  // roots got by id in a new driver
};

}  // namespace

std::unique_ptr<Workload> MakeTreeReduce(const WorkloadSettings& settings) {
  return std::make_unique<TreeReduce>(settings);
}

}  // namespace chaos
