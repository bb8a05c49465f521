// `lumen microbenchmark`: the runtime's figures on this machine, in the
// format of Ray's `ray microbenchmark` (python/ray/_private/ray_perf.py), next
// to the limits the machine sets (a bare cross-process round trip, memcpy).
#pragma once

#include <string>
#include <vector>

namespace lumen::cli {

struct MicrobenchmarkOptions {
  bool quick = false;   // ~0.2 s per metric, one repetition (for tests)
  std::string filter;   // run only metrics whose name contains this
  bool list = false;    // print the metric names and exit
};

// Every metric `lumen microbenchmark` can print, in run order.
const std::vector<std::string>& MicrobenchmarkMetricNames();

// Runs the benchmarks (an embedded cluster in this process); results on
// stdout, progress on stderr. Returns the process exit code.
int RunMicrobenchmark(const MicrobenchmarkOptions& options);

}  // namespace lumen::cli
