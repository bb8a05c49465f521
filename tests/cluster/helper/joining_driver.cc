// A second driver for the cluster tests: joins the cluster at LUMEN_ADDRESS,
// runs a task, creates a detached named actor ("keeper" in namespace
// "shared", at 100 + 5; holding one of resource $KEEPER_RESOURCE when set)
// and one of its own, then prints one line
//   READY <namespace> <its own actor's pid> <a worker's pid>
// and waits for stdin to close (or to be killed).
#include <cstdlib>
#include <iostream>
#include <string>

#include "counter.h"

int main() {
  lumen::Init();  // LUMEN_ADDRESS names the cluster
  if (*lumen::Get(lumen::Task(Square).Remote(12)) != 144) return 3;
  auto creator = lumen::Actor(Counter::Create).SetName("keeper", "shared").SetLifetime(lumen::ActorLifetime::DETACHED);
  if (const char* resource = std::getenv("KEEPER_RESOURCE")) creator.SetResource(resource, 1);  // where it must live
  auto keeper = creator.Remote(100);
  if (*lumen::Get(keeper.Task(&Counter::Add).Remote(5)) != 105) return 4;
  auto mine = lumen::Actor(Counter::Create).Remote(0);
  int actor_pid = *lumen::Get(mine.Task(&Counter::Pid).Remote());
  int worker_pid = *lumen::Get(lumen::Task(WorkerPid).Remote());
  std::cout << "READY " << lumen::GetNamespace() << " " << actor_pid << " " << worker_pid << std::endl;
  std::string line;
  std::getline(std::cin, line);
  lumen::Shutdown();
  return 0;
}
