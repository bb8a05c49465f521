// The actor metrics of `lumen microbenchmark`, as Ray's ray_perf.py: 1:1
// calls (sync, async, concurrent), 1:n and n:n async calls, and the time an
// actor takes to come back after its process is SIGKILLed.
#include "actor_benchmarks.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_cluster.h"
#include "lumen/api.h"

namespace lumen::cli {
namespace {

// Ray's `work(actors)` of n:n actor calls async: n calls spread round-robin
// over the actors, then get them all.
int CallActorsRoundRobin(std::vector<ActorHandle<BenchActor>> actors, int n) {
  std::vector<ObjectRef<std::string>> refs;
  refs.reserve(n);
  for (int i = 0; i < n; ++i) refs.push_back(actors[i % actors.size()].Task(&BenchActor::SmallValue).Remote());
  lumen::Get(refs);
  return 0;
}

}  // namespace
}  // namespace lumen::cli

LUMEN_REMOTE(lumen::cli::CallActorsRoundRobin);

namespace lumen::cli {
namespace {

constexpr int kActorConcurrency = 16;   // Ray's 1:1 actor calls concurrent
constexpr int kCallsPerActor = 5000;    // Ray's 1:n: n = 5000 calls to each actor
constexpr int kCallsPerWorker = 5000;   // Ray's n:n: m = 4 tasks x n = 5000 calls

// Number of actors of the 1:n and n:n metrics. Ray: cpu_count() // 2 (32 on
// its 64-vCPU machine); here at least 2, or "n" would be 1.
int NumServerActors() {
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::max(2u, cpus / 2));
}

std::vector<ActorHandle<BenchActor>> StartActors(int n, int max_concurrency = 1) {
  std::vector<ActorHandle<BenchActor>> actors;
  for (int i = 0; i < n; ++i) actors.push_back(lumen::Actor(BenchActor::Make).SetMaxConcurrency(max_concurrency).Remote());
  for (auto& a : actors) lumen::Get(a.Task(&BenchActor::SmallValue).Remote());  // up and answering
  return actors;
}

void CallAndGet(ActorHandle<BenchActor>& a, int n) {
  std::vector<ObjectRef<std::string>> refs;
  refs.reserve(n);
  for (int i = 0; i < n; ++i) refs.push_back(a.Task(&BenchActor::SmallValue).Remote());
  lumen::Get(refs);
}

uint64_t WorkerDeathsSeen(uint64_t* by_reaping = nullptr) {
  ClusterInfo info = lumen::GetClusterInfo();
  if (by_reaping) *by_reaping = info.worker_deaths_seen_by_reaping;
  return info.worker_deaths_seen_by_caf + info.worker_deaths_seen_by_reaping;
}

struct RestartSamples {
  std::vector<double> ms;
  uint64_t seen_by_reaping = 0;  // deaths CAF did not report (reaping's fallback: ~1 s later)
};

// Kills the actor's process with SIGKILL and times, in ms, until a call on it
// answers. retry_at_once = false: the call is submitted once the node has
// noticed the death (a call sent before would die with the process: the actor
// has no task retries); true: the actor has max_task_retries = -1 and the call
// goes right after the kill. Each incarnation first runs for `settle` (an
// actor killed within a few ms of its start may not be under CAF supervision
// yet; see RESULTS.md).
RestartSamples RestartLatencies(int restarts, bool retry_at_once, std::chrono::milliseconds settle) {
  auto creator = lumen::Actor(BenchActor::Make).SetMaxRestarts(-1);
  if (retry_at_once) creator.SetMaxTaskRetries(-1);
  auto a = creator.Remote();
  RestartSamples out;
  uint64_t reaped_before = 0;
  WorkerDeathsSeen(&reaped_before);
  for (int i = 0; i < restarts; ++i) {
    const int pid = *lumen::Get(a.Task(&BenchActor::Pid).Remote(), 30000);  // also: the incarnation is up
    std::this_thread::sleep_for(settle);
    const uint64_t deaths = WorkerDeathsSeen();
    auto start = Clock::now();
    if (::kill(pid, SIGKILL) != 0) throw std::runtime_error(std::string("kill: ") + std::strerror(errno));
    if (!retry_at_once) {
      while (WorkerDeathsSeen() <= deaths) {
        if (SecondsSince(start) > 30) throw std::runtime_error("the node did not notice the actor's death in 30 s");
        ::usleep(50);
      }
    }
    lumen::Get(a.Task(&BenchActor::SmallValue).Remote(), 30000);
    out.ms.push_back(1e3 * SecondsSince(start));
  }
  a.Kill();
  uint64_t reaped_after = 0;
  WorkerDeathsSeen(&reaped_after);
  out.seen_by_reaping = reaped_after - reaped_before;
  return out;
}

}  // namespace

