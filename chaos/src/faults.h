// The fault injector: a thread that plays a schedule against the running
// cluster while the workload runs in the driver's main thread.
//
//   kill-worker   SIGKILL the k-th of the live worker processes (sorted pids)
//   kill-actor    SIGKILL the k-th process the workload's actors last answered from
//   stop-worker   SIGSTOP a worker; the runtime must declare it dead and kill it
//                 within 1.1 x Config::worker_liveness_timeout_ms (plus slack
//                 for a busy machine), or the run fails and the harness kills it
//   fill-store    Put a block of 40-75% of the store's capacity, hold it for the
//                 fault's hold_ms, read it back (exact checksum) and drop it
//   kill-driver   done by the harness from outside (driver_kill.h); here only
//                 a second one of a schedule, skipped
//
// A signal goes only to a pid that is still a live child of this process,
// so a pid reused after a worker died is never hit.
//
// Thread safety: Start, Drained and Finish are called by the scenario thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "lumen/api.h"
#include "run_log.h"
#include "schedule.h"

namespace chaos {

struct InjectorSettings {
  int64_t liveness_timeout_ms = 1000;  // the cluster's Config::worker_liveness_timeout_ms
  int64_t stop_slack_ms = 3000;        // on top of 1.1x the timeout, for a loaded machine
  int64_t get_timeout_ms = 15000;      // the filler's read-back
};

class FaultInjector {
 public:
  FaultInjector(std::vector<Fault> schedule, RunLog& log, InjectorSettings settings);
  ~FaultInjector();  // Finish()
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  void Start();
  // True once every fault was injected or skipped, every stopped worker was
  // seen dead (or failed its bound) and every filler was dropped.
  bool Drained() const { return drained_.load(); }
  // Skips what is not injected yet, waits for stopped workers and fillers to
  // resolve, joins the thread and hands every fault to the log. Idempotent.
  void Finish();

 private:
  struct Stopped {
    size_t fault;  // index into injected_
    pid_t pid;
    int64_t stopped_at_ms;
  };
  struct Filler {
    size_t fault;
    lumen::ObjectRef<std::vector<uint64_t>> ref;
    uint64_t checksum;
    int64_t release_at_ms;
  };

  void Run();
  void Inject(const Fault& fault);
  void KillOneOf(std::vector<pid_t> candidates, InjectedFault* record);
  void Stop(InjectedFault* record);
  void Fill(InjectedFault* record);
  void CheckStopped();
  void ReleaseFillers(bool all);
  std::vector<pid_t> WorkerPids() const;  // live, not stopped by us, sorted

  const std::vector<Fault> schedule_;
  RunLog& log_;
  const InjectorSettings settings_;
  std::thread thread_;
  std::atomic<bool> finishing_{false};
  std::atomic<bool> drained_{false};
  std::mutex mu_;                 // for cv_ only: the state below is the thread's own
  std::condition_variable cv_;
  std::vector<InjectedFault> injected_;
  std::vector<Stopped> stopped_;
  std::vector<Filler> fillers_;
  bool finished_ = false;         // scenario thread only
};

}  // namespace chaos
