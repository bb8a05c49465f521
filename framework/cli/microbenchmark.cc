// `lumen microbenchmark`: Ray's ray_perf.py benchmarks, same work per
// operation, on an embedded cluster in this process (the CLI is the driver;
// its workers re-execute this binary, hence LUMEN_REMOTE), printed one
// per line as Ray prints them:
//
//   single_client_tasks_sync per second 12345.67 +- 123.4
//
// Each figure is the mean and (population) standard deviation of `reps`
// timed runs of `seconds` each, after a warm-up, exactly as Ray's timeit:
// an op is repeated in steps of a tenth of the warm-up count until the time
// is up, and ops/s is multiplied by the op's work (1000 for a batch of 1000
// tasks, bytes/1e9 for gigabytes). Beside them, the limits of this machine
// measured in the same run: a bare pipe round trip between two processes
// (what a synchronous task can at best approach) and memcpy bandwidth (what
// a Put of a large object can at best approach). Actor metrics follow Ray's
// (1:1 sync/async/concurrent, 1:n, n:n), plus the time an actor takes to come
// back after its process is SIGKILLed. The actor metrics are in
// actor_benchmarks.cc, the lineage ones in lineage_benchmarks.cc, the timing
// in bench.cc.
#include "microbenchmark.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "actor_benchmarks.h"
#include "bench.h"
#include "bench_cluster.h"
#include "cluster_benchmarks.h"
#include "lineage_benchmarks.h"
#include "lumen/api.h"
#include "lumen/storage/store_benchmark.h"

