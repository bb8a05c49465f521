// Lesson 06 — Fault tolerance: crashes, retries, restarts, and the lineage log
//
// THE IDEA
//   In a cluster, processes die: the OOM killer picks a worker, a machine
//   reboots, someone types kill -9. lumen's answer is that *nothing you were
//   promised is kept only in one process's memory*:
//
//     what dies                 what lumen does                   you choose
//     ─────────────────────     ──────────────────────────────    ───────────────────────
//     a task's worker           starts a new worker, re-runs      SetMaxRetries(n)
//                               the task                          (default 3)
//     a task that throws        nothing, by default: an           SetRetryExceptions(true)
//                               exception is a result
//     an actor's process        re-runs its factory in a new      SetMaxRestarts(n),
//                               process; state starts over        SetMaxTaskRetries(n)
//     an object's bytes         re-runs the tasks that made it,   (always on: lineage)
//     (evicted, owner gone)     from the lineage log
//     the driver itself         a new driver on the same          Config::storage_dir,
//                               storage_dir gets every object     lumen::Flush()
//                               back by its id
//
// WHY THIS WORKS: TASKS ARE RECIPES
//   A task is a function of its arguments. lumen writes every task and Put
//   into the *lineage log* (RocksDB, under Config::storage_dir) when you
//   submit it: the function's name, the arguments (values, or the ids of the
//   objects they came from), the options. An object is then not only bytes
//   but also a recipe for the bytes. If the bytes are gone, Get follows the
//   recipe: it re-runs the task, inputs first, each task once. That needs
//   your tasks to be deterministic (same inputs, same result) and to have no
//   side effects that hurt when repeated. Retrying after a crash relies on
//   the same thing.
//
//   Actors are different: their state is made by *all* the calls so far, in
//   order, and lives in one process. A restart gives you the factory's state;
//   anything else you must checkpoint yourself (lesson 03, exercise 1).
//
// ERRORS
//   When lumen gives up, Get throws a typed error saying why — a crash with
//   no retries left, a dead actor, an object that cannot be rebuilt — never a
//   hang (section 6 lists them).
//
// HOW SECTION 5 WORKS
//   The lesson starts a copy of itself with `--first-run DIR`: that copy is a
//   second *driver* (not a worker: lumen recognises its workers before main
//   runs, by their environment; this copy has none of that, so its main runs
//   and picks the first-run branch from argv). It computes a few objects on
//   its own cluster with storage_dir = DIR, flushes the log, prints their ids
//   and waits. The lesson kills it with SIGKILL, then starts its own cluster
//   on DIR and gets every object back by id.
//
// Run it:  build/lessons/06_fault_tolerance      (about 4 seconds)

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lesson_util.h"
#include "lumen/api.h"

extern char** environ;

namespace {

using namespace lesson;  // MsSince, Section, Check: lesson_util.h
namespace fs = std::filesystem;

constexpr int kWorkers = 2;  // worker processes of the lesson's clusters

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Scratch files of this run: where tasks leave traces the driver can read.
std::string Scratch(const std::string& name) {
  return (fs::temp_directory_path() / ("lesson06-" + std::to_string(getpid()) + "-" + name)).string();
}

// One line per run of a task: the pid that ran it.
std::vector<int> ReadPids(const std::string& path) {
  std::vector<int> pids;
  std::ifstream in(path);
  for (int pid; in >> pid;) pids.push_back(pid);
  return pids;
}

// Waits (at most 10 s) until `path` lists at least `n` runs.
std::vector<int> AwaitRuns(const std::string& path, size_t n) {
  auto t0 = Clock::now();
  std::vector<int> pids = ReadPids(path);
  while (pids.size() < n && MsSince(t0) < 10000) {
    usleep(500);
    pids = ReadPids(path);
  }
  return pids;
}

// ---- The remote functions ---------------------------------------------------

// Section 1: notes its pid (one line a run), then works for `ms`.
int PidThenSleep(std::string path, int ms) {
  { std::ofstream(path, std::ios::app) << getpid() << "\n"; }
  SleepMs(ms);
  return 7;
}

// Section 2: throws on its first `failures` runs (counted in a file), then
// succeeds and returns how many runs it took.
int Flaky(std::string path, int failures) {
  { std::ofstream(path, std::ios::app) << getpid() << "\n"; }
  int runs = static_cast<int>(ReadPids(path).size());
  if (runs <= failures) throw std::runtime_error("flaky: failing on purpose, run " + std::to_string(runs));
  return runs;
}

// Section 3: the actor of lesson 03, trimmed.
class Counter {
 public:
  explicit Counter(int start) : value_(start) {}
  static Counter* FactoryCreate(int start) { return new Counter(start); }
  int Add(int x) { return value_ += x; }
  int SlowAdd(int x, int ms) {
    SleepMs(ms);
    return value_ += x;
  }
  int Pid() const { return static_cast<int>(getpid()); }
  bool Restarted() const { return lumen::WasCurrentActorRestarted(); }

