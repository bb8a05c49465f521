// lumen-chaos: seeded fault injection against lumen workloads.
//
//   lumen-chaos                               the short default matrix (ctest runs it case by case)
//   lumen-chaos --seed S --scenario NAME      replays one run exactly (same schedule)
//   lumen-chaos --seed S                      every scenario with seed S
//   lumen-chaos --minutes N                   random seeds for N minutes, progress on stderr
//   lumen-chaos --list                        scenarios, and the schedule of --seed S if given
//   options: --scale K (bigger rounds), --get-timeout-ms MS (every Get's bound),
//            --strict (a run that shows only known bugs fails too)
//
// Exit status: 0 every run passed (or showed only known bugs, known_bugs.h),
// 1 a run failed, 2 bad usage, 3 a run hung past the watchdog (the harness's
// own bound, beyond every Get's).
//
// This binary is also its cluster's worker: lumen runs the worker before
// main in the processes it starts, so nothing here runs there. And it is the
// driver that the kill-driver fault kills: `--child-driver DIR --report-fd N`
// (with --scenario and --seed) runs one workload as that driver (driver_kill.h);
// and the joined driver of a cluster scenario: `--cluster-driver ADDRESS
// --report-fd N --command-fd M --clock-origin NS [--recover FILE]` (cluster_run.h).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "abandon.h"
#include "cluster_run.h"
#include "driver_kill.h"
#include "report.h"
#include "scenario.h"
#include "workload.h"

namespace {

using chaos::ScenarioOptions;
using chaos::ScenarioResult;

struct Args {
  std::vector<std::string> scenarios;
  std::vector<uint64_t> seeds;
  double minutes = 0;
  bool list = false;
  bool strict = false;
  ScenarioOptions base;
  std::string child_driver;  // the storage_dir of a driver the harness will kill
  int report_fd = -1;
  chaos::ClusterDriverArgs cluster_driver;  // a joined driver of a cluster run, when its address is set
};

int Usage(const char* why) {
  std::fprintf(stderr,
               "lumen-chaos: %s\n"
               "usage: lumen-chaos [--seed S] [--scenario NAME|all] [--minutes N] [--scale K]\n"
               "                   [--get-timeout-ms MS] [--strict] [--list]\n",
               why);
  return 2;
}

bool Parse(int argc, char** argv, Args* args, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        *error = flag + " needs a value";
        return "";
      }
      return argv[++i];
    };
    try {
      if (flag == "--seed") {
        std::string v = value();
        if (v.empty()) return false;
        args->seeds.push_back(std::stoull(v));
      } else if (flag == "--scenario") {
        std::string v = value();
        if (v.empty()) return false;
        if (v == "all") {
          args->scenarios = chaos::ScenarioNames();
        } else {
          if (!chaos::MakeWorkload(v, {})) {
            *error = "unknown scenario '" + v + "'";
            return false;
          }
          args->scenarios.push_back(v);
        }
      } else if (flag == "--minutes") {
        args->minutes = std::stod(value());
      } else if (flag == "--scale") {
        args->base.scale = std::max(1, std::stoi(value()));
      } else if (flag == "--get-timeout-ms") {
        args->base.get_timeout_ms = std::stoll(value());
      } else if (flag == "--list") {
        args->list = true;
      } else if (flag == "--strict") {
        args->strict = true;
      } else if (flag == "--child-driver") {
        args->child_driver = value();
      } else if (flag == "--report-fd") {
        args->report_fd = std::stoi(value());
      } else if (flag == "--cluster-driver") {
        args->cluster_driver.address = value();
      } else if (flag == "--command-fd") {
        args->cluster_driver.command_fd = std::stoi(value());
      } else if (flag == "--clock-origin") {
        args->cluster_driver.clock_origin_ns = std::stoll(value());
      } else if (flag == "--recover") {
        args->cluster_driver.recover_file = value();
      } else {
        *error = "unknown flag " + flag;
        return false;
      }
    } catch (const std::exception&) {
      if (error->empty()) *error = "bad value for " + flag;
      return false;
    }
  }
  return true;
}

