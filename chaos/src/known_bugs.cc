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
      "restoring a large spilled object fails while a small pinned object splits the free space, and "
      "Get throws ObjectLostError at once instead of waiting for room "
      "(replay: --scenario shuffle --seed 326316, 632665; --scenario putset --seed 892875)"},
     {"cannot restore spilled object", "fragmented by pinned objects"}},
    // Until the write-behind copies of large Puts land: then delete this
    // entry, and a large Put lost after a driver kill fails the run.
    {{"put-durable-copy",
      "a large Put (over the inline limit) has no durable copy under storage_dir yet, so after a driver kill "
      "it is lost even though Flush returned (replay: any putset seed whose schedule has kill-driver)"},
     {"large Puts (over the inline limit) lost", "made by Put"}},
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
