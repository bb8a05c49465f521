// The lineage metrics. Each runs on a cluster of its own (or none), so that
// what one leaves in the store or the log does not skew the next:
//
//   cost      the same work with lineage on and off, in two clusters started
//             one after the other (single_client_*_lineage_on / _off)
//   durable   a large Put + Flush with a named storage dir
//   appends   the log alone, records per second made durable
//   rebuild   a chain of 100 tasks, each taking the previous one's output:
//             run the first time, then rebuilt from the log by the last id
//             once every ref was dropped (all 100 re-run, inputs first)
//   reopen    Init on a storage dir whose log holds 1,000,000 tasks (10,000
//             with --quick), until the first Get rebuilt from it returns
#include "lineage_benchmarks.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_cluster.h"
#include "lumen/api.h"
#include "lumen/storage/lineage_benchmark.h"
#include "lumen/storage/lineage_log.h"

namespace lumen::cli {

// The link of the chains: takes the previous task's output.
int64_t AddOne(int64_t x) { return x + 1; }

}  // namespace lumen::cli

LUMEN_REMOTE(lumen::cli::AddOne);

namespace lumen::cli {
namespace {

constexpr int kChainTasks = 100;
constexpr int64_t kGetTimeoutMs = 60000;  // a Get (a whole chain or a rebuild) that takes longer fails the metric
constexpr int kReopenTasks = 1000000;
constexpr int kReopenTasksQuick = 10000;
constexpr int kAppendsInFlight = 50000;   // records queued before the writer catches up
constexpr int64_t kFlushTimeoutMs = 120000;

// A fresh directory under the system's temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lumen-microbenchmark-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Starts a cluster, runs `body` on it under Guard(`what`), and shuts it down.
void OnCluster(Bench& b, const std::string& what, bool lineage, const std::function<void()>& body) {
  b.Guard(what, [&] {
    StartCluster(lineage, /*large_store=*/false);
    body();
  });
  lumen::Shutdown();
}

// ---- cost: lineage on against lineage off -----------------------------------

void RunCostBenchmarks(Bench& b) {
  for (bool lineage : {true, false}) {
    const std::string suffix = lineage ? "_lineage_on" : "_lineage_off";
    if (!b.AnyWanted("single_client_tasks_sync" + suffix, "single_client_tasks_async" + suffix,
                     "single_client_put_calls" + suffix))
      continue;
    OnCluster(b, lineage ? "cluster (lineage on)" : "cluster (lineage off)", lineage, [&] {
      b.TimeIt("single_client_tasks_sync" + suffix, [] { lumen::Get(lumen::Task(SmallValue).Remote()); });
      b.TimeIt("single_client_tasks_async" + suffix, [] { SubmitAndGetBatch(kBatch); }, kBatch);
      b.TimeIt("single_client_put_calls" + suffix, [] { lumen::Put(0); });
    });
  }
}

// ---- durable large Puts --------------------------------------------------------

// A large Put with a storage dir the user named: its copy is written behind
// it, and lumen::Flush waits for that copy, so an op is Put + Flush: what a
// durable large Put costs, the disk's write included.
void RunDurablePutBenchmark(Bench& b) {
  if (!b.Wanted("single_client_put_gigabytes_durable")) return;
  b.Guard("cluster (named storage dir)", [&] {
    TempDir dir;
    b.Guard("cluster (named storage dir)", [&] {
      StartCluster(/*lineage=*/true, /*large_store=*/!b.quick(), dir.path());
      LargeValue value(b.quick());
      b.TimeIt("single_client_put_gigabytes_durable", [&] {
        value.Put();
        lumen::Flush();
      }, value.gb);
    });
    lumen::Shutdown();
  });
}

// ---- the log alone ----------------------------------------------------------------

void RunAppendBenchmark(Bench& b) {
  if (!b.Wanted("lineage_appends")) return;
  b.Progress("lineage_appends");
  b.Guard("lineage_appends", [&] {
    TempDir dir;
    std::vector<double> rates;
    const int records = b.quick() ? 20000 : 200000;
    for (int r = 0; r < b.reps(); ++r) {
      double rate = storage::RunLineageAppendBenchmark(dir.path(), records);
      if (rate <= 0) throw std::runtime_error("the lineage log could not be written in " + dir.path());
      rates.push_back(rate);
    }
    b.Report("lineage_appends", StatOf(rates));
  });
}

// ---- rebuild: a chain of tasks, first run and rebuilt by id ----------------------

struct ChainTimes {
  double first_ms = 0;
  double rebuild_ms = 0;
  uint64_t rerun = 0;  // tasks the rebuild re-ran
};

ChainTimes TimeChain(int64_t start) {
  ChainTimes t;
  std::string last_id;
  {
    auto begin = Clock::now();
    auto ref = lumen::Task(AddOne).Remote(start);
    for (int i = 1; i < kChainTasks; ++i) ref = lumen::Task(AddOne).Remote(ref);
    const int64_t value = *lumen::Get(ref, kGetTimeoutMs);
    t.first_ms = 1e3 * SecondsSince(begin);
    if (value != start + kChainTasks) throw std::runtime_error("the chain returned " + std::to_string(value));
    last_id = ref.ID();
  }  // the last ref goes: no object of the chain is held any more
  lumen::Flush();  // the rebuild reads the records from disk, as it would later on
  const uint64_t rebuilt_before = lumen::GetClusterInfo().tasks_rebuilt;
  auto begin = Clock::now();
  const int64_t value = *lumen::Get(ObjectRef<int64_t>::FromID(last_id), kGetTimeoutMs);
  t.rebuild_ms = 1e3 * SecondsSince(begin);
  if (value != start + kChainTasks) throw std::runtime_error("the rebuilt chain returned " + std::to_string(value));
  t.rerun = lumen::GetClusterInfo().tasks_rebuilt - rebuilt_before;
  return t;
}

void RunRebuildBenchmark(Bench& b) {
  if (!b.AnyWanted("lineage_chain_100_first_ms", "lineage_chain_100_rebuild_ms")) return;
  if (b.Wanted("lineage_chain_100_first_ms")) b.Progress("lineage_chain_100_first_ms");
  if (b.Wanted("lineage_chain_100_rebuild_ms")) b.Progress("lineage_chain_100_rebuild_ms");
  OnCluster(b, "lineage_chain_100", /*lineage=*/true, [&] {
    const int chains = b.quick() ? 3 : 10;
    TimeChain(0);  // warm-up: the first rebuild's path is cold
    std::vector<double> first, rebuild;
    uint64_t min_rerun = kChainTasks;
    for (int c = 0; c < chains; ++c) {
      ChainTimes t = TimeChain(1000 * (c + 1));
      first.push_back(t.first_ms);
      rebuild.push_back(t.rebuild_ms);
      min_rerun = std::min(min_rerun, t.rerun);
    }
    const std::string note = std::to_string(chains) + " chains of " + std::to_string(kChainTasks) + " tasks";
    b.ReportLatency("lineage_chain_100_first_ms", first, note + ", submitted then the last one got");
    b.ReportLatency("lineage_chain_100_rebuild_ms", rebuild,
                    note + ", every ref dropped, the last one got by id; fewest tasks re-run: " +
                        std::to_string(min_rerun));
  });
}

// ---- reopen: Init on a large log, until the first rebuilt Get ------------------------

// Appends `tasks` - 1 clones of the task record `model` and of its object
// record, with fresh ids, to `log`, and Flushes. Returns the ids of `targets`
// of their returns, spread evenly, the last one last.
std::vector<std::string> FillLog(storage::LineageLog& log, const storage::TaskRecord& model,
                                 const storage::ObjectRecord& model_object, int tasks, int targets) {
  std::vector<std::string> ids;
  const int every = std::max(1, tasks / targets);
  storage::TaskRecord task = model;
  storage::ObjectRecord object = model_object;
  for (int i = 1; i < tasks; ++i) {  // the model is the first
    task.id = TaskID::Random();
    object.id = ObjectID::ForTaskReturn(task.id, 0);
    object.created_by = task.id;
    task.returns = {object.id};
    log.Append(task);
    const uint64_t seq = log.Append(object);
    if ((tasks - 1 - i) % every == 0 && static_cast<int>(ids.size()) < targets) ids.push_back(object.id.Hex());
    // Bounds the queue: the writer is never more than kAppendsInFlight behind.
    if (seq % kAppendsInFlight == 0 && !log.WaitDurable(seq - kAppendsInFlight / 2, kFlushTimeoutMs))
      throw std::runtime_error("the lineage log could not be written: " + log.LastError().message());
  }
  if (!log.Flush(kFlushTimeoutMs))
    throw std::runtime_error("the lineage log could not be written: " + log.LastError().message());
  return ids;
}

// Runs one real AddOne task on a cluster with `config`'s storage dir, so
// that its log holds a record as the runtime writes it; returns the id of
// its return and the ms from Init until it came back.
std::string RunModelTask(const lumen::Config& config, double* ms) {
  std::string id;
  auto begin = Clock::now();
  lumen::Init(config);
  try {
    auto ref = lumen::Task(AddOne).Remote(int64_t{41});
    if (*lumen::Get(ref, kGetTimeoutMs) != 42) throw std::runtime_error("AddOne(41) is not 42");
    *ms = 1e3 * SecondsSince(begin);
    id = ref.ID();
    lumen::Flush();
  } catch (...) {
    lumen::Shutdown();
    throw;
  }
  lumen::Shutdown();
  return id;
}

// The log in `dir` made to hold `tasks` records like the one of `model_id`
// (the ids of `targets` of them are returned).
std::vector<std::string> GrowLog(const std::string& dir, const std::string& model_id, int tasks, int targets) {
  std::unique_ptr<storage::LineageLog> log;
  Status s = storage::LineageLog::Open(dir, storage::LineageOptions{}, &log);
  if (!s.ok()) throw std::runtime_error("cannot open the lineage log in " + dir + ": " + s.message());
  ObjectID id;
  ObjectID::FromHex(model_id, &id);
  std::optional<storage::TaskRecord> task = log->GetTask(id.Task());
  std::optional<storage::ObjectRecord> object = log->GetObject(id);
  if (!task || !object) throw std::runtime_error("the log in " + dir + " lacks the records of " + model_id);
  return FillLog(*log, *task, *object, tasks, targets);
}  // the log closes here, as a driver's does at exit

void RunReopenBenchmark(Bench& b) {
  const std::string name = "lineage_reopen_1m_tasks_ms", init_name = "lineage_reopen_1m_tasks_init_ms";
  if (!b.AnyWanted(name, init_name)) return;
  if (b.Wanted(name)) b.Progress(name);
  if (b.Wanted(init_name)) b.Progress(init_name);
  b.Guard(name, [&] {
    TempDir dir;
    lumen::Config config;  // the defaults, as a user's driver
    config.storage_dir = dir.path();
    double empty_ms = 0;
    const std::string model_id = RunModelTask(config, &empty_ms);

    const int tasks = b.quick() ? kReopenTasksQuick : kReopenTasks;
    const int reopens = b.quick() ? 1 : 5;
    auto begin = Clock::now();
    const std::vector<std::string> targets = GrowLog(dir.path(), model_id, tasks, reopens);
    std::printf("# lineage_reopen_1m_tasks*: a log of %d task records%s, each with its object record, written in "
                "%.2f s; Init + a first task on the empty storage dir took %.0f ms\n",
                tasks, b.quick() ? " (--quick; 1000000 without)" : "", SecondsSince(begin), empty_ms);
    std::fflush(stdout);

    // Each reopen gets another object, none of them in the (new) store.
    std::vector<double> total_ms, init_ms;
    for (const std::string& target : targets) {
      begin = Clock::now();
      lumen::Init(config);
      init_ms.push_back(1e3 * SecondsSince(begin));
      try {
        if (*lumen::Get(ObjectRef<int64_t>::FromID(target), kGetTimeoutMs) != 42)
          throw std::runtime_error("a rebuilt AddOne(41) is not 42");
        total_ms.push_back(1e3 * SecondsSince(begin));
      } catch (...) {
        lumen::Shutdown();
        throw;
      }
      lumen::Shutdown();
    }
    char first[64];
    std::snprintf(first, sizeof first, "; the first %.2f ms", total_ms.front());
    const std::string note = "reopens of the dir: " + std::to_string(total_ms.size()) + ", one rebuilt Get each";
    b.ReportLatency(name, total_ms, note + first + ", Init until the rebuilt Get returns");
    std::snprintf(first, sizeof first, "; the first %.2f ms", init_ms.front());
    b.ReportLatency(init_name, init_ms, note + first + ", Init alone");
  });
}

}  // namespace

void RunLineageBenchmarks(Bench& b) {
  RunCostBenchmarks(b);
  RunDurablePutBenchmark(b);
  RunAppendBenchmark(b);
  RunRebuildBenchmark(b);
  RunReopenBenchmark(b);
}

void ReportLineageRatios(Bench& b) {
  b.Ratio("tasks_sync_lineage_on_over_off", "single_client_tasks_sync_lineage_on", "single_client_tasks_sync_lineage_off");
  b.Ratio("tasks_async_lineage_on_over_off", "single_client_tasks_async_lineage_on",
          "single_client_tasks_async_lineage_off");
  b.Ratio("put_calls_lineage_on_over_off", "single_client_put_calls_lineage_on", "single_client_put_calls_lineage_off");
  b.Ratio("lineage_chain_100_rebuild_over_first", "lineage_chain_100_rebuild_ms", "lineage_chain_100_first_ms");
}

}  // namespace lumen::cli
