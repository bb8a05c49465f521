// A driver for the session tests: starts an embedded cluster, runs a task,
// prints its session dir and worker pids on one line, then waits to be
// signalled (or for stdin to close).
#include <cstdio>
#include <iostream>
#include <string>

#include "lumen/api.h"

int Twice(int x) { return 2 * x; }
LUMEN_REMOTE(Twice);

int main() {
  lumen::Config config;
  config.num_cpus = 2;
  lumen::Init(config);
  if (*lumen::Get(lumen::Task(Twice).Remote(21)) != 42) return 3;
  lumen::ClusterInfo info = lumen::GetClusterInfo();
  std::cout << info.session_dir;
  for (pid_t pid : info.worker_pids) std::cout << " " << pid;
  std::cout << std::endl;
  std::string line;
  std::getline(std::cin, line);  // until a signal ends this process, or stdin closes
  lumen::Shutdown();
  return 0;
}