void RunActorBenchmarks(Bench& b) {
  // Ray: a = Actor.remote(); ray.get(a.small_value.remote())
  if (b.AnyWanted("1_1_actor_calls_sync", "1_1_actor_calls_async")) {
    auto actors = StartActors(1);
    b.TimeIt("1_1_actor_calls_sync", [&] { lumen::Get(actors[0].Task(&BenchActor::SmallValue).Remote()); });
    // Ray: ray.get([a.small_value.remote() for _ in range(1000)]); ops = calls
    b.TimeIt("1_1_actor_calls_async", [&] { CallAndGet(actors[0], kBatch); }, kBatch);
    actors[0].Kill();
  }
  // Ray: Actor.options(max_concurrency=16), then as 1_1_actor_calls_async.
  if (b.Wanted("1_1_actor_calls_concurrent")) {
    auto actors = StartActors(1, kActorConcurrency);
    b.TimeIt("1_1_actor_calls_concurrent", [&] { CallAndGet(actors[0], kBatch); }, kBatch);
    actors[0].Kill();
  }
  // Ray: a Client actor calls small_value 5000 times on each of n actors, then
  // gets them all. Here the caller is the driver.
  if (b.Wanted("1_n_actor_calls_async")) {
    auto actors = StartActors(NumServerActors());
    b.TimeIt("1_n_actor_calls_async", [&] {
      std::vector<ObjectRef<std::string>> refs;
      refs.reserve(kCallsPerActor * actors.size());
      for (auto& a : actors)
        for (int i = 0; i < kCallsPerActor; ++i) refs.push_back(a.Task(&BenchActor::SmallValue).Remote());
      lumen::Get(refs);
    }, static_cast<double>(kCallsPerActor) * static_cast<double>(actors.size()));
    for (auto& a : actors) a.Kill();
  }
  // Ray: m = 4 tasks, each making 5000 calls round-robin over the n actors
  // (the handles are the task's argument) and getting them.
  if (b.Wanted("n_n_actor_calls_async")) {
    auto actors = StartActors(NumServerActors());
    b.TimeIt("n_n_actor_calls_async", [&] {
      std::vector<ObjectRef<int>> done;
      for (int c = 0; c < kMultiClients; ++c) done.push_back(lumen::Task(CallActorsRoundRobin).Remote(actors, kCallsPerWorker));
      lumen::Get(done);
    }, kMultiClients * kCallsPerWorker);
    for (auto& a : actors) a.Kill();
  }
  const int restarts = b.quick() ? 3 : 10;
  const std::chrono::milliseconds settle(b.quick() ? 20 : 100);
  for (bool retry : {false, true}) {
    const std::string name = retry ? "actor_restart_latency_retry_ms" : "actor_restart_latency_ms";
    if (!b.Wanted(name)) continue;
    b.Progress(name);
    b.Guard(name, [&] {
      RestartSamples r = RestartLatencies(restarts, retry, settle);
      char note[96];
      std::snprintf(note, sizeof note, "%zu restarts, %llu deaths seen by reaping, not CAF", r.ms.size(),
                    static_cast<unsigned long long>(r.seen_by_reaping));
      b.ReportLatency(name, r.ms, note);
    });
  }
}

void PrintActorLegend() {
  std::printf("# 1_n / n_n_actor_calls_async: %d actors (Ray: cpu_count // 2); 1_n: the driver makes %d calls to each "
              "(Ray: a client actor); n_n: %d tasks x %d calls round-robin, as Ray\n",
              NumServerActors(), kCallsPerActor, kMultiClients, kCallsPerWorker);
  std::printf("# actor_restart_latency*_ms: SIGKILL of the actor's process until a call answers (ms); _ms: the call is "
              "sent once the node noticed the death; _retry_ms: max_task_retries=-1, sent at once\n");
}

}  // namespace lumen::cli
