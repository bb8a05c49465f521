// The lineage metrics of `lumen microbenchmark`: what recording every task
// and Put costs (the *_lineage_off metrics against their lineage-on twins),
// a durable large Put, and the log's own append rate.
#pragma once

#include "bench.h"

namespace lumen::cli {

// The *_lineage_off metrics. REQUIRES: a cluster with lineage off is running.
void RunLineageOffBenchmarks(Bench& b);

// single_client_put_gigabytes_durable, on a cluster of its own (a named
// storage dir, removed afterwards). REQUIRES: no cluster is running.
void RunDurablePutBenchmark(Bench& b);

// lineage_appends: the log alone, no cluster.
void RunLineageAppendBenchmark(Bench& b);

}  // namespace lumen::cli
