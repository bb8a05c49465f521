#include "report.h"

#include <algorithm>
#include <string>

namespace chaos {
namespace {

// "max 812 / med 143", "-" without faults, "none" when a fault had no result after it.
std::string Recovery(const std::vector<int64_t>& ms) {
  if (ms.empty()) return "-";
  if (std::count(ms.begin(), ms.end(), -1) > 0) return "none after a fault";
  std::vector<int64_t> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  return "max " + std::to_string(sorted.back()) + " / med " + std::to_string(sorted[sorted.size() / 2]);
}

}  // namespace

void PrintTableHeader(std::FILE* out) {
  std::fprintf(out, "%-14s %6s %5s %5s %5s %5s %5s %5s %4s %6s %8s %7s %7s %-22s %7s %6s %-32s %s\n", "workload",
               "seed", "kills", "drvk", "nodek", "headk", "stops", "fills", "skip", "deaths", "restarts", "rebuilt",
               "results", "recover ms", "back ms", "wall s", "work", "verdict");
}

void PrintTableRow(std::FILE* out, const ScenarioResult& r) {
  // "back ms": from the driver kill until the new driver had every flushed object back.
  std::string back = r.driver_kills + r.head_kills + r.head_stops == 0 ? "-"
                     : r.driver_back_ms < 0                ? "none"
                                                           : std::to_string(r.driver_back_ms);
  // A joined driver is told no counters: a cluster run counts the workers it
  // saw go with their daemon, and "rebuilt" is not known ("-").
  std::string rebuilt = r.on_cluster ? "-" : std::to_string(r.tasks_rebuilt);
  std::fprintf(out, "%-14s %6llu %5d %5d %5d %5d %5d %5d %4d %6llu %8llu %7s %7llu %-22s %7s %6.1f %-32s %s\n",
               r.scenario.c_str(), static_cast<unsigned long long>(r.seed), r.kills, r.driver_kills, r.node_kills,
               r.head_kills, r.stops, r.fills, r.skipped, static_cast<unsigned long long>(r.worker_deaths),
               static_cast<unsigned long long>(r.actor_restarts), rebuilt.c_str(),
               static_cast<unsigned long long>(r.results_checked), Recovery(r.recovery_ms).c_str(), back.c_str(),
               static_cast<double>(r.wall_ms) / 1000, r.extra.c_str(), r.Verdict().c_str());
  std::fflush(out);
}

void PrintTable(std::FILE* out, const std::vector<ScenarioResult>& results) {
  PrintTableHeader(out);
  for (const ScenarioResult& r : results) PrintTableRow(out, r);
}

void PrintDetails(std::FILE* out, const ScenarioResult& r) {
  std::fprintf(out, "scenario %s seed %llu: faults as injected\n", r.scenario.c_str(),
               static_cast<unsigned long long>(r.seed));
  size_t recovered = 0;
  for (const InjectedFault& f : r.faults) {
    std::string recovery;
    if (!f.skipped && recovered < r.recovery_ms.size()) {
      int64_t ms = r.recovery_ms[recovered++];
      recovery = ms < 0 ? "; no result after it" : "; next result " + std::to_string(ms) + " ms later";
    }
    std::fprintf(out, "  %+6lld ms  %-12s %s%s\n", static_cast<long long>(f.at_ms),
                 FaultKindName(f.planned.kind).c_str(), f.note.c_str(), recovery.c_str());
  }
  if (r.faults.empty()) std::fprintf(out, "  (none)\n");
  for (const std::string& note : r.notes) std::fprintf(out, "  note: %s\n", note.c_str());
  for (const std::string& known : r.known_bugs) std::fprintf(out, "  KNOWN %s\n", known.c_str());
  for (const std::string& failure : r.failures) std::fprintf(out, "  FAILED: %s\n", failure.c_str());
  if (r.Verdict() != "PASS")
    std::fprintf(out, "  replay: lumen-chaos --seed %llu --scenario %s\n", static_cast<unsigned long long>(r.seed),
                 r.scenario.c_str());
  std::fflush(out);
}

}  // namespace chaos
