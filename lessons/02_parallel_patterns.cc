// Lesson 02 — Parallel patterns: launch first, wait later
//
// THE IDEA
//   Remote() returns a future at once, so the way to go fast is to launch
//   every task you can before you wait for any. The workers then run them side
//   by side. This lesson shows the five patterns you will use most:
//
//   1. serial vs parallel   Get inside the loop serialises your tasks;
//                           Remote all, then Get all, runs them at once.
//   2. map-reduce           N map tasks; one reduce task that takes their
//                           refs (a std::vector<ObjectRef<T>>) and combines.
//   3. a DAG                task outputs as task inputs: submit the whole graph
//                           up front; the runtime starts each task as soon as
//                           its inputs exist, and independent ones in parallel.
//   4. Wait                 handle results in the order they finish, not the
//                           order you submitted them.
//   5. tasks submit tasks   a recursive fan-out: a task splits its work and
//                           launches child tasks itself.
//
// THE MENTAL MODEL
//   The node manager keeps a queue of tasks and a table of objects. A task
//   whose ObjectRef arguments are all ready is *ready*; ready tasks go to idle
//   workers. Your driver only submits and, at the end, Gets: the scheduling
//   happens without it. A worker blocked in Get (a task waiting for its
//   children) gives its CPU back, so the node starts another worker rather
//   than deadlock.
//
// The work in sections 1, 3 and 4 (and in the leaves of 5) is simulated with
// short sleeps so that the timings read the same on any machine. Real work
// behaves the same way as long as each task does at least a millisecond or so
// of it: a task costs a few hundred microseconds of overhead (lesson 01
// measured a warm round trip).
//
// Run it:  build/lessons/02_parallel_patterns      (about 4 seconds)

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lesson_util.h"
#include "lumen/api.h"

namespace {

using namespace lesson;  // MsSince, Section, Check: lesson_util.h

constexpr int kWorkers = 2;  // worker processes of the lesson's cluster

// steady_clock is CLOCK_MONOTONIC: one clock for every process on the machine,
// so times taken in workers and in the driver can be compared.
int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
}

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// ---- 1. serial vs parallel ----------------------------------------------------
// "Work" that takes `ms` milliseconds.
int Work(int i, int ms) {
  SleepMs(ms);
  return i * i;
}

// ---- 2. map-reduce: a word count ----------------------------------------------
using Counts = std::map<std::string, int>;

// Map: count the words of one chunk of text.
Counts CountWords(std::string chunk) {
  Counts counts;
  std::istringstream in(chunk);
  std::string word;
  while (in >> word) {
    std::string clean;
    for (char c : word)
      if (std::isalpha(static_cast<unsigned char>(c))) clean += static_cast<char>(std::tolower(c));
    if (!clean.empty()) ++counts[clean];
  }
  return counts;
}

// Reduce: merge the maps' outputs. The refs arrive inside a vector, so the
// runtime passes them as refs (ids) — only a top-level ObjectRef argument is
// replaced by its value. The reducer Gets them itself, all at once.
Counts MergeCounts(std::vector<lumen::ObjectRef<Counts>> parts) {
  Counts total;
  for (const auto& part : lumen::Get(parts))
    for (const auto& [word, n] : *part) total[word] += n;
  return total;
}

// ---- 3. a DAG ------------------------------------------------------------------
// Each step returns its value and when and where it ran.
struct Step {
  int64_t value = 0;
  int64_t start_us = 0;
  int64_t end_us = 0;
  int pid = 0;
  LUMEN_FIELDS(value, start_us, end_us, pid);
};

Step RunStep(int64_t value, int ms) {
  Step s;
  s.start_us = NowUs();
  SleepMs(ms);
  s.value = value;
  s.end_us = NowUs();
  s.pid = getpid();
  return s;
}

Step Load(int64_t n) { return RunStep(n, 200); }
Step Left(Step in) { return RunStep(in.value * 2, 200); }     // takes Load's output
Step Right(Step in) { return RunStep(in.value + 100, 200); }  // takes Load's output too
Step Combine(Step l, Step r) { return RunStep(l.value + r.value, 20); }

