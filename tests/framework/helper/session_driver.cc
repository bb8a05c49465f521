// A driver for the session tests: starts an embedded cluster, runs a task,
// prints its session dir and worker pids on one line, then waits to be
// signalled (or for stdin to close). Given a storage dir, it also Puts a
// large value (2 MiB of 1.5s) and sums it in a task, calls lumen::Flush, and
// prints both ids on a second line: what a SIGKILL after that must not lose.
#include <cstdio>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include "lumen/api.h"

int Twice(int x) { return 2 * x; }
double SumOfDoubles(std::vector<double> v) { return std::accumulate(v.begin(), v.end(), 0.0); }
LUMEN_REMOTE(Twice, SumOfDoubles);

int main(int argc, char** argv) {
  lumen::Config config;
  config.num_cpus = 2;
  if (argc > 1) config.storage_dir = argv[1];
  lumen::Init(config);
  if (*lumen::Get(lumen::Task(Twice).Remote(21)) != 42) return 3;
  lumen::ClusterInfo info = lumen::GetClusterInfo();
  std::cout << info.session_dir;
  for (pid_t pid : info.worker_pids) std::cout << " " << pid;
  std::cout << std::endl;
  if (argc > 1) {
    auto big = lumen::Put(std::vector<double>(size_t{1} << 18, 1.5));
    auto sum = lumen::Task(SumOfDoubles).Remote(big);
    if (*lumen::Get(sum) != 1.5 * (1 << 18)) return 4;
    lumen::Flush();
    std::cout << big.ID() << " " << sum.ID() << std::endl;
  }
  std::string line;
  std::getline(std::cin, line);  // until a signal ends this process, or stdin closes
  lumen::Shutdown();
  return 0;
}
