#include "schedule.h"

#include <algorithm>
#include <cstdio>
#include <random>

namespace chaos {

std::string FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kKillWorker: return "kill-worker";
    case FaultKind::kKillActor: return "kill-actor";
    case FaultKind::kStopWorker: return "stop-worker";
    case FaultKind::kFillStore: return "fill-store";
    case FaultKind::kKillDriver: return "kill-driver";
    case FaultKind::kKillNode: return "kill-node";
    case FaultKind::kKillHead: return "kill-head";
    case FaultKind::kKillCluster: return "kill-cluster";
    case FaultKind::kStopNode: return "stop-node";
    case FaultKind::kStopHead: return "stop-head";
  }
  return "?";
}

std::vector<Fault> MakeSchedule(uint64_t seed, const ScheduleOptions& options) {
  std::vector<Fault> schedule;
  if (options.kinds.empty()) return schedule;
  // Only std::mt19937_64 itself is specified bit for bit by the standard; the
  // distributions are not, so draws are made from its raw output to keep a
  // seed's schedule the same across standard libraries.
  std::mt19937_64 rng(seed);
  auto below = [&rng](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  auto unit = [&rng] { return static_cast<double>(rng() >> 11) / static_cast<double>(1ULL << 53); };

  int span = std::max(0, options.max_faults - options.min_faults);
  int count = options.min_faults + static_cast<int>(below(span + 1));
  for (int i = 0; i < count; ++i) {
    Fault fault;
    fault.at_ms = options.first_ms + static_cast<int64_t>(below(static_cast<uint64_t>(options.window_ms)));
    fault.kind = options.kinds[below(options.kinds.size())];
    fault.target = unit();
    fault.hold_ms = 200 + static_cast<int64_t>(below(800));
    schedule.push_back(fault);
  }
  std::stable_sort(schedule.begin(), schedule.end(),
                   [](const Fault& a, const Fault& b) { return a.at_ms < b.at_ms; });
  return schedule;
}

std::string DescribeSchedule(const std::vector<Fault>& schedule) {
  std::string out;
  char line[128];
  for (const Fault& f : schedule) {
    if (f.kind == FaultKind::kFillStore || f.kind == FaultKind::kStopHead)
      std::snprintf(line, sizeof line, "  %+6lld ms  %-12s target %.2f  hold %lld ms\n",
                    static_cast<long long>(f.at_ms), FaultKindName(f.kind).c_str(), f.target,
                    static_cast<long long>(f.hold_ms));
    else
      std::snprintf(line, sizeof line, "  %+6lld ms  %-12s target %.2f\n", static_cast<long long>(f.at_ms),
                    FaultKindName(f.kind).c_str(), f.target);
    out += line;
  }
  if (schedule.empty()) out = "  (no faults)\n";
  return out;
}

}  // namespace chaos
