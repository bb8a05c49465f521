#include "lumen/storage/lineage_benchmark.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "lumen/storage/lineage_log.h"

namespace lumen::storage {

namespace {

// What a driver submits for `add(x, ref)`: one inline argument, one by-ref.
TaskRecord RealisticTask(const ObjectID& input) {
  TaskRecord task;
  task.id = TaskID::Random();
  task.function = "add";
  task.args.resize(2);
  task.args[0].value = std::string(8, '\x2a');
  task.args[1].by_ref = true;
  task.args[1].ref = input;
  task.returns.push_back(ObjectID::ForTaskReturn(task.id, 0));
  task.resources["CPU"] = 1;
  task.owner = "driver-0123456789abcdef";
  task.submitted_ms = 1700000000000;
  return task;
}

}  // namespace

double RunLineageAppendBenchmark(const std::string& dir, int records) {
  namespace fs = std::filesystem;
  if (records <= 0) return 0;
  std::error_code ec;
  fs::path path = fs::path(dir) / ("lineage-bench-" + std::to_string(getpid()));
  fs::remove_all(path, ec);
  fs::create_directories(path, ec);
  if (ec) return 0;

  // Built beforehand: the caller already holds its spec, so only the log's
  // own cost is timed.
  std::vector<TaskRecord> tasks;
  tasks.reserve(records);
  ObjectID input = ObjectID::ForPut();
  for (int i = 0; i < records; ++i) {
    tasks.push_back(RealisticTask(input));
    input = tasks.back().returns[0];
  }

  double rate = 0;
  {
    std::unique_ptr<LineageLog> log;
    if (!LineageLog::Open(path.string(), LineageOptions(), &log).ok()) return 0;
    auto start = std::chrono::steady_clock::now();
    for (const TaskRecord& task : tasks) log->Append(task);
    bool durable = log->Flush(/*timeout_ms=*/-1);
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    if (durable) rate = records / elapsed.count();
  }
  fs::remove_all(path, ec);
  return rate;
}

}  // namespace lumen::storage
