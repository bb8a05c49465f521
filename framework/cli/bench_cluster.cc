#include "bench_cluster.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "lumen/api.h"

namespace lumen::cli {

std::string SmallValue() { return "ok"; }

BenchActor* BenchActor::Make() { return new BenchActor(); }
std::string BenchActor::SmallValue() { return "ok"; }
int BenchActor::SmallValueBatch(int n) {
  std::vector<ObjectRef<std::string>> refs;
  refs.reserve(n);
  for (int i = 0; i < n; ++i) refs.push_back(lumen::Task(cli::SmallValue).Remote());
  lumen::Get(refs);
  return 0;
}
int BenchActor::Pid() { return static_cast<int>(::getpid()); }

}  // namespace lumen::cli

LUMEN_REMOTE(lumen::cli::SmallValue, lumen::cli::BenchActor::Make, &lumen::cli::BenchActor::SmallValue,
             &lumen::cli::BenchActor::SmallValueBatch, &lumen::cli::BenchActor::Pid);

namespace lumen::cli {

void StartCluster(bool lineage, bool large_store, const std::string& storage_dir) {
  lumen::Config config;
  config.enable_lineage = lineage;
  config.storage_dir = storage_dir;
  // Ray's put-gigabytes object is 800 MiB: the store must hold one (unless
  // the user sized it with LUMEN_OBJECT_STORE_MB).
  if (large_store && !std::getenv("LUMEN_OBJECT_STORE_MB")) config.object_store_bytes = kLargeBytes + (256ull << 20);
  lumen::Init(config);
  // Wait until every worker has connected and run something.
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  std::vector<ObjectRef<std::string>> refs;
  for (unsigned i = 0; i < 4 * cpus; ++i) refs.push_back(lumen::Task(SmallValue).Remote());
  lumen::Get(refs);
}

void SubmitAndGetBatch(int n) {
  std::vector<ObjectRef<std::string>> refs;
  refs.reserve(n);
  for (int i = 0; i < n; ++i) refs.push_back(lumen::Task(SmallValue).Remote());
  lumen::Get(refs);
}

LargeValue::LargeValue(bool quick) {
  const size_t bytes = quick ? kLargeBytes / 8 : kLargeBytes;
  const size_t n = (bytes + kMaxVectorBytes - 1) / kMaxVectorBytes;
  const size_t elements = bytes / sizeof(int64_t) / n;
  chunks.assign(n, std::vector<int64_t>(elements, 0));
  gb = static_cast<double>(n * elements * sizeof(int64_t)) / 1e9;
  std::printf("# *_put_gigabytes, memcpy_gigabytes: %zu bytes per op, as %zu vector(s) of %zu int64\n",
              n * elements * sizeof(int64_t), n, elements);
  std::fflush(stdout);
}

void LargeValue::Put() const {
  if (chunks.size() == 1) lumen::Put(chunks[0]);
  else lumen::Put(chunks);
}

}  // namespace lumen::cli
