#include "faults.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "processes.h"
#include "workload.h"

namespace chaos {

FaultInjector::FaultInjector(std::vector<Fault> schedule, RunLog& log, InjectorSettings settings)
    : schedule_(std::move(schedule)), log_(log), settings_(settings) {}

FaultInjector::~FaultInjector() { Finish(); }

void FaultInjector::Start() { thread_ = std::thread([this] { Run(); }); }

void FaultInjector::Finish() {
  if (finished_) return;
  finished_ = true;
  {
    std::lock_guard lock(mu_);
    finishing_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (InjectedFault& f : injected_) log_.Injected(std::move(f));
  injected_.clear();
}

void FaultInjector::Run() {
  size_t next = 0;
  while (true) {
    const bool finishing = finishing_.load();
    const int64_t now = log_.NowMs();
    for (; next < schedule_.size() && (finishing || schedule_[next].at_ms <= now); ++next) {
      if (finishing) {
        injected_.push_back({schedule_[next], now, 0, true, "not injected: the workload ended first"});
      } else {
        Inject(schedule_[next]);
      }
      log_.Announce(next, injected_.back());
    }
    CheckStopped();  // waited for even when finishing: it is what the fault checks
    ReleaseFillers(finishing);
    bool drained = next == schedule_.size() && stopped_.empty() && fillers_.empty();
    drained_ = drained;
    if (drained && finishing) return;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(5), [this, finishing] { return finishing_.load() != finishing; });
  }
}

void FaultInjector::Inject(const Fault& fault) {
  InjectedFault record{fault, log_.NowMs(), 0, false, ""};
  switch (fault.kind) {
    case FaultKind::kKillWorker:
      KillOneOf(WorkerPids(), &record);
      break;
    case FaultKind::kKillActor: {
      std::vector<pid_t> actors;
      for (pid_t pid : log_.LatestActorPids())
        if (IsLiveChild(pid) && StateOf(pid) != ProcessState::kStopped) actors.push_back(pid);
      std::sort(actors.begin(), actors.end());
      KillOneOf(actors, &record);
      break;
    }
    case FaultKind::kStopWorker:
      Stop(&record);
      break;
    case FaultKind::kFillStore:
      Fill(&record);
      break;
    case FaultKind::kKillDriver:
      // The harness kills the driver itself (driver_kill.h), from outside;
      // an injector sees this only for a second one in the schedule.
      record.skipped = true;
      record.note = "skipped: one driver kill a run";
      break;
    case FaultKind::kKillNode:
    case FaultKind::kKillHead:
    case FaultKind::kKillCluster:
    case FaultKind::kStopNode:
    case FaultKind::kStopHead:
      // Played by the harness of a cluster run (cluster_run.h), never drawn for an embedded one.
      record.skipped = true;
      record.note = "skipped: no daemons in an embedded cluster";
      break;
  }
  injected_.push_back(std::move(record));
}

void FaultInjector::KillOneOf(std::vector<pid_t> candidates, InjectedFault* record) {
  if (candidates.empty()) {
    record->skipped = true;
    record->note = "skipped: no live process to kill";
    return;
  }
  pid_t pid = candidates[std::min(candidates.size() - 1, static_cast<size_t>(record->planned.target * candidates.size()))];
  record->at_ms = log_.NowMs();
  if (::kill(pid, SIGKILL) != 0) {
    record->skipped = true;
    record->note = "skipped: pid " + std::to_string(pid) + " exited first";
    return;
  }
  record->pid = pid;
  record->note = "SIGKILL pid " + std::to_string(pid) + " (of " + std::to_string(candidates.size()) + ")";
}

void FaultInjector::Stop(InjectedFault* record) {
  std::vector<pid_t> candidates = WorkerPids();
  if (candidates.empty()) {
    record->skipped = true;
    record->note = "skipped: no live worker to stop";
    return;
  }
  pid_t pid = candidates[std::min(candidates.size() - 1, static_cast<size_t>(record->planned.target * candidates.size()))];
  record->at_ms = log_.NowMs();
  if (::kill(pid, SIGSTOP) != 0) {
    record->skipped = true;
    record->note = "skipped: pid " + std::to_string(pid) + " exited first";
    return;
  }
  record->pid = pid;
  record->note = "SIGSTOP pid " + std::to_string(pid);
  stopped_.push_back({injected_.size(), pid, record->at_ms});
}

// A stopped worker is resolved once it is gone or a zombie (the runtime
// killed it), or once its bound passed: then the run fails and the harness
// kills it itself, so that nothing is left stopped.
void FaultInjector::CheckStopped() {
  const int64_t bound = settings_.liveness_timeout_ms * 11 / 10 + settings_.stop_slack_ms;
  for (auto it = stopped_.begin(); it != stopped_.end();) {
    InjectedFault& record = injected_[it->fault];
    const int64_t waited = log_.NowMs() - it->stopped_at_ms;
    ProcessState state = ParentOf(it->pid) == getpid() ? StateOf(it->pid) : ProcessState::kGone;
    if (state == ProcessState::kGone || state == ProcessState::kZombie) {
      record.note += ", declared dead and killed after " + std::to_string(waited) + " ms";
      it = stopped_.erase(it);
    } else if (waited > bound) {
      log_.Fail("stopped worker pid " + std::to_string(it->pid) + " still there " + std::to_string(waited) +
                " ms after SIGSTOP (liveness timeout " + std::to_string(settings_.liveness_timeout_ms) + " ms)");
      ::kill(it->pid, SIGKILL);
      record.note += ", NOT declared dead within " + std::to_string(bound) + " ms: killed by the harness";
      it = stopped_.erase(it);
    } else {
      ++it;
    }
  }
}

void FaultInjector::Fill(InjectedFault* record) {
  size_t capacity = 0;
  try {
    capacity = lumen::GetClusterInfo().store_capacity_bytes;
  } catch (const lumen::Error&) {
  }
  if (capacity == 0) {
    record->skipped = true;
    record->note = "skipped: store capacity unknown";
    return;
  }
  const size_t words = static_cast<size_t>(capacity * (0.40 + 0.35 * record->planned.target)) / sizeof(uint64_t);
  std::vector<uint64_t> block(words);
  const uint64_t key = Mix(static_cast<uint64_t>(record->planned.at_ms) ^ words);
  for (size_t i = 0; i < words; ++i) block[i] = Mix(key + i);
  const uint64_t checksum = Checksum(block.data(), block.size());
  record->at_ms = log_.NowMs();
  record->note = "Put " + std::to_string(words * sizeof(uint64_t) >> 20) + " MiB of a " +
                 std::to_string(capacity >> 20) + " MiB store";
  try {
    auto ref = lumen::Put(block);
    fillers_.push_back({injected_.size(), std::move(ref), checksum, log_.NowMs() + record->planned.hold_ms});
  } catch (const lumen::ObjectStoreFullError& e) {
    // Allowed when what is pinned leaves no room: the error must be clear.
    record->note += ": refused, ObjectStoreFullError: " + std::string(e.what());
    log_.Note("fill-store refused: " + std::string(e.what()));
  } catch (const lumen::Error& e) {
    log_.Fail("fill-store: the Put threw " + std::string(e.what()));
  }
}

void FaultInjector::ReleaseFillers(bool all) {
  const int64_t now = log_.NowMs();
  for (auto it = fillers_.begin(); it != fillers_.end();) {
    if (!all && now < it->release_at_ms) {
      ++it;
      continue;
    }
    InjectedFault& record = injected_[it->fault];
    try {
      auto view = lumen::GetView(it->ref, settings_.get_timeout_ms);
      auto words = view.span();
      if (Checksum(words.data(), words.size()) != it->checksum) log_.Fail("fill-store: the filler came back with other bytes");
      record.note += ", read back exact";
    } catch (const lumen::GetTimeoutError&) {
      log_.Fail("HANG: fill-store: reading the filler back still waiting after " +
                std::to_string(settings_.get_timeout_ms) + " ms");
    } catch (const lumen::Error& e) {
      log_.Fail("fill-store: reading the filler back threw " + std::string(e.what()));
    }
    it = fillers_.erase(it);
  }
}

std::vector<pid_t> FaultInjector::WorkerPids() const {
  std::vector<pid_t> pids;
  try {
    for (pid_t pid : lumen::GetClusterInfo().worker_pids)
      if (IsLiveChild(pid) && StateOf(pid) != ProcessState::kStopped) pids.push_back(pid);
  } catch (const lumen::Error&) {
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

}  // namespace chaos