 private:
  int value_;
};

// Section 4: `mib` MiB of doubles, each equal to `seed`.
std::vector<double> Block(int seed, int mib) { return std::vector<double>(size_t(mib) << 17, seed); }

// Section 5: a small chain.
int Square(int x) { return x * x; }
int Add(int a, int b) { return a + b; }
std::string Label(std::string text, int n) { return text + " " + std::to_string(n); }

// Section 6.
int Divide(int a, int b) {
  if (b == 0) throw std::invalid_argument("cannot divide " + std::to_string(a) + " by zero");
  return a / b;
}
int SlowSquare(int x, int ms) {
  SleepMs(ms);
  return x * x;
}
int FailsIfMarked(std::string marker, int x) {
  if (fs::exists(marker)) throw std::runtime_error("refusing: " + fs::path(marker).filename().string() + " exists");
  return x + 1;
}

LUMEN_REMOTE(PidThenSleep, Flaky, LUMEN_FUNC(Counter::FactoryCreate, int), &Counter::Add, &Counter::SlowAdd,
             &Counter::Pid, &Counter::Restarted, Block, Square, Add, Label, Divide, SlowSquare, FailsIfMarked);

// ---- Helpers ----------------------------------------------------------------

uint64_t DeathsNoticed() {
  lumen::ClusterInfo info = lumen::GetClusterInfo();
  return info.worker_deaths_seen_by_caf + info.worker_deaths_seen_by_reaping;
}

// The first line of an error message, at most `width` characters.
std::string Short(const std::string& what, size_t width = 96) {
  std::string s = what.substr(0, what.find('\n'));
  return s.size() > width ? s.substr(0, width - 3) + "..." : s;
}

// `text` cut into lines of at most `width` characters, at spaces.
std::vector<std::string> Wrap(const std::string& text, size_t width) {
  std::vector<std::string> lines(1);
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find(' ', at);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(at, end - at);
    if (!lines.back().empty() && lines.back().size() + 1 + word.size() > width) lines.emplace_back();
    lines.back() += (lines.back().empty() ? "" : " ") + word;
    at = end + 1;
  }
  return lines;
}

