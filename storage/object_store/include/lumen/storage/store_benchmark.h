// A quick measurement of the object store on this machine, for the
// `lumen microbenchmark` CLI. Starts a private store server (a fresh segment,
// gone afterwards) and talks to it through a socket client in
// the same process, so the figures include the Unix-socket round trips.
#pragma once

namespace lumen::storage {

struct StoreBenchResult {
  double small_ops_per_s = 0;  // create+seal+get+release cycles of 64-byte objects per second
  double put_gb_per_s = 0;     // create, memcpy in, seal of a 100 MiB object
  double memcpy_gb_per_s = 0;  // plain memcpy of 100 MiB between prefaulted buffers, same run
};

// Runs for roughly `seconds_budget_hint` seconds (at least ~1). All zeros if
// the store could not be started.
StoreBenchResult RunStoreBenchmark(int seconds_budget_hint);

}  // namespace lumen::storage
