// How `lumen microbenchmark` times and prints a metric: Ray's timeit (a
// warm-up, then `reps` timed runs of `seconds` each), one line per metric in
// Ray's format, latencies as mean +- stdev with median and worst, and ratios
// of two metrics measured in the same run.
//
// One Bench per run, used from the driver's main thread only. A metric the
// --filter does not select is neither timed nor printed; an exception in a
// metric's body fails that metric (see Guard), not the run.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "microbenchmark.h"

namespace lumen::cli {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start);

struct Stat {
  double mean = 0;
  double sd = 0;
};

// Mean and population standard deviation; zeros for no samples.
Stat StatOf(const std::vector<double>& xs);

class Bench {
 public:
  // `metrics`: every metric name of the run (what --filter chooses among).
  Bench(const MicrobenchmarkOptions& options, const std::vector<std::string>& metrics);

  bool Wanted(std::string_view name) const {
    return options_.filter.empty() || name.find(options_.filter) != std::string_view::npos;
  }
  template <class... Names>
  bool AnyWanted(const Names&... names) const {
    return (Wanted(names) || ...);
  }
  bool quick() const { return options_.quick; }
  int reps() const { return reps_; }
  // How many of the metrics the filter selects.
  int total() const { return total_; }
  // Whether some metric failed.
  bool failed() const { return failed_; }

  // "[ 3/26   4.2 s] NAME ..." on stderr, as a metric starts.
  void Progress(const std::string& name);

  // Ray's timeit: warm up, then `reps` runs of `seconds` each, in steps of a
  // tenth of the warm-up count; `multiplier` is the work of one call.
  void TimeIt(const std::string& name, const std::function<void()>& fn, double multiplier = 1);

  // Runs `body`, turning an exception into a failed metric (and a non-zero exit).
  void Guard(const std::string& name, const std::function<void()>& body);

  // "NAME per second MEAN +- SD", kept for Ratio.
  void Report(const std::string& name, Stat s);

  // A latency in milliseconds, kept for Ratio (by its mean):
  //   "NAME mean MS +- SD p50 MS max MS (NOTE)"
  // with the median and worst of the samples; `note` says what they are.
  void ReportLatency(const std::string& name, std::vector<double> ms, const std::string& note);

  // "a / b" when both ran.
  void Ratio(const std::string& name, const std::string& a, const std::string& b);

 private:
  MicrobenchmarkOptions options_;
  Clock::time_point start_ = Clock::now();
  double warmup_s_ = 0.25;
  double seconds_ = 1.0;
  int reps_ = 4;
  int total_ = 0;
  int done_ = 0;
  bool failed_ = false;
  std::map<std::string, Stat> results_;
};

}  // namespace lumen::cli
