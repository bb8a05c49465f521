// The actor metrics of `lumen microbenchmark` (Ray's 1:1, 1:n and n:n actor
// calls) and the actor restart latency.
#pragma once

#include "bench.h"

namespace lumen::cli {

// The "# ..." lines that say what the actor metrics measure.
void PrintActorLegend();

// REQUIRES: a cluster (lineage on) is running; it is left with no actor.
void RunActorBenchmarks(Bench& b);

}  // namespace lumen::cli
