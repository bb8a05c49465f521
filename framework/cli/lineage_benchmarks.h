// The lineage metrics of `lumen microbenchmark`: what recording every task
// and Put costs (single_client_*_lineage_on against *_lineage_off), a
// durable large Put, the log's own append rate, a chain of tasks rebuilt
// from the log, and Init on a storage dir whose log holds a million tasks.
#pragma once

#include "bench.h"

namespace lumen::cli {

// Runs the lineage metrics the filter selects, each on an embedded cluster
// of its own (or none). REQUIRES: no cluster is running.
void RunLineageBenchmarks(Bench& b);

// The ratios of the lineage metrics that ran (lineage on over off, rebuild
// over first run).
void ReportLineageRatios(Bench& b);

}  // namespace lumen::cli
