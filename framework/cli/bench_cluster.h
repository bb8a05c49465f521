// The embedded cluster `lumen microbenchmark` runs on, and the work its
// metrics share: Ray's no-op task (small_value), a batch of them, Ray's
// actor, and Ray's 800 MiB put-gigabytes value. The CLI is the cluster's driver; its workers
// re-execute this binary, so the functions here are registered with
// LUMEN_REMOTE in every process. Driver thread only, between Init and
// Shutdown (StartCluster is the Init).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lumen::cli {

// Ray's put-gigabytes array: np.zeros(100 * 1024 * 1024, dtype=np.int64), 800 MiB.
constexpr size_t kLargeElements = 100ull << 20;
constexpr size_t kLargeBytes = kLargeElements * sizeof(int64_t);
// The object format's limit for one vector of numbers (lumen/storage/codec.h).
constexpr size_t kMaxVectorBytes = (size_t{1} << 29) - 8;
constexpr int kBatch = 1000;      // tasks per async batch, refs per wait, as Ray
constexpr int kMultiClients = 4;  // Ray: m = 4 submitting actors, or tasks (n:n)

// Ray's `small_value`: a no-op task returning b"ok".
std::string SmallValue();

// Ray's `Actor` (ray_perf.py): small_value, and small_value_batch(n), which
// submits n small_value tasks and gets them (multi_client_tasks_async); Pid
// says which process it lives in (to kill it).
class BenchActor {
 public:
  static BenchActor* Make();
  std::string SmallValue();
  int SmallValueBatch(int n);
  int Pid();
};

// Starts an embedded cluster (lumen::Init) with lineage on or off, and waits
// until every worker has connected and run something. `large_store`: the
// store holds one put-gigabytes value (unless LUMEN_OBJECT_STORE_MB sizes it).
// `storage_dir`: a named one (large Puts get durable copies), or "" for the default.
void StartCluster(bool lineage, bool large_store, const std::string& storage_dir = "");

// Submits `n` SmallValue tasks, then gets them all.
void SubmitAndGetBatch(int n);

// Ray's put-gigabytes value: np.zeros(100 * 1024 * 1024, dtype=np.int64),
// 800 MiB (--quick: an eighth, since first-touching 1.6 GB takes seconds
// here). The object format holds at most 2^29 - 1 bytes per vector of
// numbers (codec.h), so the bytes go as a vector of equal chunks that each
// fit; memcpy copies the same chunks into one prefaulted buffer.
struct LargeValue {
  // Prints the size as a "# ..." line.
  explicit LargeValue(bool quick);
  void Put() const;
  std::vector<std::vector<int64_t>> chunks;
  double gb = 0;
};

}  // namespace lumen::cli