// Whether `pid` is gone: no such process, or a zombie nobody reaped yet.
bool Gone(int pid) {
  if (kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string skip, state;
  stat >> skip >> skip >> state;  // pid (comm) state; comm has no spaces here
  return state == "Z";
}

// Runs `trigger`, which must throw E; returns its message (a check otherwise).
template <class E, class F>
std::string Expect(const std::string& error, F trigger) {
  try {
    trigger();
    Check(false, error + " was not thrown");
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    Check(false, error + " expected, got: " + e.what());
  }
  return "";
}

// A line from `fd`, waiting at most `timeout_ms` in all; "" on timeout or EOF.
std::string ReadLine(int fd, int timeout_ms) {
  std::string line;
  auto t0 = Clock::now();
  while (MsSince(t0) < timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char c;
    if (read(fd, &c, 1) != 1) break;
    if (c == '\n') return line;
    line += c;
  }
  return "";
}

// ---- Section 5, the first run: a driver that is about to be killed ----------
// Runs in a child process started by the lesson (see main). Its stdout is a
// pipe to the lesson: lines starting with "> " are shown, the rest are data.
int FirstRun(const char* storage_dir) {
  lumen::Config config;
  config.num_cpus = 1;
  config.storage_dir = storage_dir;
  lumen::Init(config);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  auto text = lumen::Put(std::string("recovered"));
  auto a = lumen::Task(Square).Remote(6);       // 36
  auto b = lumen::Task(Add).Remote(a, 6);       // 42
  auto c = lumen::Task(Label).Remote(text, b);  // "recovered 42"
  std::string value = *lumen::Get(c);
  lumen::Flush();  // from here on, all four survive a kill -9 of every process
  std::printf("> first run: driver pid %d, Init(storage_dir), Put + Square -> Add -> Label, Get(c) = \"%s\"\n",
              static_cast<int>(getpid()), value.c_str());
  std::printf("> first run: lumen::Flush() returned: the log is on disk\n");
  std::printf("ID text %s\nID a %s\nID b %s\nID c %s\n", text.ID().c_str(), a.ID().c_str(), b.ID().c_str(),
              c.ID().c_str());
  std::string workers;
  for (pid_t pid : lumen::GetClusterInfo().worker_pids) workers += " " + std::to_string(pid);
  std::printf("WORKERS%s\nREADY\n", workers.c_str());
  SleepMs(60000);  // waiting to be killed; a lesson that forgot us exits in a minute
  return 3;
}

}  // namespace

