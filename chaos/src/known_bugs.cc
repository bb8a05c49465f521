#include "known_bugs.h"

#include <initializer_list>
#include <vector>

namespace chaos {
namespace {

struct Signature {
  KnownBug bug;
  std::initializer_list<const char*> all_of;  // every piece must be in the failure
};

// None open. The last, restore-fragmentation (a spilled object found no
// piece of the store large enough while pinned objects split the free
// space), was fixed by reading such an object from its file in place.
const std::vector<Signature> kKnownBugs;

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
