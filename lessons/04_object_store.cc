// Lesson 04 — The object store: where values live, and why refs beat copies
//
// THE IDEA
//   Every value a task returns, and every value you lumen::Put, becomes an
//   *object*: immutable, named by an id, reachable through ObjectRefs. Where
//   its bytes live depends on its size:
//
//     small (encoded ≤ 100 KiB)   inline: kept by its owner (here the node
//                                 manager inside the driver) and copied into
//                                 the message of each task that needs it.
//                                 Copying a few KiB is cheaper than any shared
//                                 memory bookkeeping.
//     large (> 100 KiB)           in the node's *object store*: one shared-
//                                 memory segment (an unnamed memfd, shown as
//                                 /memfd:lumen-... in /proc/PID/maps) that the
//                                 driver and every worker map. The object is
//                                 written there once; any process on the node
//                                 reads it from the same pages.
//
//   So a big input shared by many tasks should be Put once and passed by ref:
//   passing it by value encodes and ships a fresh copy with every task.
//
// OWNERSHIP AND FREEING
//   An object lives while someone can still reach it: an ObjectRef in any
//   process, a pending task that takes it, or a ref nested inside another live
//   object. The node manager sums these counts; when an object's count drops
//   to zero, it is freed and its shared memory is reused. You never free
//   objects by hand: drop the refs.
//
// ZERO COPY
//   lumen::Get returns an owned copy (a std::shared_ptr<T>), decoded from the
//   shared bytes. lumen::GetView reads a large object in place: a std::span
//   into the segment, no copy at all, in the driver and in every worker.
//
// Run it:  build/lessons/04_object_store      (about 5 seconds)

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <span>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lesson_util.h"
#include "lumen/api.h"

namespace {

using namespace lesson;  // MsSince, Section, Check: lesson_util.h

constexpr int kWorkers = 2;  // worker processes of the lesson's cluster

// What a reader task saw: which process read the vector, and its checksum.
struct Reading {
  int pid = 0;
  uint64_t checksum = 0;
  uint64_t count = 0;
  LUMEN_FIELDS(pid, checksum, count);
};

// A 64-bit hash over the raw bits of every element (FNV-style, word by word).
uint64_t Checksum(const std::vector<double>& v) {
  uint64_t h = 1469598103934665603ull;
  for (double d : v) {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    h = (h ^ bits) * 1099511628211ull;
  }
  return h;
}

// The reader task: the parameter is a std::vector<double>; the caller may
// pass the vector itself (by value) or an ObjectRef<std::vector<double>>.
Reading Read(std::vector<double> v) { return {static_cast<int>(getpid()), Checksum(v), v.size()}; }

size_t Length(std::string s) { return s.size(); }

// The line of /proc/self/maps that maps the node's object store segment, as
// "<name> (<MiB> MiB)"; "" if this process has none mapped.
std::string StoreMapping() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    size_t at = line.find("/memfd:lumen-");
    if (at == std::string::npos) continue;
    unsigned long from = 0, to = 0;
    std::sscanf(line.c_str(), "%lx-%lx", &from, &to);
    return line.substr(at) + " (" + std::to_string((to - from) >> 20) + " MiB)";
  }
  return "";
}

struct Mapping {
  int pid = 0;
  std::string segment;
  LUMEN_FIELDS(pid, segment);
};

Mapping WorkerMapping() {
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return {static_cast<int>(getpid()), StoreMapping()};
}

// Where this process has the store's segment mapped: [from, to).
std::pair<uintptr_t, uintptr_t> SegmentRange() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("/memfd:lumen-") == std::string::npos) continue;
    unsigned long from = 0, to = 0;
    std::sscanf(line.c_str(), "%lx-%lx", &from, &to);
    return {from, to};
  }
  return {0, 0};
}

// A zero-copy reader: where the object's numbers lie in this process.
struct ViewReading {
  int pid = 0;
  uint64_t address = 0;  // of the first number, in this process
  uint64_t offset = 0;   // of the first number, from the start of the segment
  uint64_t checksum = 0;
  LUMEN_FIELDS(pid, address, offset, checksum);
};