namespace lumen::cli {
namespace {

constexpr int kMultiClientTasks = 10000;  // Ray: n = 10000 tasks per submitting actor
constexpr int kRefsInObject = 10000;      // refs nested in one object, as Ray

const std::vector<std::string> kMetrics = {
    "single_client_get_calls",
    "single_client_put_calls",
    "memcpy_gigabytes",
    "single_client_put_gigabytes",
    "single_client_tasks_and_get_batch",
    "single_client_get_object_containing_10k_refs",
    "single_client_wait_1k_refs",
    "ipc_roundtrip_limit",
    "single_client_tasks_sync",
    "single_client_tasks_async",
    "multi_client_tasks_async",
    "multi_thread_tasks_async",
    "1_1_actor_calls_sync",
    "1_1_actor_calls_async",
    "1_1_actor_calls_concurrent",
    "1_n_actor_calls_async",
    "n_n_actor_calls_async",
    "actor_restart_latency_ms",
    "actor_restart_latency_retry_ms",
    "store_small_ops",
    "store_put_gigabytes",
    "single_client_tasks_sync_lineage_on",
    "single_client_tasks_async_lineage_on",
    "single_client_put_calls_lineage_on",
    "single_client_tasks_sync_lineage_off",
    "single_client_tasks_async_lineage_off",
    "single_client_put_calls_lineage_off",
    "single_client_put_gigabytes_durable",
    "lineage_appends",
    "lineage_chain_100_first_ms",
    "lineage_chain_100_rebuild_ms",
    "lineage_reopen_1m_tasks_ms",
    "lineage_reopen_1m_tasks_init_ms",
    "joined_client_tasks_sync",
    "multi_node_tasks_async_1_node",
    "multi_node_tasks_async_2_nodes",
    "multi_node_tasks_async_3_nodes",
    "node_transfer_gigabytes",
    "node_transfer_tcp_gigabytes",
    "node_death_to_rerun_ms",
    "head_restart_to_first_call_ms",
    "placement_group_create_removal",
    "placement_group_create_removal_3_nodes",
};

// ---- the machine's limits --------------------------------------------------

// A child process that answers every byte on one pipe with a byte on another.
// It only reads, writes and exits: no lumen, no allocation (fork() copied a
// multithreaded process, so nothing else is safe in it).
class PingPong {
 public:
  PingPong() {
    int to_child[2], to_parent[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    if (::pipe2(to_parent, O_CLOEXEC) != 0) {
      ::close(to_child[0]);
      ::close(to_child[1]);
      throw std::runtime_error("pipe2 failed");
    }
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid_ == 0) {
      ::close(to_child[1]);
      ::close(to_parent[0]);
      char c;
      for (;;) {
        ssize_t n = ::read(to_child[0], &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) _exit(0);  // the parent closed its end
        if (::write(to_parent[1], &c, 1) != 1) _exit(0);
      }
    }
    ::close(to_child[0]);
    ::close(to_parent[1]);
    out_ = to_child[1];
    in_ = to_parent[0];
  }
  ~PingPong() {
    ::close(out_);  // EOF: the child exits
    ::close(in_);
    ::waitpid(pid_, nullptr, 0);
  }
  void RoundTrip() {
    char c = 'x';
    if (::write(out_, &c, 1) != 1) throw std::runtime_error("ping-pong write failed");
    ssize_t n;
    do n = ::read(in_, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) throw std::runtime_error("ping-pong child is gone");
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int in_ = -1;
};

// ---- the cluster -------------------------------------------------------------

void RunClusterBenchmarks(Bench& b) {
  // Ray: value = ray.put(0); ray.get(value)
  if (b.Wanted("single_client_get_calls")) {
    auto value = lumen::Put(0);
    b.TimeIt("single_client_get_calls", [&] { lumen::Get(value); });
  }
  // Ray: ray.put(0)
  b.TimeIt("single_client_put_calls", [] { lumen::Put(0); });

  if (b.AnyWanted("memcpy_gigabytes", "single_client_put_gigabytes")) {
    LargeValue value(b.quick());
    if (b.Wanted("memcpy_gigabytes")) {
      const size_t n = value.chunks.size() * value.chunks[0].size();
      std::unique_ptr<int64_t[]> dst(new int64_t[n]);
      std::memset(dst.get(), 1, n * sizeof(int64_t));
      b.TimeIt("memcpy_gigabytes", [&] {
        for (size_t c = 0; c < value.chunks.size(); ++c)
          std::memcpy(dst.get() + c * value.chunks[c].size(), value.chunks[c].data(), value.chunks[c].size() * sizeof(int64_t));
        std::atomic_signal_fence(std::memory_order_seq_cst);  // keep the copy
      }, value.gb);
    }
    b.TimeIt("single_client_put_gigabytes", [&] { value.Put(); }, value.gb);
  }

  // Ray: submit 1000 small_value tasks, get the batch; an op is the batch.
  b.TimeIt("single_client_tasks_and_get_batch", [] { SubmitAndGetBatch(kBatch); });

  // Ray gets an object holding 10,000 refs (made by a task there; Put here:
  // the timed Get is the same).
  if (b.Wanted("single_client_get_object_containing_10k_refs")) {
    std::vector<ObjectRef<int>> refs;
    refs.reserve(kRefsInObject);
    for (int i = 0; i < kRefsInObject; ++i) refs.push_back(lumen::Put(1));
    auto outer = lumen::Put(refs);
    refs.clear();
    b.TimeIt("single_client_get_object_containing_10k_refs", [&] { lumen::Get(outer); });
  }

  // Ray: submit 1000 small_value tasks, then 1000 times ray.wait(not_ready)
  // (num_returns=1: exactly one ref comes back ready each time); an op is the
  // whole loop. lumen::Wait returns every ready ref, so only the first one
  // leaves not_ready per call, as in Ray.
  b.TimeIt("single_client_wait_1k_refs", [] {
    std::vector<ObjectRef<std::string>> not_ready;
    not_ready.reserve(kBatch);
    for (int i = 0; i < kBatch; ++i) not_ready.push_back(lumen::Task(SmallValue).Remote());
    for (int i = 0; i < kBatch; ++i) {
      auto w = lumen::Wait(not_ready, 1);
      auto first = std::find(not_ready.begin(), not_ready.end(), w.ready.front());
      not_ready.erase(first);
    }
  });

  if (b.Wanted("ipc_roundtrip_limit")) {
    b.Guard("ipc_roundtrip_limit", [&] {
      PingPong pp;
      b.TimeIt("ipc_roundtrip_limit", [&] { pp.RoundTrip(); });
    });
  }
  // Ray: ray.get(small_value.remote())
  b.TimeIt("single_client_tasks_sync", [] { lumen::Get(lumen::Task(SmallValue).Remote()); });
  // Ray: ray.get([small_value.remote() for _ in range(1000)]); ops = tasks
  b.TimeIt("single_client_tasks_async", [] { SubmitAndGetBatch(kBatch); }, kBatch);
  // Ray: 4 actors each submitting 10,000 tasks and getting them; an op is
  // the 40,000 tasks.
  if (b.Wanted("multi_client_tasks_async")) {
    // --quick: 1000 tasks per client (Ray's 10,000 take tens of seconds here).
    const int tasks = b.quick() ? kBatch : kMultiClientTasks;
    std::vector<ActorHandle<BenchActor>> clients;
    for (int c = 0; c < kMultiClients; ++c) clients.push_back(lumen::Actor(BenchActor::Make).Remote());
    b.Guard("multi_client_tasks_async", [&] {
      for (auto& c : clients) lumen::Get(c.Task(&BenchActor::SmallValue).Remote());  // all up
      b.TimeIt("multi_client_tasks_async", [&] {
        std::vector<ObjectRef<int>> done;
        for (auto& c : clients) done.push_back(c.Task(&BenchActor::SmallValueBatch).Remote(tasks));
        lumen::Get(done);
      }, kMultiClients * tasks);
    });
    for (auto& c : clients) c.Kill();
  }
  // The previous definition (before actors): 4 threads of the driver each
  // submit 1000 tasks and get them.
  b.TimeIt("multi_thread_tasks_async", [] {
    std::vector<std::thread> clients;
    for (int c = 0; c < kMultiClients; ++c) clients.emplace_back([] { SubmitAndGetBatch(kBatch); });
    for (auto& t : clients) t.join();
  }, kMultiClients * kBatch);
}

void RunStorageBenchmarks(Bench& b) {
  if (b.AnyWanted("store_small_ops", "store_put_gigabytes")) {
    if (b.Wanted("store_small_ops")) b.Progress("store_small_ops");
    if (b.Wanted("store_put_gigabytes")) b.Progress("store_put_gigabytes");
    b.Guard("store", [&] {
      std::vector<double> ops, gbs;
      for (int r = 0; r < b.reps(); ++r) {
        storage::StoreBenchResult res = storage::RunStoreBenchmark(1);
        if (res.small_ops_per_s <= 0) throw std::runtime_error("the store benchmark could not run a store");
        ops.push_back(res.small_ops_per_s);
        gbs.push_back(res.put_gb_per_s);
      }
      b.Report("store_small_ops", StatOf(ops));
      b.Report("store_put_gigabytes", StatOf(gbs));
    });
  }
}

}  // namespace

const std::vector<std::string>& MicrobenchmarkMetricNames() { return kMetrics; }

int RunMicrobenchmark(const MicrobenchmarkOptions& options) {
  if (options.list) {
    for (const auto& name : kMetrics) std::printf("%s\n", name.c_str());
    return 0;
  }
  Bench b(options, kMetrics);
  if (b.total() == 0) {
    std::fprintf(stderr, "lumen microbenchmark: no metric matches --filter '%s'; the metrics are:\n",
                 options.filter.c_str());
    for (const auto& name : kMetrics) std::fprintf(stderr, "  %s\n", name.c_str());
    return 2;
  }
  // Lineage on and off are chosen here, per cluster: the environment must not
  // override them.
  if (const char* env = std::getenv("LUMEN_LINEAGE")) {
    std::fprintf(stderr, "lumen microbenchmark: ignoring LUMEN_LINEAGE=%s (both settings are measured)\n", env);
    ::unsetenv("LUMEN_LINEAGE");
  }
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  std::printf("# lumen microbenchmark (%s): %u cpus, embedded cluster with %u workers, lineage on unless *_lineage_off\n",
              options.quick ? "quick: 1 x 0.2 s per metric, 100 MiB puts" : "4 x 1 s per metric after 0.25 s warm-up", cpus, cpus);
  {
    double load[3] = {0, 0, 0};
    if (::getloadavg(load, 3) < 0) load[0] = -1;
    std::printf("# load average at start: %.2f %.2f %.2f (other work on the machine skews every figure)\n", load[0],
                load[1], load[2]);
  }
  std::printf("# per second = mean +- stdev over the runs; *_gigabytes in GB/s (1e9 bytes); "
              "tasks_and_get_batch and wait_1k_refs count batches of 1000, as Ray\n");
  std::printf("# multi_client_tasks_async: %d actors x %d tasks%s; multi_thread_tasks_async: %d driver threads x %d "
              "tasks (its definition before actors)\n",
              kMultiClients, options.quick ? kBatch : kMultiClientTasks, options.quick ? " (Ray: x 10000)" : ", as Ray",
              kMultiClients, kBatch);
  PrintActorLegend();
  std::printf("# *_lineage_on / *_lineage_off: the same work on two clusters started one after the other (the "
              "*_lineage_on_over_off ratios); lineage_chain_100_*_ms: 100-task chains, run then rebuilt by the last "
              "id; lineage_reopen_1m_tasks*_ms: Init on a log of %s tasks\n",
              options.quick ? "10,000 (--quick)" : "1,000,000");
  std::fflush(stdout);

  auto start = Clock::now();
  const bool on = std::any_of(kMetrics.begin(), kMetrics.end(), [&](const std::string& name) {
    return b.Wanted(name) && name.find("lineage") == std::string::npos && name.rfind("store_", 0) != 0 &&
           name.find("_durable") == std::string::npos;
  });
  if (on) {
    b.Guard("cluster (lineage on)", [&] {
      StartCluster(/*lineage=*/true, /*large_store=*/!b.quick() && b.Wanted("single_client_put_gigabytes"));
      RunClusterBenchmarks(b);
      RunActorBenchmarks(b);
    });
    lumen::Shutdown();
  }
  RunStorageBenchmarks(b);
  RunLineageBenchmarks(b);
  RunClusterDaemonBenchmarks(b);

  b.Ratio("tasks_sync_over_ipc_roundtrip_limit", "single_client_tasks_sync", "ipc_roundtrip_limit");
  b.Ratio("actor_calls_sync_over_ipc_roundtrip_limit", "1_1_actor_calls_sync", "ipc_roundtrip_limit");
  b.Ratio("actor_calls_sync_over_tasks_sync", "1_1_actor_calls_sync", "single_client_tasks_sync");
  b.Ratio("put_gigabytes_over_memcpy", "single_client_put_gigabytes", "memcpy_gigabytes");
  b.Ratio("put_gigabytes_durable_over_memcpy", "single_client_put_gigabytes_durable", "memcpy_gigabytes");
  ReportLineageRatios(b);
  ReportClusterRatios(b);
  std::fprintf(stderr, "lumen microbenchmark: done in %.1f s%s\n", SecondsSince(start),
               b.failed() ? " (some metrics failed: see above)" : "");
  return b.failed() ? 1 : 0;
}

}  // namespace lumen::cli
