// A benchmark of the lineage log's append path, for `lumen` to report how
// many task records per second this machine can make durable.
#pragma once

#include <string>

namespace lumen::storage {

// Appends `records` realistic TaskRecords (2 arguments: one inline 8-byte
// value and one by-ref; 1 return; a resource; owner and name set) from one
// thread, then Flushes, and returns records per second over that whole span
// (appended and durable, default options: sync_writes off). The log lives in
// a fresh subdirectory of `dir` (which must exist or be creatable) that is
// removed afterwards. Returns 0 if the log cannot be opened or written.
double RunLineageAppendBenchmark(const std::string& dir, int records);

}  // namespace lumen::storage
