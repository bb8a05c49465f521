#include "lineage_benchmarks.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_cluster.h"
#include "lumen/api.h"
#include "lumen/storage/lineage_benchmark.h"

namespace lumen::cli {

void RunLineageOffBenchmarks(Bench& b) {
  b.TimeIt("single_client_tasks_sync_lineage_off", [] { lumen::Get(lumen::Task(SmallValue).Remote()); });
  b.TimeIt("single_client_tasks_async_lineage_off", [] { SubmitAndGetBatch(kBatch); }, kBatch);
  b.TimeIt("single_client_put_calls_lineage_off", [] { lumen::Put(0); });
}

// A large Put with a storage dir the user named: its copy is written behind
// it, and lumen::Flush waits for that copy, so an op is Put + Flush: what a
// durable large Put costs, the disk's write included.
void RunDurablePutBenchmark(Bench& b) {
  if (!b.Wanted("single_client_put_gigabytes_durable")) return;
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("lumen-microbenchmark-" + std::to_string(::getpid()) + "-storage")).string();
  b.Guard("cluster (named storage dir)", [&] {
    StartCluster(/*lineage=*/true, /*large_store=*/!b.quick(), dir);
    LargeValue value(b.quick());
    b.TimeIt("single_client_put_gigabytes_durable", [&] {
      value.Put();
      lumen::Flush();
    }, value.gb);
  });
  lumen::Shutdown();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

void RunLineageAppendBenchmark(Bench& b) {
  if (b.Wanted("lineage_appends")) {
    b.Progress("lineage_appends");
    b.Guard("lineage_appends", [&] {
      char tmpl[] = "/tmp/lumen-microbenchmark-XXXXXX";
      if (!::mkdtemp(tmpl)) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
      std::string dir = tmpl;
      std::vector<double> rates;
      try {
        const int records = b.quick() ? 20000 : 200000;
        for (int r = 0; r < b.reps(); ++r) {
          double rate = storage::RunLineageAppendBenchmark(dir, records);
          if (rate <= 0) throw std::runtime_error("the lineage log could not be written in " + dir);
          rates.push_back(rate);
        }
      } catch (...) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        throw;
      }
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
      b.Report("lineage_appends", StatOf(rates));
    });
  }
}

}  // namespace lumen::cli
