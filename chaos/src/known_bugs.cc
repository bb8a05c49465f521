#include "known_bugs.h"

#include <initializer_list>

namespace chaos {
namespace {

struct Signature {
  KnownBug bug;
  std::initializer_list<const char*> all_of;  // every piece must be in the failure
};

const Signature kKnownBugs[] = {
    {{"restore-fragmentation",
      "restoring a large spilled object fails while pinned objects split the free space for longer than "
      "the read waits for room (3 s), and the Get throws ObjectStoreFullError "
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
