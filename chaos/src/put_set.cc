// Workload "putset": the Jepsen "set" check for Put. The driver Puts many
// values, small (inline, kept by their owner) and large (shared memory,
// spilled when the store fills), and remembers each acknowledged Put's id
// and value. Each round a task reads a sample of earlier Puts in a worker
// and returns their checksums; at the end every acknowledged Put is got
// again, by its id through ObjectRef::FromID, and must hold its exact value.
//
// With kill-driver in the schedule each round ends with lumen::Flush(), and
// the round's Puts are reported flushed; after the kill a new driver gets
// every one of them by its id with its exact bytes: small ones from their
// log record, large ones from their durable copy under the storage dir.
// Large Puts lost there are one failure line of their own.
#include <string>
#include <vector>

#include "workload.h"

namespace chaos {
namespace {

using Words = std::vector<uint64_t>;

// One in ten Puts is large: over the inline limit, through the store.
bool IsLarge(uint64_t n) { return n % 10 == 9; }

// Value number `n` of a run: mostly small (at most a few KiB, inline), one
// in ten large (128 KiB - 1 MiB).
Words PutValue(uint64_t seed, uint64_t n) {
  uint64_t h = Mix(seed ^ (n * 0x9e3779b97f4a7c15ULL));
  size_t words = IsLarge(n) ? (128 << 10) / 8 + h % ((896 << 10) / 8) : 1 + h % 512;
  Words value(words);
  for (size_t i = 0; i < words; ++i) value[i] = Mix(h + i);
  return value;
}

uint64_t ChecksumOf(const Words& w) { return Checksum(w.data(), w.size()); }

// In a worker: the checksum of each value, in order.
std::vector<uint64_t> ChecksumsInWorker(std::vector<lumen::ObjectRef<Words>> refs) {
  std::vector<uint64_t> sums;
  for (const auto& ref : refs) sums.push_back(ChecksumOf(*lumen::Get(ref, 60000)));
  return sums;
}
// On a node of a cluster: the checksum of one value.
uint64_t ChecksumOnNode(Words value) { return ChecksumOf(value); }
LUMEN_REMOTE(ChecksumsInWorker, ChecksumOnNode);

class PutSet : public Workload {
 public:
  explicit PutSet(const WorkloadSettings& settings) : settings_(settings), puts_per_round_(100 * settings.scale) {}

  void Configure(lumen::Config* config) const override { config->object_store_bytes = 64 << 20; }

  std::vector<FaultKind> Faults() const override {
    return {FaultKind::kKillWorker, FaultKind::kStopWorker, FaultKind::kFillStore, FaultKind::kKillDriver};
  }

  void RunRound(RunLog& log) override {
    for (int i = 0; i < puts_per_round_; ++i) {
      uint64_t n = acknowledged_.size();
      lumen::ObjectRef<Words> ref;
      try {
        ref = lumen::Put(PutValue(settings_.seed, n));
      } catch (const lumen::Error& e) {
        throw WorkloadError("Put number " + std::to_string(n) + " threw: " + e.what());
      }
      acknowledged_.push_back({ref, ref.ID(), n});
    }
    if (settings_.flush) {
      try {
        lumen::Flush();
      } catch (const lumen::Error& e) {
        throw WorkloadError(std::string("lumen::Flush threw: ") + e.what());
      }
      for (size_t k = acknowledged_.size() - puts_per_round_; k < acknowledged_.size(); ++k)
        log.Flushed(acknowledged_[k].id, acknowledged_[k].n);
    }
    // A sample across everything acknowledged so far, read in a worker.
    std::vector<lumen::ObjectRef<Words>> sample;
    std::vector<uint64_t> numbers;
    for (size_t k = round_ % 7; k < acknowledged_.size(); k += 1 + acknowledged_.size() / 40) {
      sample.push_back(acknowledged_[k].ref);
      numbers.push_back(acknowledged_[k].n);
    }
    const std::vector<uint64_t> sums = settings_.on_cluster ? ReadOnNodes(sample) : ReadInOneTask(sample);
    for (size_t k = 0; k < numbers.size(); ++k)
      if (k >= sums.size() || sums[k] != ChecksumOf(PutValue(settings_.seed, numbers[k])))
        log.Fail("Put number " + std::to_string(numbers[k]) + " read in a worker has other bytes than were put");
    log.ResultChecked(numbers.size());
    ++round_;
  }

