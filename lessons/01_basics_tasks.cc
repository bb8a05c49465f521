// Lesson 01 — Tasks: calling a function that runs in another process
//
// THE IDEA
//   A *task* is an ordinary C++ function that lumen runs for you in a *worker
//   process*. You register the function once (LUMEN_REMOTE), then call it with
//   lumen::Task(f).Remote(args...). Remote() does not run f: it writes down
//   "run f with these arguments" and hands the request to the scheduler. It
//   returns at once with an ObjectRef<R>: a *future*, a reference to the
//   result that does not exist yet. lumen::Get(ref) blocks until the result
//   is ready and gives you a copy (std::shared_ptr<R>).
//
// WHERE THINGS RUN
//   The program you write is the *driver*. lumen::Init() starts an embedded
//   cluster inside the driver: a node manager (scheduler + bookkeeping of every
//   object), an object store (one shared-memory segment) and N worker
//   processes. The workers are copies of this very binary, re-executed in
//   worker mode: they never run main(), they wait for tasks. That is why every
//   function registered with LUMEN_REMOTE exists in every worker, and why
//   lumen::Init() must come first in main().
//
//       driver process (this main)            worker processes (same binary)
//       ┌──────────────────────────┐          ┌──────────┐ ┌──────────┐
//       │ your code                │  task    │ Square() │ │ Add()    │
//       │ node manager ────────────┼────────► │          │ │          │
//       │ object store (shm)       │ ◄─────── │ result   │ │ result   │
//       └──────────────────────────┘  result  └──────────┘ └──────────┘
//
// WHY FUTURES
//   Because Remote() returns immediately, you can launch many tasks before
//   waiting for any: they run in parallel on the workers (lesson 02). And an
//   ObjectRef can itself be an argument of another task: the runtime waits for
//   it and passes the value, without the driver ever fetching it (chaining).
//
// OWNERSHIP
//   The process that submits a task owns its result: the object lives as long
//   as some ObjectRef to it exists (anywhere in the cluster) or a pending task
//   needs it. Copying an ObjectRef is cheap (it is an id and a count).
//
// ERRORS
//   If the function throws, the exception travels back: Get rethrows it as a
//   lumen::TaskError that names the task, the exception type and its message.
//   Get never hangs on a failure; Get with a timeout throws GetTimeoutError.
//
// Run it:  build/lessons/01_basics_tasks      (about 3 seconds)

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lesson_util.h"
#include "lumen/api.h"

namespace {

using namespace lesson;  // MsSince, Section, Check: lesson_util.h

// ---- The remote functions ---------------------------------------------------
// Plain functions. Their parameters and results are encoded (Cap'n Proto) when
// they cross a process boundary, so they must be types lumen's codec knows:
// numbers, strings, std containers, and structs that list their fields.

int Square(int x) { return x * x; }

int Add(int a, int b) { return a + b; }

int SlowSquare(int x, int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return x * x;
}

// A user struct crosses processes once it names its fields.
struct WhereAmI {
  int pid = 0;
  int parent_pid = 0;
  LUMEN_FIELDS(pid, parent_pid);
};

// Sleeps a little so that several of these occupy several workers at once.
WhereAmI Where() {
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return {static_cast<int>(getpid()), static_cast<int>(getppid())};
}

int Divide(int a, int b) {
  if (b == 0) throw std::invalid_argument("cannot divide " + std::to_string(a) + " by zero");
  return a / b;
}

// One line makes them callable as tasks, by name, in every process.
LUMEN_REMOTE(Square, Add, SlowSquare, Where, Divide);

}  // namespace