// ---- 4. Wait -------------------------------------------------------------------
struct Done {
  int task = 0;
  int ms = 0;
  LUMEN_FIELDS(task, ms);
};

Done Sleepy(int task, int ms) {
  SleepMs(ms);
  return {task, ms};
}

// ---- 5. tasks that submit tasks --------------------------------------------------
struct Partial {
  int64_t sum = 0;
  int tasks = 0;          // tasks in this subtree, this one included
  std::vector<int> pids;  // the worker processes that ran them
  LUMEN_FIELDS(sum, tasks, pids);
};

// Sums [lo, hi). A big range is split in two halves, each a new task; the
// parent waits for both (its worker is "blocked in Get" meanwhile).
Partial SumRange(int64_t lo, int64_t hi, int64_t leaf) {
  if (hi - lo <= leaf) {
    Partial p;
    for (int64_t i = lo; i < hi; ++i) p.sum += i;
    SleepMs(50);  // make each leaf last long enough to overlap with the others
    p.tasks = 1;
    p.pids = {static_cast<int>(getpid())};
    return p;
  }
  int64_t mid = lo + (hi - lo) / 2;
  std::vector<lumen::ObjectRef<Partial>> halves = {lumen::Task(SumRange).Remote(lo, mid, leaf),
                                                   lumen::Task(SumRange).Remote(mid, hi, leaf)};
  Partial p;
  p.tasks = 1;
  p.pids = {static_cast<int>(getpid())};
  for (const auto& half : lumen::Get(halves)) {
    p.sum += half->sum;
    p.tasks += half->tasks;
    p.pids.insert(p.pids.end(), half->pids.begin(), half->pids.end());
  }
  return p;
}

LUMEN_REMOTE(Work, CountWords, MergeCounts, Load, Left, Right, Combine, Sleepy, SumRange);

// ---- Printing helpers -------------------------------------------------------------

const char* kText[] = {
    "the driver submits tasks and the workers run the tasks",
    "a task returns a future and the future becomes a value",
    "the object store keeps the values that the tasks return",
    "the driver waits for the values only when it needs the values",
    "a task may submit tasks and wait for the tasks it submitted",
    "the lineage log remembers how every value was made",
    "workers are processes and a process may crash but the driver goes on",
    "the scheduler runs a task when the values it needs are ready",
};

}  // namespace

