#include "bench.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>

namespace lumen::cli {

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Stat StatOf(const std::vector<double>& xs) {
  Stat s;
  if (xs.empty()) return s;
  for (double x : xs) s.mean += x;
  s.mean /= static_cast<double>(xs.size());
  double var = 0;
  for (double x : xs) var += (x - s.mean) * (x - s.mean);
  s.sd = std::sqrt(var / static_cast<double>(xs.size()));
  return s;
}

Bench::Bench(const MicrobenchmarkOptions& options, const std::vector<std::string>& metrics) : options_(options) {
  if (options.quick) {
    warmup_s_ = 0;  // one call
    seconds_ = 0.2;
    reps_ = 1;
  }
  for (const auto& name : metrics) total_ += Wanted(name);
}

void Bench::Progress(const std::string& name) {
  std::fprintf(stderr, "[%2d/%d %5.1f s] %s ...\n", ++done_, total_, SecondsSince(start_), name.c_str());
  std::fflush(stderr);
}

void Bench::TimeIt(const std::string& name, const std::function<void()>& fn, double multiplier) {
  if (!Wanted(name)) return;
  Progress(name);
  Guard(name, [&] {
    auto start = Clock::now();
    int64_t count = 0;
    do {
      fn();
      ++count;
    } while (SecondsSince(start) < warmup_s_);
    const int64_t step = count / 10 + 1;
    std::vector<double> rates;
    for (int r = 0; r < reps_; ++r) {
      start = Clock::now();
      count = 0;
      double elapsed;
      do {
        for (int64_t i = 0; i < step; ++i) fn();
        count += step;
      } while ((elapsed = SecondsSince(start)) < seconds_);
      rates.push_back(multiplier * static_cast<double>(count) / elapsed);
    }
    Report(name, StatOf(rates));
  });
}

void Bench::Guard(const std::string& name, const std::function<void()>& body) {
  try {
    body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lumen microbenchmark: %s failed: %s\n", name.c_str(), e.what());
    failed_ = true;
  }
}

void Bench::Report(const std::string& name, Stat s) {
  if (!Wanted(name)) return;
  results_[name] = s;
  std::printf("%s per second %.2f +- %.2f\n", name.c_str(), s.mean, s.sd);
  std::fflush(stdout);
}

void Bench::ReportLatency(const std::string& name, std::vector<double> ms, const std::string& note) {
  if (!Wanted(name) || ms.empty()) return;
  Stat s = StatOf(ms);
  results_[name] = s;
  std::sort(ms.begin(), ms.end());
  const size_t n = ms.size();
  const double p50 = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
  std::printf("%s mean %.2f +- %.2f p50 %.2f max %.2f (%s)\n", name.c_str(), s.mean, s.sd, p50, ms.back(),
              note.c_str());
  std::fflush(stdout);
}

void Bench::Ratio(const std::string& name, const std::string& a, const std::string& b) {
  auto ia = results_.find(a), ib = results_.find(b);
  if (ia == results_.end() || ib == results_.end() || ib->second.mean <= 0) return;
  std::printf("%s ratio %.3f\n", name.c_str(), ia->second.mean / ib->second.mean);
  std::fflush(stdout);
}

}  // namespace lumen::cli