int main() {
  // ---- 1. Start lumen -------------------------------------------------------
  // Init first: in a worker process this call (indeed main) never runs — the
  // runtime takes over before main — so nothing above it may have side effects.
  lumen::Config config;
  config.num_cpus = 2;  // two worker processes; 0 would mean one per core
  lumen::Init(config);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // line by line, even into a pipe

  std::printf("Lesson 01: tasks — functions that run in worker processes\n");
  Section("1. Start lumen");
  std::printf("  lumen::Init() started an embedded cluster with %d worker processes\n", config.num_cpus);
  std::printf("  driver pid %d (this process: your main, the node manager, the object store)\n",
              static_cast<int>(getpid()));

  // ---- 2. Remote() returns at once; Get() waits -----------------------------
  Section("2. Remote() returns a future at once; Get() waits for the value");
  {
    // The very first task also waits for a worker process to start up.
    auto t0 = Clock::now();
    int first = *lumen::Get(lumen::Task(Square).Remote(3));
    std::printf("  first task  Square(3) = %d in %.1f ms (includes starting the workers)\n", first, MsSince(t0));
    t0 = Clock::now();
    int second = *lumen::Get(lumen::Task(Square).Remote(4));
    std::printf("  second task Square(4) = %d in %.2f ms (a round trip to a warm worker)\n", second, MsSince(t0));
    Check(first == 9 && second == 16, "Square(3), Square(4)");

    // A task that takes 300 ms: watch where the time goes.
    t0 = Clock::now();
    lumen::ObjectRef<int> ref = lumen::Task(SlowSquare).Remote(7, 300);
    double submit_ms = MsSince(t0);
    std::printf("  Remote(SlowSquare, 7, 300 ms) returned after %.3f ms -> an ObjectRef<int>, not an int\n",
                submit_ms);
    std::printf("  ... the driver is free to do other work while the task runs ...\n");
    int value = *lumen::Get(ref);  // blocks until the worker sends the result
    double total_ms = MsSince(t0);
    std::printf("  Get(ref) = %d after %.0f ms in total: Get did the waiting, not Remote\n", value, total_ms);
    Check(value == 49, "SlowSquare(7) == 49");
    Check(submit_ms < 100 && total_ms >= 300, "Remote returns at once, Get waits for the 300 ms task");
  }

  // ---- 3. Tasks run in other processes --------------------------------------
  Section("3. Tasks run in worker processes, not in the driver");
  {
    // Launch 6 at once (each sleeps 100 ms), then collect: the two workers
    // share them.
    std::vector<lumen::ObjectRef<WhereAmI>> refs;
    for (int i = 0; i < 6; ++i) refs.push_back(lumen::Task(Where).Remote());
    std::map<int, int> tasks_per_pid;
    int i = 0;
    for (const auto& where : lumen::Get(refs)) {
      std::printf("  task %d ran in worker pid %d (its parent pid: %d)\n", i++, where->pid, where->parent_pid);
      Check(where->pid != getpid(), "a task ran in the driver process");
      ++tasks_per_pid[where->pid];
    }
    std::printf("  driver pid %d; %zu distinct worker pids; each worker's parent is the driver, whose node\n"
                "  manager started it (fork + exec of this same binary)\n",
                static_cast<int>(getpid()), tasks_per_pid.size());
  }

  // ---- 4. Arguments: by value, or by ObjectRef (chaining) -------------------
  Section("4. Arguments by value and by ObjectRef (chaining without Get)");
  {
    // By value: 1 and 2 are encoded now and shipped with the task.
    lumen::ObjectRef<int> a = lumen::Task(Add).Remote(1, 2);
    // By ref: `a` is passed where Add expects an int. The runtime waits until
    // a's task is done and hands its value to this task. The driver never
    // fetches `a` and does not wait here.
    lumen::ObjectRef<int> b = lumen::Task(Add).Remote(a, 10);
    lumen::ObjectRef<int> c = lumen::Task(Square).Remote(b);
    std::printf("  a = Add(1, 2); b = Add(a, 10); c = Square(b)  — three Remote() calls, no Get yet\n");
    int result = *lumen::Get(c);
    std::printf("  Get(c) = %d   ((1 + 2 + 10)^2 = 169; a and b were passed worker-side)\n", result);
    Check(result == 169, "the chain computes 169");
  }

  // ---- 5. Errors travel back as TaskError -----------------------------------
  Section("5. A task that throws: Get rethrows a lumen::TaskError");
  {
    lumen::ObjectRef<int> bad = lumen::Task(Divide).Remote(1, 0);
    try {
      lumen::Get(bad);
      Check(false, "Divide(1, 0) did not throw");
    } catch (const lumen::TaskError& e) {
      std::printf("  caught lumen::TaskError\n    exception_type(): %s\n    what(): %s\n",
                  e.exception_type().c_str(), e.what());
      Check(std::string(e.what()).find("cannot divide 1 by zero") != std::string::npos, "message kept");
    }
    // A task that depends on a failed object does not run: it fails with the
    // same error, so an error anywhere upstream reaches whoever Gets downstream.
    lumen::ObjectRef<int> downstream = lumen::Task(Add).Remote(bad, 1);
    try {
      lumen::Get(downstream);
      Check(false, "the dependent task did not fail");
    } catch (const lumen::TaskError&) {
      std::printf("  Add(bad, 1) never ran; its Get throws the upstream TaskError too\n");
    }
    // The workers are fine: an exception is a result, not a crash.
    std::printf("  workers still healthy: Square(5) = %d\n", *lumen::Get(lumen::Task(Square).Remote(5)));
  }

  // ---- 6. Get with a timeout ------------------------------------------------
  Section("6. Get with a timeout");
  {
    lumen::ObjectRef<int> slow = lumen::Task(SlowSquare).Remote(9, 500);
    auto t0 = Clock::now();
    try {
      lumen::Get(slow, /*timeout_ms=*/100);
      Check(false, "Get(slow, 100 ms) did not time out");
    } catch (const lumen::GetTimeoutError& e) {
      std::printf("  Get(slow, 100 ms) threw lumen::GetTimeoutError after %.0f ms:\n    %s\n", MsSince(t0),
                  e.what());
    }
    // The timeout only stopped our waiting: the task kept running.
    int value = *lumen::Get(slow);
    std::printf("  the task kept running; Get(slow) without a timeout = %d after %.0f ms\n", value, MsSince(t0));
    Check(value == 81, "SlowSquare(9) == 81");
  }

  // ---- 7. An ObjectRef is an id --------------------------------------------
  Section("7. An ObjectRef is an id you can print, copy and rebuild");
  {
    lumen::ObjectRef<int> r = lumen::Task(Square).Remote(12);
    std::string id = r.ID();
    std::printf("  r = Square(12); r.ID() = %s (40 hex digits, stable)\n", id.c_str());
    lumen::ObjectRef<int> copy = r;  // cheap: the same id, one more reference
    lumen::ObjectRef<int> same = lumen::ObjectRef<int>::FromID(id);
    std::printf("  a copy has the same id: %s; FromID(id).Get() = %d\n", copy.ID() == id ? "yes" : "no",
                *lumen::Get(same));
    Check(copy.ID() == id && *lumen::Get(same) == 144, "copy and FromID refer to the same object");
    // When r, copy and same go out of scope here, nothing refers to the object
    // any more and the node frees it (lesson 04 watches that happen).
  }

  lumen::Shutdown();  // stops the workers, frees the store
  std::printf("\nlumen::Shutdown(): workers stopped, object store removed.\n");

  std::printf(
      "\nExercises\n"
      "  1. Make Square sleep 200 ms and launch 4 of them before any Get: how long does Get take\n"
      "     with num_cpus = 2? With 4? (Lesson 02 measures exactly this.)\n"
      "  2. Throw your own exception type (struct MyError : std::runtime_error) from a task: what\n"
      "     does TaskError::exception_type() print?\n"
      "  3. Build a chain of 100 Add tasks, each taking the previous ref, and Get only the last.\n"
      "     Time it: what does one task cost end to end?\n"
      "  4. Pass a std::vector<std::string> or your own LUMEN_FIELDS struct as an argument and\n"
      "     return one from a task.\n");

  return Finish("01");
}

// Exercises (also printed at the end of the run):
//   1. Make Square sleep 200 ms and launch 4 of them before any Get: how long
//      does Get take with num_cpus = 2? With 4?
//   2. Throw your own exception type from a task: what does
//      TaskError::exception_type() print?
//   3. Build a chain of 100 Add tasks, each taking the previous ref; Get only
//      the last. What does one task cost end to end?
//   4. Pass a std::vector<std::string> or your own LUMEN_FIELDS struct as an
//      argument, and return one.
