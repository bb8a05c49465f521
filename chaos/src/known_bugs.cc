#include "known_bugs.h"

#include <initializer_list>

namespace chaos {
namespace {

struct Signature {
  KnownBug bug;
  std::initializer_list<const char*> all_of;  // every piece must be in the failure
};

const Signature kKnownBugs[] = {
    {{"retry-store-collision",
      "a task retried after its worker died stores its result under the id the dead attempt had already "
      "sealed: the store answers 'already exists' and the runtime reports ObjectStoreFullError "
      "(a stopped worker killed by the liveness check does it too; replay: --scenario shuffle --seed 220889, "
      "744981, 326316, 702231; about 1 run in 3)"},
     {"already exists", "ObjectStoreFullError"}},
    {{"restore-fragmentation",
      "restoring a large spilled object fails while a small pinned object splits the free space, and "
      "Get throws ObjectLostError at once instead of waiting for room "
      "(replay: --scenario shuffle --seed 326316, 632665; --scenario putset --seed 892875)"},
     {"cannot restore spilled object", "fragmented by pinned objects"}},
};

}  // namespace

const KnownBug* MatchKnownBug(const std::string& failure) {
  for (const Signature& s : kKnownBugs) {
    bool all = true;
    for (const char* piece : s.all_of) all = all && failure.find(piece) != std::string::npos;
    if (all) return &s.bug;
  }
  return nullptr;
}

}  // namespace chaos
