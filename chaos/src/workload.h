// A workload: a job with a result the harness knows exactly, run in rounds
// while faults are injected. Each round submits work, Gets every result
// within a bound and checks it, recording into the RunLog; the scenario runs
// rounds until the fault schedule is spent and one more round completed.
//
// Every Get goes through GetWithin: a Get that runs past its bound is a
// failed verdict ("hang"), never a hang of the harness.
//
// A workload that allows kill-driver (its Faults() say so) runs in a driver
// the harness kills (driver_kill.h). With `flush` set it calls lumen::Flush()
// each round and then reports what it was acknowledged (RunLog::Flushed);
// CheckRecovered, in the new driver on the same storage_dir, gets each of
// those by its id and checks its exact value: the Jepsen "set" check across
// the kill, and the end of the workload's job.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "lumen/api.h"
#include "run_log.h"
#include "schedule.h"

namespace chaos {

// A resource only the node daemons of a cluster run have (2 each,
// daemons.h): what a workload sends to them rather than to the head.
inline constexpr const char* kNodeResource = "chaos_node";

struct WorkloadSettings {
  uint64_t seed = 1;
  int64_t get_timeout_ms = 15000;  // the bound of every Get
  int scale = 1;                   // >1 in long runs: bigger rounds
  bool flush = false;              // the run kills the driver: Flush and report each round
  bool on_cluster = false;         // joined to a cluster of daemons: rounds sized for its slower tasks
};

// Thrown by a workload for a broken invariant the round cannot go on from
// (a Get past its bound, an error no fault should cause); the scenario
// records what() as a failure and stops the workload.
class WorkloadFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A WorkloadFailure that an error thrown by a lumen call caused (not a wrong
// value, not a Get past its bound): recorded by RunLog::Threw, since it is
// what a joined driver's waits must do once the harness killed its head.
class WorkloadError : public WorkloadFailure {
 public:
  using WorkloadFailure::WorkloadFailure;
};

class Workload {
 public:
  virtual ~Workload() = default;
  // The cluster this workload wants; called before Init.
  virtual void Configure(lumen::Config* /*config*/) const {}
  // The faults that make sense against it (a pipeline has actors to kill).
  virtual std::vector<FaultKind> Faults() const = 0;
  // After Init, before the first fault: create actors and the like.
  virtual void Start(RunLog& /*log*/) {}
  // One round: submit, Get (bounded), check, record.
  virtual void RunRound(RunLog& log) = 0;
  // After the last fault: the checks that need the whole run (the Put set
  // reads back everything it was acknowledged).
  virtual void Finish(RunLog& /*log*/) {}
  // After a driver kill, in a new driver on the same storage_dir: every
  // object flushed before the kill, by its id, exact. Records a result once
  // everything is back (the kill's time to recover).
  virtual void CheckRecovered(const std::vector<FlushedObject>& /*flushed*/, RunLog& /*log*/) {}
  // One cell for the report, e.g. "spilled 31".
  virtual std::string Extra() const { return ""; }
  // Drops every ref and handle; called before Shutdown.
  virtual void Stop() {}
};

// The workloads, and the scenarios: each workload on an embedded cluster
// (its own name), and "cluster-tree", "cluster-putset" on a local cluster of
// daemons (cluster_run.h).
std::vector<std::string> WorkloadNames();
std::vector<std::string> ScenarioNames();
bool IsClusterScenario(const std::string& name);
// A scenario's workload; nullptr for an unknown name.
std::unique_ptr<Workload> MakeWorkload(const std::string& name, const WorkloadSettings& settings);

std::unique_ptr<Workload> MakeTreeReduce(const WorkloadSettings& settings);
std::unique_ptr<Workload> MakeActorPipeline(const WorkloadSettings& settings);
std::unique_ptr<Workload> MakeShuffle(const WorkloadSettings& settings);
std::unique_ptr<Workload> MakePutSet(const WorkloadSettings& settings);

// lumen::Get within `timeout_ms`, turning every lumen error into a
// WorkloadFailure that says what was being got: under the faults the
// harness injects, with retries and restarts unbounded, none is expected.
// With `lost` given, an ObjectLostError is left to the caller: its message
// goes there and the result is null.
template <class T>
std::shared_ptr<T> GetWithin(const lumen::ObjectRef<T>& ref, int64_t timeout_ms, const std::string& what,
                             std::string* lost = nullptr) {
  try {
    return lumen::Get(ref, timeout_ms);
  } catch (const lumen::ObjectLostError& e) {
    if (!lost) throw WorkloadError("Get of " + what + " threw: " + e.what());
    *lost = e.what();
    return nullptr;
  } catch (const lumen::GetTimeoutError&) {
    throw WorkloadFailure("HANG: Get of " + what + " still waiting after " + std::to_string(timeout_ms) + " ms");
  } catch (const lumen::Error& e) {
    throw WorkloadError("Get of " + what + " threw: " + e.what());
  }
}

template <class T>
std::vector<std::shared_ptr<T>> GetWithin(const std::vector<lumen::ObjectRef<T>>& refs, int64_t timeout_ms,
                                          const std::string& what) {
  try {
    return lumen::Get(refs, timeout_ms);
  } catch (const lumen::GetTimeoutError&) {
    throw WorkloadFailure("HANG: Get of " + what + " still waiting after " + std::to_string(timeout_ms) + " ms");
  } catch (const lumen::Error& e) {
    throw WorkloadError("Get of " + what + " threw: " + e.what());
  }
}

template <class T>
lumen::ObjectView<T> GetViewWithin(const lumen::ObjectRef<T>& ref, int64_t timeout_ms, const std::string& what) {
  try {
    return lumen::GetView(ref, timeout_ms);
  } catch (const lumen::GetTimeoutError&) {
    throw WorkloadFailure("HANG: GetView of " + what + " still waiting after " + std::to_string(timeout_ms) + " ms");
  } catch (const lumen::Error& e) {
    throw WorkloadError("GetView of " + what + " threw: " + e.what());
  }
}

// A 64-bit mixer (splitmix64's finaliser): the deterministic "data" of the
// workloads, computed the same in the driver and in every worker.
inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Order-sensitive checksum of a run of words.
inline uint64_t Checksum(const uint64_t* words, size_t n, uint64_t h = 0x243f6a8885a308d3ULL) {
  for (size_t i = 0; i < n; ++i) h = Mix(h ^ words[i]);
  return h;
}

}  // namespace chaos