int main() {
  StartCluster(kWorkers);

  std::printf("Lesson 02: parallel patterns (driver pid %d, %d workers)\n", static_cast<int>(getpid()), kWorkers);
  // Warm up: the first task also waits for the worker processes to start.
  lumen::Get(lumen::Task(Work).Remote(0, 0));

  // ---- 1. serial vs parallel ------------------------------------------------------
  Section("1. Serial vs parallel: 4 tasks of 300 ms on 2 workers");
  {
    constexpr int kTasks = 4, kMs = 300;
    // Anti-pattern: Get right after each Remote. Each task must finish before
    // the next one is even submitted, so one worker idles all along.
    auto t0 = Clock::now();
    int serial_sum = 0;
    for (int i = 0; i < kTasks; ++i) serial_sum += *lumen::Get(lumen::Task(Work).Remote(i, kMs));
    double serial_ms = MsSince(t0);

    // The pattern: submit everything, then Get everything.
    t0 = Clock::now();
    std::vector<lumen::ObjectRef<int>> refs;
    for (int i = 0; i < kTasks; ++i) refs.push_back(lumen::Task(Work).Remote(i, kMs));
    double submitted_ms = MsSince(t0);
    int parallel_sum = 0;
    for (const auto& v : lumen::Get(refs)) parallel_sum += *v;
    double parallel_ms = MsSince(t0);

    std::printf("  serial   (Get inside the loop):       %6.0f ms\n", serial_ms);
    std::printf("  parallel (Remote all, then Get all):  %6.0f ms  (all 4 submitted after %.2f ms)\n",
                parallel_ms, submitted_ms);
    std::printf("  speed-up: %.2fx  (ideal: %d workers -> 2x; one task = %d ms, %d tasks)\n",
                serial_ms / parallel_ms, kWorkers, kMs, kTasks);
    Check(serial_sum == parallel_sum && serial_sum == 0 + 1 + 4 + 9, "same results both ways");
    Check(serial_ms >= kTasks * kMs, "the serial loop takes at least 4 x 300 ms");
  }

  // ---- 2. map-reduce --------------------------------------------------------------
  Section("2. Map-reduce: a word count over 4 chunks");
  {
    // Split the text into 4 chunks of 2 lines.
    std::vector<std::string> chunks;
    std::string all;
    for (size_t i = 0; i < std::size(kText); i += 2) {
      chunks.push_back(std::string(kText[i]) + "\n" + kText[i + 1]);
      all += chunks.back() + "\n";
    }
    auto t0 = Clock::now();
    // Map: one task per chunk.
    std::vector<lumen::ObjectRef<Counts>> parts;
    for (const auto& chunk : chunks) parts.push_back(lumen::Task(CountWords).Remote(chunk));
    // Reduce: submitted right away, with refs to outputs that may not exist
    // yet. The refs inside the vector keep those outputs alive until the
    // reducer has read them, even if the driver dropped `parts`.
    lumen::ObjectRef<Counts> total_ref = lumen::Task(MergeCounts).Remote(parts);
    std::printf("  submitted %zu map tasks and 1 reduce task in %.2f ms, nothing run yet\n", chunks.size(),
                MsSince(t0));
    Counts total = *lumen::Get(total_ref);
    std::printf("  Get(reduce) after %.1f ms: %zu distinct words\n", MsSince(t0), total.size());

    std::vector<std::pair<int, std::string>> top;
    for (const auto& [w, n] : total) top.emplace_back(-n, w);
    std::sort(top.begin(), top.end());
    std::printf("  top words:");
    for (size_t i = 0; i < 5 && i < top.size(); ++i) std::printf(" %s=%d", top[i].second.c_str(), -top[i].first);
    std::printf("\n");
    bool same = total == CountWords(all);  // the same function, called locally
    std::printf("  word count matches a count in the driver: %s\n", same ? "yes" : "NO");
    Check(same, "map-reduce equals the serial count");
  }

  // ---- 3. a DAG ----------------------------------------------------------------------
  Section("3. A DAG: load -> (left, right) -> combine, submitted all at once");
  {
    //            ┌─ left  (x2)   ─┐
    //   load(50) ┤                ├─ combine  = 100 + 150 = 250
    //            └─ right (+100) ─┘
    int64_t t0_us = NowUs();
    auto t0 = Clock::now();
    lumen::ObjectRef<Step> load = lumen::Task(Load).Remote(int64_t{50});
    lumen::ObjectRef<Step> left = lumen::Task(Left).Remote(load);
    lumen::ObjectRef<Step> right = lumen::Task(Right).Remote(load);
    lumen::ObjectRef<Step> combine = lumen::Task(Combine).Remote(left, right);
    std::printf("  4 tasks submitted in %.2f ms; the driver now Gets only `combine`\n", MsSince(t0));
    Step c = *lumen::Get(combine);
    std::printf("  combine = %lld after %.0f ms (3 steps of 200 ms: left and right ran side by side)\n",
                static_cast<long long>(c.value), MsSince(t0));

    // The other steps' results are still there: fetch them to draw the timeline.
    Step l = *lumen::Get(load), a = *lumen::Get(left), b = *lumen::Get(right);
    auto draw = [&](const char* name, const Step& s) {
      int from = static_cast<int>((s.start_us - t0_us) / 1000), to = static_cast<int>((s.end_us - t0_us) / 1000);
      std::string bar(from / 25, ' ');
      bar += std::string(std::max(1, (to - from) / 25), '#');
      std::printf("  %-8s pid %-7d [%4d .. %4d ms] %s\n", name, s.pid, from, to, bar.c_str());
    };
    draw("load", l);
    draw("left", a);
    draw("right", b);
    draw("combine", c);
    bool ordered = a.start_us >= l.end_us && b.start_us >= l.end_us && c.start_us >= a.end_us &&
                   c.start_us >= b.end_us;
    std::printf("  each task ran only after its inputs were ready: %s\n", ordered ? "yes" : "NO");
    Check(ordered, "dependencies respected");
    Check(c.value == 250, "combine == 250");
  }

  // ---- 4. Wait: results in completion order --------------------------------------------
  Section("4. Wait: process results as they finish");
  {
    const int kMs[] = {500, 100, 400, 200, 300, 50};
    auto t0 = Clock::now();
    std::vector<lumen::ObjectRef<Done>> pending;
    for (int i = 0; i < 6; ++i) pending.push_back(lumen::Task(Sleepy).Remote(i, kMs[i]));
    std::printf("  submitted 6 tasks sleeping 500, 100, 400, 200, 300, 50 ms (2 run at a time)\n");

    // Wait with a timeout returns what is ready by then, never throws.
    auto early = lumen::Wait(pending, static_cast<int>(pending.size()), /*timeout_ms=*/150);
    std::printf("  Wait(all 6, timeout 150 ms): %zu ready, %zu not yet\n", early.ready.size(), early.unready.size());

    // The loop: wait for ANY one, handle it, repeat with the rest.
    std::vector<int> order;
    while (!pending.empty()) {
      lumen::WaitResult<Done> w = lumen::Wait(pending, 1);
      for (const auto& ref : w.ready) {
        Done d = *lumen::Get(ref);  // ready: Get returns at once
        std::printf("  finished: task %d (%3d ms) at %4.0f ms\n", d.task, d.ms, MsSince(t0));
        order.push_back(d.task);
      }
      pending = std::move(w.unready);
    }
    bool reordered = !std::is_sorted(order.begin(), order.end());
    std::printf("  processed %zu results in completion order; differs from submission order: %s\n",
                order.size(), reordered ? "yes" : "no");
    Check(order.size() == 6 && std::set<int>(order.begin(), order.end()).size() == 6, "each result once");
  }

  // ---- 5. tasks that submit tasks --------------------------------------------------------
  Section("5. Tasks that submit tasks: a recursive fan-out");
  {
    constexpr int64_t kN = 8'000'000, kLeaf = 1'000'000;
    auto t0 = Clock::now();
    Partial p = *lumen::Get(lumen::Task(SumRange).Remote(int64_t{0}, kN, kLeaf));
    std::set<int> pids(p.pids.begin(), p.pids.end());
    std::printf("  SumRange(0, %lld) = %lld in %.0f ms\n", static_cast<long long>(kN),
                static_cast<long long>(p.sum), MsSince(t0));
    std::printf("  the tree: 1 root -> 2 -> 4 -> 8 leaves = %d tasks, on %zu distinct worker processes\n", p.tasks,
                pids.size());
    std::printf("  (more than num_cpus = %d: a parent blocked in Get holds no CPU, so the node started\n"
                "   extra workers for its children instead of deadlocking)\n",
                kWorkers);
    Check(p.sum == kN * (kN - 1) / 2, "the sum is n(n-1)/2");
    Check(p.tasks == 15, "15 tasks in the tree");
  }

  lumen::Shutdown();

  std::printf(
      "\nExercises\n"
      "  1. Set kWorkers = 4 and run again: what happens to the speed-up of section 1?\n"
      "     Replace the sleep in Work with a CPU-bound loop: what speed-up do you get on 2 cores?\n"
      "  2. Make the reduce a tree: merge the parts two by two (MergeCounts of 2 refs each),\n"
      "     so no single task reads every part.\n"
      "  3. Add a fifth DAG step that takes `left` and `combine`; draw its bar in the timeline.\n"
      "  4. In section 4, stop after the first 3 results and lumen::Cancel the rest.\n");

  return Finish("02");
}

// Exercises (also printed at the end of the run):
//   1. num_cpus = 4: what happens to the speed-up of section 1? With a
//      CPU-bound Work instead of a sleep, on 2 cores?
//   2. Make the reduce a tree: MergeCounts of 2 refs at a time.
//   3. Add a fifth DAG step taking `left` and `combine`; draw its bar.
//   4. In section 4, stop after 3 results and lumen::Cancel the rest.