  void Finish(RunLog& log) override {
    std::vector<FlushedObject> all;
    for (const Acknowledged& a : acknowledged_) all.push_back({a.id, a.n});
    CheckByIds(all, log);
  }

  void CheckRecovered(const std::vector<FlushedObject>& flushed, RunLog& log) override {
    CheckByIds(flushed, log);
    recovered_ = flushed.size();
  }

  std::string Extra() const override {
    std::string puts = std::to_string(acknowledged_.size()) + " puts";
    return recovered_ ? std::to_string(recovered_) + " by id after the kill, " + puts : puts;
  }

  void Stop() override { acknowledged_.clear(); }

 private:
  struct Acknowledged {
    lumen::ObjectRef<Words> ref;  // held, so the value must stay reachable
    std::string id;
    uint64_t n;
  };

  std::vector<uint64_t> ReadInOneTask(const std::vector<lumen::ObjectRef<Words>>& sample) const {
    return *GetWithin(lumen::Task(ChecksumsInWorker).SetMaxRetries(-1).Remote(sample), settings_.get_timeout_ms,
                      "round " + std::to_string(round_) + "'s sample read in a worker");
  }

  // On a cluster: a task a Put, each only a node daemon can run, so that
  // every Put read is copied from the head's store into a node's, each as
  // its task's argument (refs nested in an argument reach the node too:
  // nodes_test's RefsNestedInAnArgumentReachTheNodeThatRunsTheTask).
  std::vector<uint64_t> ReadOnNodes(const std::vector<lumen::ObjectRef<Words>>& sample) const {
    std::vector<lumen::ObjectRef<uint64_t>> sums;
    for (const auto& ref : sample)
      sums.push_back(lumen::Task(ChecksumOnNode).SetMaxRetries(-1).SetResource(kNodeResource, 1).Remote(ref));
    std::vector<uint64_t> values;
    for (const auto& sum : GetWithin(sums, settings_.get_timeout_ms,
                                     "round " + std::to_string(round_) + "'s sample read on the nodes"))
      values.push_back(*sum);
    return values;
  }

  // Gets every Put again by its id alone (no ref of ours may keep it) and
  // checks its bytes; `expect` is the Put's number.
  void CheckByIds(const std::vector<FlushedObject>& puts, RunLog& log) {
    uint64_t wrong = 0, lost_large = 0;
    std::string first_lost;
    for (const FlushedObject& p : puts) {
      const std::string what = "Put number " + std::to_string(p.expect) + " (" + p.id + ") by its id";
      std::string lost;
      auto value = GetWithin(lumen::ObjectRef<Words>::FromID(p.id), settings_.get_timeout_ms, what,
                             IsLarge(p.expect) ? &lost : nullptr);
      if (!value) {
        if (lost_large++ == 0) first_lost = what + ": " + lost;
      } else if (*value != PutValue(settings_.seed, p.expect) && wrong++ < 5) {
        log.Fail(what + " came back with other bytes");
      }
    }
    if (lost_large)
      log.Fail(std::to_string(lost_large) + " large Puts (over the inline limit) lost, of " +
               std::to_string(puts.size()) + " got by id; the first: " + first_lost);
    if (wrong == 0) log.ResultChecked(puts.size() - lost_large);
    else log.Fail(std::to_string(wrong) + " of " + std::to_string(puts.size()) + " acknowledged Puts are wrong");
  }

  const WorkloadSettings settings_;
  const int puts_per_round_;
  std::vector<Acknowledged> acknowledged_;
  uint64_t round_ = 0;
  size_t recovered_ = 0;  // Puts got by id in a new driver
};

}  // namespace

std::unique_ptr<Workload> MakePutSet(const WorkloadSettings& settings) { return std::make_unique<PutSet>(settings); }

}  // namespace chaos
