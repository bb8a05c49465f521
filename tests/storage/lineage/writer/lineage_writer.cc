// lineage_writer DIR COUNT [FILE_SIZE_LIMIT]: a process for the durability
// tests. Appends FullTask(i) and FullObject(i) (and FullActor(i) for every
// tenth i) for i = 0, 1, ... in rounds of 100; after each round is durable
// prints "acked N" (N = records of indices 0..N-1 all durable) and flushes
// stdout, so the parent knows exactly what was acknowledged. COUNT 0 runs
// until killed. With FILE_SIZE_LIMIT, the process may not grow any file past
// that many bytes (RLIMIT_FSIZE), so writes fail for real: it prints
// "error <reason>" and exits 2.
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>

#include "../test_records.h"

using namespace lumen;
using namespace lumen::storage;
using namespace lumen::storage::testing;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DIR COUNT [FILE_SIZE_LIMIT]\n", argv[0]);
    return 64;
  }
  uint64_t count = std::strtoull(argv[2], nullptr, 10);
  std::unique_ptr<LineageLog> log;
  if (Status s = LineageLog::Open(argv[1], LineageOptions(), &log); !s.ok()) {
    std::printf("error %s\n", s.ToString().c_str());
    return 1;
  }
  if (argc > 3) {
    signal(SIGXFSZ, SIG_IGN);  // a too-large write fails with EFBIG instead of killing us
    rlim_t limit = std::strtoull(argv[3], nullptr, 10);
    rlimit rl{limit, limit};
    setrlimit(RLIMIT_FSIZE, &rl);
  }
  constexpr uint64_t kRound = 100;
  for (uint64_t begin = 0; count == 0 || begin < count; begin += kRound) {
    uint64_t last = 0;
    for (uint64_t i = begin; i < begin + kRound; ++i) {
      log->Append(FullTask(i));
      last = log->Append(FullObject(i));
      if (i % 10 == 0) last = log->Append(FullActor(i));
    }
    if (!log->WaitDurable(last, 30000)) {
      std::printf("error %s\n", log->LastError().ToString().c_str());
      std::fflush(stdout);
      std::_Exit(2);  // skip the destructor: it would only retry the failing disk
    }
    std::printf("acked %llu\n", static_cast<unsigned long long>(begin + kRound));
    std::fflush(stdout);
  }
  return 0;
}