int main(int argc, char** argv) {
  // A copy of this program started by section 5 as a second driver. (Worker
  // processes never get here: the runtime runs them before main.)
  if (argc == 3 && std::strcmp(argv[1], "--first-run") == 0) return FirstRun(argv[2]);

  // Init first. A small store (64 MiB) so that section 4 fills it quickly.
  lumen::Config config;
  config.num_cpus = kWorkers;
  config.object_store_bytes = size_t{64} << 20;
  lumen::Init(config);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  auto lesson_start = Clock::now();

  std::printf("Lesson 06: fault tolerance — crashes, retries, restarts, and the lineage log\n");
  std::printf("  driver pid %d, %d worker processes, a 64 MiB object store\n", static_cast<int>(getpid()), kWorkers);
  std::string crashed_message;  // kept for the table of section 6

  // ---- 1. A worker dies mid-task: the task is retried -----------------------
  Section("1. A worker is killed in the middle of a task: the task is retried (SetMaxRetries)");
  {
    // The task writes its pid to a file and then works for 400 ms. We read the
    // pid and kill -9 that process while the task is running in it.
    std::string path = Scratch("attempts");
    fs::remove(path);
    auto r = lumen::Task(PidThenSleep).SetMaxRetries(2).Remote(path, 400);
    std::vector<int> pids = AwaitRuns(path, 1);
    Check(pids.size() == 1, "the task's first attempt started");
    int victim = pids.empty() ? -1 : pids[0];
    uint64_t caf_before = lumen::GetClusterInfo().worker_deaths_seen_by_caf;
    auto t_kill = Clock::now();
    kill(victim, SIGKILL);
    int value = *lumen::Get(r, 30000);
    double recovered_ms = MsSince(t_kill);
    pids = ReadPids(path);
    uint64_t caf_seen = lumen::GetClusterInfo().worker_deaths_seen_by_caf - caf_before;
    std::printf("  SetMaxRetries(2): attempt 1 ran in worker pid %d. kill -9 %d while it worked\n", victim, victim);
    for (size_t i = 1; i < pids.size(); ++i)
      std::printf("  attempt %zu ran in worker pid %d (a %s process)\n", i + 1, pids[i],
                  pids[i] == victim ? "the same" : "different");
    std::printf("  Get(r) = %d, %.0f ms after the kill (400 of them the retry's own work); attempts: %zu\n", value,
                recovered_ms, pids.size());
    std::printf("  worker_deaths_seen_by_caf: +%llu (the node heard of the death from CAF's down message)\n",
                static_cast<unsigned long long>(caf_seen));
    Check(value == 7 && pids.size() == 2 && pids[1] != victim, "the killed task was retried once, elsewhere");
    Check(caf_seen == 1, "CAF saw exactly one worker death");

    // The same with no retries: the crash is the task's result.
    fs::remove(path);
    auto once = lumen::Task(PidThenSleep).SetMaxRetries(0).Remote(path, 5000);
    pids = AwaitRuns(path, 1);
    Check(pids.size() == 1, "the no-retry task started");
    t_kill = Clock::now();
    kill(pids.empty() ? -1 : pids[0], SIGKILL);
    try {
      lumen::Get(once, 30000);
      Check(false, "a task killed with SetMaxRetries(0) returned");
    } catch (const lumen::WorkerCrashedError& e) {
      crashed_message = e.what();
      std::printf("  SetMaxRetries(0): kill -9 %d -> lumen::WorkerCrashedError after %.1f ms:\n", pids[0],
                  MsSince(t_kill));
      for (const std::string& line : Wrap(e.what(), 96)) std::printf("    %s\n", line.c_str());
    }
    Check(ReadPids(path).size() == 1, "SetMaxRetries(0) ran the task only once");
    fs::remove(path);
  }

  // ---- 2. Exceptions are results, unless you ask for retries ----------------
  Section("2. A task that throws is not retried, unless SetRetryExceptions(true)");
  {
    // Flaky throws on its first 2 runs and succeeds on the 3rd.
    std::string path = Scratch("flaky");
    fs::remove(path);
    try {
      lumen::Get(lumen::Task(Flaky).Remote(path, 2), 30000);
      Check(false, "Flaky succeeded on its first run");
    } catch (const lumen::TaskError& e) {
      std::printf("  default:                        1 run  -> lumen::TaskError (%s)\n", e.exception_type().c_str());
    }
    Check(ReadPids(path).size() == 1, "an exception was not retried by default");

    fs::remove(path);
    int runs = *lumen::Get(lumen::Task(Flaky).SetRetryExceptions(true).Remote(path, 2), 30000);
    std::printf("  SetRetryExceptions(true):       %d runs -> returned %d (threw, threw, succeeded)\n",
                static_cast<int>(ReadPids(path).size()), runs);
    Check(runs == 3 && ReadPids(path).size() == 3, "SetRetryExceptions re-ran the task until it succeeded");

    // Exceptions and crashes draw on the same budget, SetMaxRetries.
    fs::remove(path);
    try {
      lumen::Get(lumen::Task(Flaky).SetRetryExceptions(true).SetMaxRetries(1).Remote(path, 2), 30000);
      Check(false, "Flaky succeeded within 1 retry");
    } catch (const lumen::TaskError& e) {
      std::printf("  ... with SetMaxRetries(1):      %d runs -> lumen::TaskError: %s\n",
                  static_cast<int>(ReadPids(path).size()), Short(e.what(), 72).c_str());
    }
    Check(ReadPids(path).size() == 2, "SetMaxRetries(1) allowed exactly one retry");
    fs::remove(path);
    std::printf("  (only for errors that may go away: a timeout, a busy service. A bug throws every time.)\n");
  }

  // ---- 3. Actors: restarts --------------------------------------------------
  Section("3. An actor's process is killed: it is re-created (SetMaxRestarts, SetMaxTaskRetries)");
  {
    auto account = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int))
                       .SetMaxRestarts(1)      // may be re-created once
                       .SetMaxTaskRetries(1)   // calls lost with the process are re-sent
                       .Remote(100);
    lumen::Get(account.Task(&Counter::Add).Remote(20));
    int before = *lumen::Get(account.Task(&Counter::Add).Remote(30));
    int old_pid = *lumen::Get(account.Task(&Counter::Pid).Remote());
    std::printf("  Counter(100).Add(20).Add(30) = %d in pid %d\n", before, old_pid);

    // A 300 ms call is running when the process dies.
    auto in_flight = account.Task(&Counter::SlowAdd).Remote(1, 300);
    SleepMs(100);
    uint64_t deaths_before = DeathsNoticed();
    auto t_kill = Clock::now();
    kill(old_pid, SIGKILL);
    int after = *lumen::Get(in_flight, 10000);
    double recovered_ms = MsSince(t_kill);
    int new_pid = *lumen::Get(account.Task(&Counter::Pid).Remote());
    bool restarted = *lumen::Get(account.Task(&Counter::Restarted).Remote());
    std::printf("  kill -9 %d during SlowAdd(1); the call was re-sent to the new process and returned %d,\n"
                "  %.0f ms after the kill (300 of them the call itself); new pid %d, deaths noticed +%llu\n",
                old_pid, after, recovered_ms, new_pid, static_cast<unsigned long long>(DeathsNoticed() - deaths_before));
    std::printf("  WasCurrentActorRestarted() = %s; the factory re-ran with 100: state reset (101, not 151)\n",
                restarted ? "true" : "false");
    Check(after == 101 && new_pid != old_pid && restarted, "the actor was re-created from its factory");
    std::printf("  coming: .SetReplayOnRestart(true) replays the calls recorded in the lineage log, in order,\n"
                "  after the factory, so a deterministic actor comes back with its state (151 + 1 = 152)\n");
    account.Kill();
  }

  // ---- 4. An evicted object is rebuilt from lineage -------------------------
  Section("4. The store evicts an object; Get rebuilds it from the lineage log");
  {
    // 24 outputs of 8 MiB = 192 MiB through a 64 MiB store, all still
    // referenced. Lesson 04 freed objects by dropping refs; here the refs are
    // kept, and the store makes room by *evicting* the oldest: their bytes
    // go, their recipe stays in the log.
    lumen::ClusterInfo info = lumen::GetClusterInfo();
    uint64_t evicted_before = info.objects_evicted;
    auto t0 = Clock::now();
    std::vector<lumen::ObjectRef<std::vector<double>>> blocks;
    for (int i = 0; i < 24; ++i) {
      blocks.push_back(lumen::Task(Block).Remote(i + 1, 8));
      lumen::Wait(std::vector<lumen::ObjectRef<std::vector<double>>>{blocks.back()}, 1, 30000);
    }
    info = lumen::GetClusterInfo();
    uint64_t evicted = info.objects_evicted - evicted_before;
    std::printf("  24 x Block(i, 8 MiB) in %.0f ms, refs all kept; store %zu of %zu MiB used\n", MsSince(t0),
                info.store_used_bytes >> 20, info.store_capacity_bytes >> 20);
    std::printf("  objects_evicted: %llu (their bytes dropped, their lineage kept)\n",
                static_cast<unsigned long long>(evicted));
    Check(evicted > 0, "the store evicted task outputs");

    auto check = [](const std::vector<double>& v, double seed) {
      if (v.size() != size_t{8} << 17) return false;
      for (double x : v)
        if (x != seed) return false;
      return true;
    };
    uint64_t rebuilt_before = lumen::GetClusterInfo().tasks_rebuilt;
    t0 = Clock::now();
    auto last = lumen::Get(blocks[23], 30000);
    uint64_t rebuilt_last = lumen::GetClusterInfo().tasks_rebuilt - rebuilt_before;
    std::printf("  Get(blocks[23]) (the newest): %.1f ms, tasks_rebuilt +%llu: still in the store\n", MsSince(t0),
                static_cast<unsigned long long>(rebuilt_last));
    t0 = Clock::now();
    auto first = lumen::Get(blocks[0], 30000);
    double rebuild_ms = MsSince(t0);
    uint64_t rebuilt_first = lumen::GetClusterInfo().tasks_rebuilt - rebuilt_before - rebuilt_last;
    bool exact = check(*first, 1);
    std::printf("  Get(blocks[0])  (the oldest): %.1f ms, tasks_rebuilt +%llu: Block(1, 8) re-ran\n", rebuild_ms,
                static_cast<unsigned long long>(rebuilt_first));
    std::printf("  blocks[0]: %zu doubles, every one 1: %s (the same value as the first time)\n", first->size(),
                exact ? "yes" : "no");
    Check(rebuilt_last == 0 && check(*last, 24), "the newest block was served from the store");
    Check(rebuilt_first > 0 && exact, "the evicted block was rebuilt, exactly");
  }

  // The next section needs this process to be no driver at all for a while.
  lumen::Shutdown();

  // ---- 5. The driver is killed; a new one gets the results back by id -------
  Section("5. A driver is killed with kill -9; a new driver gets its objects back by id");
  std::string dir = Scratch("storage");
  fs::remove_all(dir);
  {
    // Start the first run: this same binary, as a second driver, its stdout
    // a pipe to us.
    int out[2];
    Check(pipe(out) == 0, "pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, out[1]);
    std::string self = fs::read_symlink("/proc/self/exe").string();
    std::string flag = "--first-run";
    char* child_argv[] = {argv[0], flag.data(), dir.data(), nullptr};
    pid_t child = -1;
    int spawned = posix_spawn(&child, self.c_str(), &actions, nullptr, child_argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    Check(spawned == 0, "started the first run");

    std::map<std::string, std::string> ids;
    std::vector<int> child_workers;
    bool ready = false;
    while (!ready) {
      std::string line = ReadLine(out[0], 20000);
      if (line.empty()) break;
      if (line.rfind("> ", 0) == 0) std::printf("  %s\n", line.substr(2).c_str());
      if (line.rfind("ID ", 0) == 0) {
        size_t space = line.find(' ', 3);
        ids[line.substr(3, space - 3)] = line.substr(space + 1);
      }
      if (line.rfind("WORKERS", 0) == 0) {
        int pid = 0;
        for (size_t at = 7; at < line.size(); at = line.find(' ', at + 1)) {
          if (std::sscanf(line.c_str() + at, " %d", &pid) == 1) child_workers.push_back(pid);
        }
      }
      ready = line == "READY";
    }
    Check(ready && ids.size() == 4, "the first run printed its 4 ids");
    for (const char* name : {"text", "a", "b", "c"})
      std::printf("  first run printed: %-4s = %s\n", name, ids[name].c_str());

    // One driver per storage dir: while the first run lives, we may not open it.
    lumen::Config recover;
    recover.num_cpus = kWorkers;
    recover.storage_dir = dir;
    try {
      lumen::Init(recover);
      Check(false, "a second driver opened a storage dir in use");
      lumen::Shutdown();
    } catch (const lumen::Error& e) {
      std::printf("  a second driver on the same dir, meanwhile: lumen::Init throws lumen::Error:\n");
      for (const std::string& line : Wrap(e.what(), 96)) std::printf("    %s\n", line.c_str());
      Check(std::strstr(e.what(), "in use") != nullptr, "the error says the storage dir is in use");
    }

    // kill -9: no destructor, no Shutdown, no flush runs in the first run.
    auto t_kill = Clock::now();
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    close(out[0]);
    std::printf("  kill -9 %d: the first run died by signal %d", child, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    Check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the first run was killed by SIGKILL");
    bool workers_gone = false;
    while (!workers_gone && MsSince(t_kill) < 5000) {
      workers_gone = true;
      for (int pid : child_workers) workers_gone = workers_gone && Gone(pid);
      if (!workers_gone) usleep(1000);
    }
    std::printf("; its %zu worker(s) were gone %.0f ms later (they die with their driver)\n", child_workers.size(),
                MsSince(t_kill));
    Check(workers_gone, "the first run's workers died with it");

    // A new driver on the same storage dir: every id comes back.
    auto t0 = Clock::now();
    lumen::Init(recover);
    double init_ms = MsSince(t0);
    uint64_t rebuilt_before = lumen::GetClusterInfo().tasks_rebuilt;
    // Refs from the ids first (FromID only names an object), then one Get:
    // rebuilding c re-makes its inputs too, and since we hold refs to them
    // they stay, so the later Gets find them ready.
    auto text = lumen::ObjectRef<std::string>::FromID(ids["text"]);
    auto a = lumen::ObjectRef<int>::FromID(ids["a"]);
    auto b = lumen::ObjectRef<int>::FromID(ids["b"]);
    auto c = lumen::ObjectRef<std::string>::FromID(ids["c"]);
    t0 = Clock::now();
    std::string c_value = *lumen::Get(c, 30000);
    double get_ms = MsSince(t0);
    int a_value = *lumen::Get(a, 30000);
    int b_value = *lumen::Get(b, 30000);
    std::string text_value = *lumen::Get(text, 30000);
    uint64_t rebuilt = lumen::GetClusterInfo().tasks_rebuilt - rebuilt_before;
    std::printf("  new driver pid %d: Init(same storage_dir) %.0f ms, then FromID(c).Get() in %.0f ms\n",
                static_cast<int>(getpid()), init_ms, get_ms);
    std::printf("  text = \"%s\", a = %d, b = %d, c = \"%s\". tasks_rebuilt: %llu (the Put from its durable copy,\n"
                "  Square, Add and Label re-run, inputs first, each once)\n",
                text_value.c_str(), a_value, b_value, c_value.c_str(), static_cast<unsigned long long>(rebuilt));
    std::printf("  recovered %.0f ms after the kill; lumen::Lineage(c), read back from the log:\n",
                MsSince(t_kill));
    std::string tree = lumen::Lineage(c);
    for (size_t at = 0; at < tree.size();) {
      size_t end = tree.find('\n', at);
      if (end == std::string::npos) end = tree.size();
      std::printf("    %s\n", tree.substr(at, end - at).c_str());
      at = end + 1;
    }
    Check(text_value == "recovered" && a_value == 36 && b_value == 42 && c_value == "recovered 42",
          "every object of the killed driver came back, exactly");
    Check(rebuilt == 4, "the Put and the three tasks were re-made from the log, each once");
    Check(tree.find("Label") != std::string::npos && tree.find(ids["b"]) != std::string::npos,
          "the lineage tree names Label and its input b");
  }

  // ---- 6. Typed errors ------------------------------------------------------
  Section("6. When lumen gives up, Get says why: the typed errors");
  {
    // Each row: the error, what it means, and the message it gave just now.
    struct Row {
      const char* error;
      const char* meaning;
      std::string live;
    };
    std::vector<Row> rows;
    rows.push_back(
        {"TaskError", "your code threw; the type and message are inside; not retried by default",
         Expect<lumen::TaskError>("TaskError", [] { lumen::Get(lumen::Task(Divide).Remote(1, 0), 30000); })});
    rows.push_back({"WorkerCrashedError", "the process running the task died and the retries are spent",
                    "(section 1) " + crashed_message});

    auto doomed = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int)).Remote(0);
    lumen::Get(doomed.Task(&Counter::Add).Remote(1), 30000);
    doomed.Kill();
    rows.push_back({"ActorDiedError", "the actor is gone: killed, its factory threw, or restarts spent",
                    Expect<lumen::ActorDiedError>("ActorDiedError",
                                                  [&] { lumen::Get(doomed.Task(&Counter::Add).Remote(1), 30000); })});

    rows.push_back({"ObjectLostError", "no copy left and no way to rebuild it (here: an id never made)",
                    Expect<lumen::ObjectLostError>("ObjectLostError", [] {
                      lumen::Get(lumen::ObjectRef<int>::FromID(std::string(40, 'a')), 30000);
                    })});

    // A task that worked once and refuses when re-run: its rebuild fails.
    std::string marker = Scratch("marker");
    fs::remove(marker);
    std::string id;
    {
      auto r = lumen::Task(FailsIfMarked).SetMaxRetries(0).Remote(marker, 1);
      lumen::Get(r, 30000);
      id = r.ID();
    }  // the last ref goes: the object is freed, its lineage stays
    lumen::Flush();  // the log is written behind our calls: make sure r's record is on disk
    { std::ofstream(marker) << 1; }
    rows.push_back(
        {"ObjectReconstructionFailedError", "rebuilding from lineage failed: a re-run threw or kept crashing",
         Expect<lumen::ObjectReconstructionFailedError>(
             "ObjectReconstructionFailedError", [&] { lumen::Get(lumen::ObjectRef<int>::FromID(id), 30000); })});
    fs::remove(marker);

    auto slow = lumen::Task(SlowSquare).Remote(3, 300);
    rows.push_back({"GetTimeoutError", "Get's timeout ran out; the task goes on and a later Get may succeed",
                    Expect<lumen::GetTimeoutError>("GetTimeoutError", [&] { lumen::Get(slow, 50); })});

    // Both workers busy, a third task queued: cancel it before it starts.
    auto busy = lumen::Task(SlowSquare).Remote(4, 300);
    auto queued = lumen::Task(SlowSquare).Remote(5, 300);
    lumen::Cancel(queued);
    rows.push_back({"TaskCancelledError", "lumen::Cancel(ref) stopped the task (queued: never runs)",
                    Expect<lumen::TaskCancelledError>("TaskCancelledError", [&] { lumen::Get(queued, 30000); })});
    Check(*lumen::Get(slow, 30000) == 9 && *lumen::Get(busy, 30000) == 16, "the other tasks finished");

    for (const Row& row : rows) {
      std::printf("  lumen::%-32s %s\n", row.error, row.meaning);
      // The message it gave just now, first line only, wrapped.
      bool first = true;
      for (const std::string& line : Wrap(row.live.substr(0, row.live.find('\n')), 80)) {
        std::printf("  %-39s %s %s\n", "", first ? "live:" : "     ", line.c_str());
        first = false;
      }
    }
    std::printf("  all derive from lumen::Error (a std::runtime_error); ObjectReconstructionFailedError is an\n"
                "  ObjectLostError, so catch it first\n");
  }

  lumen::Shutdown();
  fs::remove_all(dir);
  std::printf("\nlumen::Shutdown(); storage dir removed. Lesson ran in %.1f s.\n", MsSince(lesson_start) / 1000);

  std::printf(
      "\nExercises\n"
      "  1. In section 1, kill the worker twice (wait for the second pid, kill it too) with\n"
      "     SetMaxRetries(1): what does Get throw, and after how many attempts? Try SetMaxRetries(-1).\n"
      "  2. Make Block non-deterministic (add rand() to its values) and rebuild blocks[0] in section 4:\n"
      "     what does Get return now? Why must tasks be deterministic for lineage to be right?\n"
      "  3. In section 5, remove lumen::Flush() from the first run and kill it right after Get(c): which\n"
      "     ids come back? (The log is written behind your calls; Flush is the promise.)\n"
      "  4. Give the first run an actor and print the id of one of its call's results: what does the\n"
      "     new driver get for it, and why are actor outputs different from task outputs?\n"
      "  5. Have a task append to a file and let lineage re-run it (section 4): the file now has two\n"
      "     lines. Which side effects are safe to repeat, and how would you make one idempotent?\n");

  return Finish("06");
}

// Exercises (also printed at the end of the run):
//   1. Kill the worker of section 1 twice with SetMaxRetries(1); then -1.
//   2. A non-deterministic Block, rebuilt: what comes back?
//   3. No Flush in the first run: which ids survive the kill?
//   4. An actor call's result by id in the new driver: why is it different?
//   5. Side effects repeated by a rebuild: which are safe, how to make them so.
