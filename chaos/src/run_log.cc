#include "run_log.h"

#include <algorithm>

namespace chaos {

int64_t RunLog::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count();
}

void RunLog::ResultChecked(uint64_t how_many) {
  int64_t now = NowMs();
  std::lock_guard lock(mu_);
  completions_ms_.push_back(now);
  results_checked_ += how_many;
}

void RunLog::Fail(const std::string& what) {
  std::string line = "+" + std::to_string(NowMs()) + " ms: " + what;
  std::lock_guard lock(mu_);
  // The first failures say what went wrong; a flood of the same adds nothing.
  if (failures_.size() < 20) failures_.push_back(std::move(line));
}

void RunLog::Note(const std::string& what) {
  std::string line = "+" + std::to_string(NowMs()) + " ms: " + what;
  std::lock_guard lock(mu_);
  if (notes_.size() < 20) notes_.push_back(std::move(line));
}

void RunLog::Injected(InjectedFault fault) {
  std::lock_guard lock(mu_);
  faults_.push_back(std::move(fault));
}

void RunLog::ActorSeenIn(const std::string& actor, pid_t pid) {
  std::lock_guard lock(mu_);
  actor_pids_[actor].insert(pid);
  latest_actor_pid_[actor] = pid;
}

bool RunLog::Failed() const {
  std::lock_guard lock(mu_);
  return !failures_.empty();
}

std::vector<std::string> RunLog::Failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

std::vector<std::string> RunLog::Notes() const {
  std::lock_guard lock(mu_);
  return notes_;
}

std::vector<InjectedFault> RunLog::Faults() const {
  std::lock_guard lock(mu_);
  return faults_;
}

uint64_t RunLog::ResultsChecked() const {
  std::lock_guard lock(mu_);
  return results_checked_;
}

uint64_t RunLog::ActorRestartsSeen() const {
  std::lock_guard lock(mu_);
  uint64_t restarts = 0;
  for (const auto& [actor, pids] : actor_pids_) restarts += pids.size() - 1;
  return restarts;
}

std::vector<pid_t> RunLog::LatestActorPids() const {
  std::lock_guard lock(mu_);
  std::vector<pid_t> pids;
  for (const auto& [actor, pid] : latest_actor_pid_) pids.push_back(pid);
  return pids;
}

std::vector<int64_t> RunLog::RecoveryMs() const {
  std::lock_guard lock(mu_);
  std::vector<int64_t> recovery;
  for (const InjectedFault& f : faults_) {
    if (f.skipped) continue;
    auto next = std::upper_bound(completions_ms_.begin(), completions_ms_.end(), f.at_ms);
    recovery.push_back(next == completions_ms_.end() ? -1 : *next - f.at_ms);
  }
  return recovery;
}

}  // namespace chaos