// The harness's last line of defence: every Get has a bound, but should the
// harness itself wedge (in Init, Shutdown, or a call without one), it says
// which run and exits rather than hang a CI job.
class Watchdog {
 public:
  Watchdog() : thread_([this] { Watch(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Arm(const ScenarioOptions& run, std::chrono::milliseconds budget) {
    std::lock_guard lock(mu_);
    what_ = "lumen-chaos --seed " + std::to_string(run.seed) + " --scenario " + run.scenario;
    deadline_ = std::chrono::steady_clock::now() + budget;
    armed_ = true;
  }
  void Disarm() {
    std::lock_guard lock(mu_);
    armed_ = false;
  }

 private:
  void Watch() {
    std::unique_lock lock(mu_);
    while (!done_) {
      cv_.wait_for(lock, std::chrono::milliseconds(200));
      if (armed_ && std::chrono::steady_clock::now() > deadline_) {
        std::fprintf(stdout, "HANG: the run did not end within its budget; verdict FAIL\n  replay: %s\n",
                     what_.c_str());
        std::fflush(stdout);
        chaos::AbandonRun();  // the run's child drivers, daemons and temp dirs
        std::_Exit(3);  // workers die with us (their parent-death signal)
      }
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false, armed_ = false;
  std::string what_;
  std::chrono::steady_clock::time_point deadline_;
  std::thread thread_;
};

bool Failed(const Args& args, const ScenarioResult& r) { return !r.passed() || (args.strict && !r.known_bugs.empty()); }

ScenarioResult RunWatched(Watchdog& watchdog, const ScenarioOptions& run) {
  // Rounds stop at max_run_ms; past it, the round under way, the final
  // check and the filler's read-back each stop at their first Get that runs
  // out, and Init and Shutdown take seconds. (ctest's TIMEOUT is above this.)
  watchdog.Arm(run, std::chrono::milliseconds(run.max_run_ms + 3 * run.get_timeout_ms + 15000));
  ScenarioResult result = chaos::RunScenario(run);
  watchdog.Disarm();
  return result;
}

int RunMatrix(const Args& args) {
  std::vector<std::string> scenarios = args.scenarios.empty() ? chaos::ScenarioNames() : args.scenarios;
  std::vector<uint64_t> seeds = args.seeds.empty() ? std::vector<uint64_t>{1} : args.seeds;
  Watchdog watchdog;
  std::vector<ScenarioResult> results;
  for (uint64_t seed : seeds)
    for (const std::string& scenario : scenarios) {
      ScenarioOptions run = args.base;
      run.scenario = scenario;
      run.seed = seed;
      results.push_back(RunWatched(watchdog, run));
      chaos::PrintDetails(stdout, results.back());
    }
  std::printf("\n");
  chaos::PrintTable(stdout, results);
  for (const ScenarioResult& r : results)
    if (Failed(args, r)) return 1;
  return 0;
}

int RunForMinutes(const Args& args) {
  std::vector<std::string> scenarios = args.scenarios.empty() ? chaos::ScenarioNames() : args.scenarios;
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::milliseconds(static_cast<int64_t>(args.minutes * 60000));
  std::mt19937_64 seeds(std::random_device{}());
  Watchdog watchdog;
  std::vector<ScenarioResult> results;
  int failed = 0, known = 0;
  chaos::PrintTableHeader(stdout);
  for (size_t n = 0; std::chrono::steady_clock::now() < end; ++n) {
    ScenarioOptions run = args.base;
    run.scenario = scenarios[n % scenarios.size()];
    run.seed = seeds() % 1000000;
    run.print_schedule = false;
    results.push_back(RunWatched(watchdog, run));
    const ScenarioResult& r = results.back();
    chaos::PrintTableRow(stdout, r);
    if (r.Verdict() != "PASS") chaos::PrintDetails(stdout, r);
    if (Failed(args, r)) ++failed;
    if (!r.known_bugs.empty()) ++known;
    auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "[%lld:%02lld] run %zu: %s seed %llu %s; %d failed so far\n",
                 static_cast<long long>(elapsed / 60), static_cast<long long>(elapsed % 60), n + 1,
                 r.scenario.c_str(), static_cast<unsigned long long>(r.seed), r.Verdict().c_str(), failed);
  }
  std::printf("\n%zu runs, %d failed, %d showed known bugs\n", results.size(), failed, known);
  for (const ScenarioResult& r : results)
    if (r.Verdict() != "PASS")
        std::printf("  replay: lumen-chaos --seed %llu --scenario %s   (%s)\n", static_cast<unsigned long long>(r.seed),
                  r.scenario.c_str(), r.Verdict().c_str());
  return failed ? 1 : 0;
}

int List(const Args& args) {
  for (const std::string& name : chaos::ScenarioNames()) {
    std::printf("%s\n", name.c_str());
    for (uint64_t seed : args.seeds)
      std::printf("  seed %llu:\n%s", static_cast<unsigned long long>(seed),
                  chaos::DescribeSchedule(chaos::ScheduleFor(name, seed)).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  std::string error;
  if (!Parse(argc, argv, &args, &error)) return Usage(error.c_str());
  if (!args.child_driver.empty()) {
    if (args.report_fd < 0 || args.scenarios.size() != 1 || args.seeds.size() != 1)
      return Usage("--child-driver needs --report-fd, one --scenario and one --seed");
    ScenarioOptions run = args.base;
    run.scenario = args.scenarios[0];
    run.seed = args.seeds[0];
    return chaos::RunChildDriver(run, args.child_driver, args.report_fd);
  }
  if (!args.cluster_driver.address.empty()) {
    if (args.report_fd < 0 || args.cluster_driver.command_fd < 0 || args.scenarios.size() != 1 ||
        args.seeds.size() != 1)
      return Usage("--cluster-driver needs --report-fd, --command-fd, one --scenario and one --seed");
    ScenarioOptions run = args.base;
    run.scenario = args.scenarios[0];
    run.seed = args.seeds[0];
    chaos::ClusterDriverArgs driver = args.cluster_driver;
    driver.report_fd = args.report_fd;
    return chaos::RunClusterDriver(run, driver);
  }
  if (args.list) return List(args);
  if (args.minutes > 0) return RunForMinutes(args);
  return RunMatrix(args);
}