ViewReading ReadView(std::vector<lumen::ObjectRef<std::vector<double>>> refs) {
  lumen::ObjectView<std::vector<double>> view = lumen::GetView(refs[0]);
  std::span<const double> numbers = view.span();
  uint64_t h = 1469598103934665603ull;  // the same hash as Checksum, over the span
  for (double d : numbers) {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    h = (h ^ bits) * 1099511628211ull;
  }
  auto address = reinterpret_cast<uintptr_t>(numbers.data());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the other reader run elsewhere
  return {static_cast<int>(getpid()), address, address - SegmentRange().first, h};
}

LUMEN_REMOTE(Read, Length, WorkerMapping, ReadView);

// ---- Printing helpers -----------------------------------------------------------

std::string Size(size_t bytes) {
  char buf[32];
  if (bytes >= (size_t{1} << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / 1048576.0);
  else
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  return buf;
}

// The runtime's threshold for inline objects (lumen::internal::kMaxInlineBytes).
constexpr size_t kInlineLimit = 100 * 1024;

}  // namespace

int main() {
  StartCluster(kWorkers);

  std::printf("Lesson 04: the object store (driver pid %d, %d workers)\n", static_cast<int>(getpid()), kWorkers);

  // ---- 1. Put and refs -------------------------------------------------------------
  Section("1. lumen::Put makes an object; an ObjectRef names it");
  {
    lumen::ObjectRef<std::string> greeting = lumen::Put(std::string("hello, object store"));
    std::printf("  Put(\"hello, object store\") -> ObjectRef %s\n", greeting.ID().c_str());
    std::printf("  Get(ref) = \"%s\" (an owned copy: the object itself is immutable)\n",
                lumen::Get(greeting)->c_str());
    // A ref is an argument like any other: the task receives the value.
    size_t n = *lumen::Get(lumen::Task(Length).Remote(greeting));
    std::printf("  Length(ref) ran in a worker and returned %zu\n", n);
    Check(n == 19, "Length == 19");
  }

  // ---- 2. Small vs large -------------------------------------------------------------
  Section("2. Small objects travel inline; large ones live in shared memory");
  {
    std::vector<double> small(128, 1.0), large(1 << 20, 1.0);  // 1 KiB and 8 MiB of doubles
    for (const auto* v : {&small, &large}) {
      size_t encoded = lumen::codec::Encode(*v).size();  // the bytes an object of it takes
      auto t0 = Clock::now();
      lumen::ObjectRef<std::vector<double>> ref = lumen::Put(*v);
      double put_ms = MsSince(t0);
      std::printf("  Put(vector of %7zu doubles): encoded %9s -> %s  (Put: %.2f ms)\n", v->size(),
                  Size(encoded).c_str(),
                  encoded <= kInlineLimit ? "inline, kept by its owner (<= 100 KiB)"
                                          : "shared memory, the node's object store (> 100 KiB)",
                  put_ms);
    }
    // Every process of the node maps the same segment: look at /proc/<pid>/maps.
    std::string mine = StoreMapping();
    std::printf("  driver    pid %-7d maps %s\n", static_cast<int>(getpid()), mine.c_str());
    // Two at once (each sleeps 50 ms), so that both workers answer.
    std::vector<lumen::ObjectRef<Mapping>> asks = {lumen::Task(WorkerMapping).Remote(),
                                                   lumen::Task(WorkerMapping).Remote()};
    std::set<int> seen;
    for (const auto& m : lumen::Get(asks)) {
      if (!seen.insert(m->pid).second) continue;
      std::printf("  worker    pid %-7d maps %s\n", m->pid, m->segment.c_str());
      Check(!mine.empty() && m->segment == mine, "worker maps the driver's segment");
    }
    std::printf("  one segment, mapped by every process of the node: same name, same size\n");
  }

  // ---- 3. A big input for many tasks: by value vs by ref ---------------------------------
  // 16 MiB keeps the lesson quick on a small VM; try 64 (exercise 1).
  constexpr size_t kMiB = 16;
  constexpr int kReaders = 4;
  Section("3. One 16 MiB input read by 4 tasks: by value vs by ref");
  std::vector<double> big((kMiB << 20) / sizeof(double));
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<double>(i) * 0.5;
  const uint64_t expected = Checksum(big);
  std::vector<Reading> by_ref_readings;
  {
    // By value: each Remote encodes the whole vector. An argument this large
    // (over 100 KiB) does not travel in the task's message: the runtime
    // writes it into the shared segment as an object of its own, as Ray does,
    // and the task carries its id. Still, 4 tasks mean 4 encodings and 4
    // copies into the segment, where passing one ref means one.
    auto t0 = Clock::now();
    std::vector<lumen::ObjectRef<Reading>> refs;
    for (int i = 0; i < kReaders; ++i) refs.push_back(lumen::Task(Read).Remote(big));
    double submit_ms = MsSince(t0);
    auto readings = lumen::Get(refs);
    double by_value_ms = MsSince(t0);

    // By ref: Put writes the vector once, into the shared segment. Each task
    // carries (and its lineage records) only the 20-byte id; each worker
    // reads the same shared bytes.
    t0 = Clock::now();
    lumen::ObjectRef<std::vector<double>> big_ref = lumen::Put(big);
    double put_ms = MsSince(t0);
    std::vector<lumen::ObjectRef<Reading>> ref_refs;
    for (int i = 0; i < kReaders; ++i) ref_refs.push_back(lumen::Task(Read).Remote(big_ref));
    double ref_submit_ms = MsSince(t0) - put_ms;
    for (const auto& r : lumen::Get(ref_refs)) by_ref_readings.push_back(*r);
    double by_ref_ms = MsSince(t0);

    std::printf("  by value: %7.0f ms  (the %d Remote() calls alone: %.0f ms — each encodes %zu MiB and writes it to the store)\n",
                by_value_ms, kReaders, submit_ms, kMiB);
    std::printf("  by ref:   %7.0f ms  (Put once: %.0f ms; the %d Remote() calls: %.2f ms — each carries a 20-byte id)\n",
                by_ref_ms, put_ms, kReaders, ref_submit_ms);
    std::printf("  by ref is %.1fx faster: %d x %zu MiB encoded and copied vs %zu MiB written once\n",
                by_value_ms / by_ref_ms, kReaders, kMiB, kMiB);
    for (const auto& r : readings) Check(r->checksum == expected, "by-value reader saw the right bytes");
  }

  // ---- 4. The readers saw the same bytes ---------------------------------------------------
  Section("4. Every reader read the same object");
  {
    std::printf("  driver    pid %-7d checksum %016llx over %zu doubles\n", static_cast<int>(getpid()),
                static_cast<unsigned long long>(expected), big.size());
    bool all_same = true;
    for (const Reading& r : by_ref_readings) {
      std::printf("  worker    pid %-7d checksum %016llx over %llu doubles\n", r.pid,
                  static_cast<unsigned long long>(r.checksum), static_cast<unsigned long long>(r.count));
      all_same = all_same && r.checksum == expected && r.count == big.size();
    }
    std::printf("  all readers saw the same bytes: %s (read from the one copy in shared memory;\n"
                "  Get/argument passing still decodes a private std::vector from it — GetView won't: section 6)\n",
                all_same ? "yes" : "NO");
    Check(all_same, "all by-ref readers saw the driver's checksum");
  }

  // ---- 5. Freeing: drop the refs, the memory comes back --------------------------------------
  Section("5. Dropping refs frees objects: 20 x 32 MiB through the store");
  {
    std::string segment = StoreMapping();
    std::printf("  the store: %s\n", segment.c_str());
    std::vector<double> chunk(size_t{32} << 20 >> 3);  // 32 MiB
    std::string first_id;
    auto t0 = Clock::now();
    for (int i = 0; i < 20; ++i) {
      chunk[0] = i;  // a different object each time
      lumen::ObjectRef<std::vector<double>> ref = lumen::Put(chunk);
      if (i == 0) first_id = ref.ID();
      // `ref` dies here: the object's count drops to 0 and the node frees it,
      // so the next Put can reuse the same shared memory.
    }
    std::printf("  put 20 x 32 MiB = 640 MiB, one at a time, in %.0f ms: the store never filled up,\n"
                "  because each object was freed when its only ref went out of scope\n",
                MsSince(t0));
    // The first object is gone: a ref rebuilt from its id finds nothing.
    try {
      lumen::Get(lumen::ObjectRef<std::vector<double>>::FromID(first_id), /*timeout_ms=*/2000);
      Check(false, "the first 32 MiB object is still there");
    } catch (const lumen::ObjectLostError& e) {
      std::printf("  Get(FromID(first id)) -> lumen::ObjectLostError:\n    %s\n", e.what());
    }
  }

  // ---- 6. Zero copy --------------------------------------------------------------------------
  Section("6. Zero copy with lumen::GetView");
  {
    // GetView pins the object and hands out a span into the segment: no
    // decoding, no copy. Two views of one object are the same bytes.
    std::vector<double> numbers(size_t{16} << 20 >> 3, 0.5);  // 16 MiB
    for (size_t i = 0; i < numbers.size(); i += 4096) numbers[i] = static_cast<double>(i);
    auto ref = lumen::Put(numbers);
    auto t0 = Clock::now();
    lumen::ObjectView<std::vector<double>> a = lumen::GetView(ref);
    double view_ms = MsSince(t0);
    lumen::ObjectView<std::vector<double>> b = lumen::GetView(ref);
    t0 = Clock::now();
    std::shared_ptr<std::vector<double>> copy = lumen::Get(ref);
    double get_ms = MsSince(t0);
    auto [from, to] = SegmentRange();
    auto address = reinterpret_cast<uintptr_t>(a.span().data());
    bool inside = address >= from && address < to;
    std::printf("  driver: view.span().data() = %#lx, %zu doubles, inside the segment [%#lx, %#lx): %s\n",
                static_cast<unsigned long>(address), a.span().size(), static_cast<unsigned long>(from),
                static_cast<unsigned long>(to), inside ? "yes" : "NO");
    std::printf("  a second view points at the same bytes: %s;  Get's copy lives elsewhere: %#lx\n",
                a.span().data() == b.span().data() ? "yes" : "NO",
                static_cast<unsigned long>(reinterpret_cast<uintptr_t>(copy->data())));
    std::printf("  GetView took %.3f ms; Get (decode a private 16 MiB copy) took %.1f ms\n", view_ms, get_ms);
    Check(inside, "the view points into the driver's mapping of the segment");
    Check(a.span().data() == b.span().data(), "two views share their bytes");
    Check(std::equal(numbers.begin(), numbers.end(), a.span().begin()), "the view shows the Put values");

    // Two workers view it too: each at its own virtual address, but at the
    // same offset in the one segment, i.e. the same physical pages.
    std::vector<lumen::ObjectRef<ViewReading>> readers;
    for (int i = 0; i < 2; ++i) readers.push_back(lumen::Task(ReadView).Remote(std::vector{ref}));
    uint64_t expected_offset = address - from;
    std::printf("  driver    pid %-7d offset in segment %#llx\n", static_cast<int>(getpid()),
                static_cast<unsigned long long>(expected_offset));
    for (auto& r : lumen::Get(readers)) {
      std::printf("  worker    pid %-7d offset in segment %#llx  (its address %#llx)  checksum %016llx\n", r->pid,
                  static_cast<unsigned long long>(r->offset), static_cast<unsigned long long>(r->address),
                  static_cast<unsigned long long>(r->checksum));
      Check(r->offset == expected_offset, "a worker's view is at the driver's offset in the segment");
      Check(r->checksum == Checksum(numbers), "a worker's view shows the Put values");
    }
    std::printf("  same offset everywhere: every process reads the one copy in shared memory\n");
  }

  lumen::Shutdown();

  std::printf(
      "\nExercises\n"
      "  1. Change kReaders to 8 and 1, and kMiB to 64: how do by value and by ref scale?\n"
      "  2. Find the size where an object stops being inline: Put vectors of 12,000 to 14,000\n"
      "     doubles and print lumen::codec::Encode(v).size() for each.\n"
      "  3. In section 5, keep every ref in a std::vector instead of dropping it. What happens\n"
      "     once 640 MiB no longer fit? (Try LUMEN_OBJECT_STORE_MB=256 to get there sooner.)\n"
      "  4. Return the big vector from a task instead of Putting it, and pass that ref to the\n"
      "     readers: where does the result live, and who owns it?\n");

  return Finish("04");
}

// Exercises (also printed at the end of the run):
//   1. kReaders = 8 and 1, kMiB = 64: how do by value and by ref scale?
//   2. Find the size where an object stops being inline (Encode(v).size()).
//   3. In section 5, keep every ref: what happens once 640 MiB do not fit?
//   4. Return the big vector from a task and pass that ref to the readers:
//      where does it live, who owns it?
