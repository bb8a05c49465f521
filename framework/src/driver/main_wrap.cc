#include "runtime/current_core.h"
#include "worker/worker.h"

// Every binary linked with lumen::lumen enters here (-Wl,--wrap=main): a
// worker process runs the worker before the program's main, or a test
// runner's, can do anything.
extern "C" int __real_main(int argc, char** argv);
extern "C" int __wrap_main(int argc, char** argv) {
  if (lumen::internal::IsWorkerProcess()) return lumen::internal::RunWorker();
  return __real_main(argc, argv);
}
