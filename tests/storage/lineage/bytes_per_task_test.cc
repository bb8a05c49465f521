// Lineage: bytes per task. Appends typical task records and their object
// records, flushes and compacts, and reports what the log holds on disk per
// task (the figure in benchmarks/RESULTS.md). Bounded so a regression in the
// record format shows up here.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "lumen/storage/lineage_log.h"
#include "temp_dir.h"

namespace lumen::storage {
namespace {

uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

// One task as the runtime records it: a registered function, two small
// inline arguments and one by reference, default options, one return; and
// the record of the object it returns.
void AppendTypicalTask(LineageLog& log, const ObjectID& input, uint64_t i) {
  TaskRecord task;
  task.id = TaskID::Random();
  task.function = "process_chunk";
  task.args.resize(3);
  task.args[0].value.assign(reinterpret_cast<const char*>(&i), 8);  // an encoded int64
  char chunk[17];
  snprintf(chunk, sizeof chunk, "chunk-%010llu", static_cast<unsigned long long>(i * 7919));
  task.args[1].value.assign(chunk, 16);  // an encoded short string
  task.args[2].by_ref = true;
  task.args[2].ref = input;
  task.returns = {ObjectID::ForTaskReturn(task.id, 0)};
  task.resources = {{"CPU", 1}};
  task.owner = "driver-3f2a9c";
  task.submitted_ms = 1700000000000 + i;
  log.Append(task);
  ObjectRecord object;
  object.id = task.returns[0];
  object.created_by = task.id;
  object.owner = task.owner;
  object.size = 64;
  object.node = "node-1";
  log.Append(object);
}

TEST(LineageBytesPerTask, TypicalTasksAfterFlushAndCompaction) {
  constexpr uint64_t kTasks = 100000;
  testing::TempDir dir;
  LineageOptions options;
  options.retention.interval = std::chrono::milliseconds(0);
  std::unique_ptr<LineageLog> log;
  ASSERT_TRUE(LineageLog::Open(dir.path(), options, &log).ok());
  ObjectID input = ObjectID::ForPut();
  for (uint64_t i = 0; i < kTasks; ++i) AppendTypicalTask(*log, input, i);
  ASSERT_TRUE(log->Flush(60000));

  RetentionPolicy compact_only;  // removes nothing (but counts the bytes); flushes and compacts everything
  compact_only.max_age = std::chrono::milliseconds(0);
  compact_only.max_bytes = UINT64_MAX / 2;
  compact_only.compact = true;
  RetentionReport report;
  ASSERT_TRUE(log->ApplyRetention(compact_only, &report).ok());
  EXPECT_EQ(report.removed_tasks, 0u);
  double table_per_task = static_cast<double>(report.disk_bytes_after) / kTasks;
  log.reset();  // closed: what stays is the directory
  double dir_per_task = static_cast<double>(DirectoryBytes(dir.path())) / kTasks;
  double raw_per_task = static_cast<double>(report.retained_bytes) / kTasks;
  std::printf("lineage bytes per task (task + object record, %llu tasks): %.1f raw (keys + values), "
              "%.1f in table files, %.1f for the whole directory after close\n",
              static_cast<unsigned long long>(kTasks), raw_per_task, table_per_task, dir_per_task);
  RecordProperty("table_bytes_per_task", std::to_string(table_per_task));
  EXPECT_GT(table_per_task, 20);   // ids alone are 36 bytes a task: a smaller figure measured nothing
  EXPECT_LT(table_per_task, 600);  // compression must not make the records larger than raw
  // Fresh plain tasks and objects are packed in compact form: ~210 bytes raw
  // a task, where a flat message a record under its own key took ~530.
  EXPECT_LT(raw_per_task, 300);
}

}  // namespace
}  // namespace lumen::storage
