#include "run_log.h"

#include <algorithm>
#include <sstream>

namespace chaos {
namespace {

// One event a line: a text's newlines (lumen errors have some) are escaped.
std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string Unescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) out += text[++i] == 'n' ? '\n' : text[i];
    else out += text[i];
  }
  return out;
}

// What follows the first `fields` space-separated words of `line`.
std::string Rest(const std::string& line, int fields) {
  size_t at = 0;
  for (int i = 0; i < fields && at != std::string::npos; ++i) {
    at = line.find(' ', at);
    if (at != std::string::npos) ++at;
  }
  return at == std::string::npos ? "" : Unescape(line.substr(at));
}

}  // namespace

int64_t RunLog::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count();
}

void RunLog::ResultChecked(uint64_t how_many) { ResultCheckedAt(NowMs(), how_many); }

void RunLog::ResultCheckedAt(int64_t ms, uint64_t how_many) {
  std::lock_guard lock(mu_);
  // Sorted, for RecoveryMs: a replayed result may be stamped a little
  // before one of ours.
  completions_ms_.insert(std::upper_bound(completions_ms_.begin(), completions_ms_.end(), ms), ms);
  results_checked_ += how_many;
  Mirror("result", std::to_string(ms) + " " + std::to_string(how_many));
}

void RunLog::Fail(const std::string& what) { FailAs("fail", what); }

void RunLog::Threw(const std::string& what) { FailAs("threw", what); }

void RunLog::FailAs(const std::string& kind, const std::string& what) {
  std::string line = "+" + std::to_string(NowMs()) + " ms: " + what;
  std::lock_guard lock(mu_);
  // The first failures say what went wrong; a flood of the same adds nothing.
  Mirror(kind, line);
  if (failures_.size() < 20) failures_.push_back(std::move(line));
}

void RunLog::Note(const std::string& what) {
  std::string line = "+" + std::to_string(NowMs()) + " ms: " + what;
  std::lock_guard lock(mu_);
  Mirror("note", line);
  if (notes_.size() < 20) notes_.push_back(std::move(line));
}

void RunLog::Injected(InjectedFault fault) {
  std::lock_guard lock(mu_);
  // In time order, whoever hands them in last (a killed driver's come first).
  auto at = std::upper_bound(faults_.begin(), faults_.end(), fault.at_ms,
                             [](int64_t ms, const InjectedFault& f) { return ms < f.at_ms; });
  faults_.insert(at, std::move(fault));
}

void RunLog::ActorSeenIn(const std::string& actor, pid_t pid) {
  std::lock_guard lock(mu_);
  actor_pids_[actor].insert(pid);
  latest_actor_pid_[actor] = pid;
  Mirror("actor", std::to_string(pid) + " " + actor);
}

void RunLog::Flushed(const std::string& id, uint64_t expect) {
  std::lock_guard lock(mu_);
  flushed_.push_back({id, expect});
  Mirror("flushed", std::to_string(expect) + " " + id);
}

void RunLog::Counters(uint64_t worker_deaths, uint64_t tasks_rebuilt) {
  std::lock_guard lock(mu_);
  worker_deaths_ = worker_deaths;
  tasks_rebuilt_ = tasks_rebuilt;
  Mirror("counters", std::to_string(worker_deaths) + " " + std::to_string(tasks_rebuilt));
}

void RunLog::Announce(size_t index, const InjectedFault& f) {
  std::lock_guard lock(mu_);
  Mirror("fault", std::to_string(index) + " " + std::to_string(f.at_ms) + " " + std::to_string(f.pid) + " " +
                      (f.skipped ? "1 " : "0 ") + f.note);
}

void RunLog::MirrorTo(std::function<void(const std::string& line)> mirror) {
  std::lock_guard lock(mu_);
  mirror_ = std::move(mirror);
}

void RunLog::Mirror(const std::string& kind, const std::string& text) {
  if (mirror_) mirror_(kind + " " + Escape(text) + "\n");
}

bool RunLog::Replay(const std::string& line, const std::vector<Fault>& schedule) {
  std::istringstream in(line);
  std::string kind;
  in >> kind;
  if (kind == "result") {
    int64_t ms = 0;
    uint64_t n = 0;
    if (!(in >> ms >> n)) return false;
    ResultCheckedAt(ms, n);
  } else if (kind == "fail" || kind == "threw" || kind == "note") {
    // Already stamped with the other log's time, which is ours.
    std::lock_guard lock(mu_);
    std::vector<std::string>& lines = kind == "note" ? notes_ : failures_;
    if (lines.size() < 20) lines.push_back(Rest(line, 1));
  } else if (kind == "actor") {
    pid_t pid = 0;
    if (!(in >> pid)) return false;
    ActorSeenIn(Rest(line, 2), pid);
  } else if (kind == "flushed") {
    uint64_t expect = 0;
    std::string id;
    if (!(in >> expect >> id)) return false;
    Flushed(id, expect);
  } else if (kind == "counters") {
    uint64_t deaths = 0, rebuilt = 0;
    if (!(in >> deaths >> rebuilt)) return false;
    Counters(deaths, rebuilt);
  } else if (kind == "fault") {
    size_t index = 0;
    int skipped = 0;
    InjectedFault f;
    if (!(in >> index >> f.at_ms >> f.pid >> skipped) || index >= schedule.size()) return false;
    f.planned = schedule[index];
    f.skipped = skipped != 0;
    f.note = Rest(line, 5);
    Injected(std::move(f));
  } else {
    return false;
  }
  return true;
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

std::vector<FlushedObject> RunLog::FlushedObjects() const {
  std::lock_guard lock(mu_);
  return flushed_;
}

uint64_t RunLog::WorkerDeaths() const {
  std::lock_guard lock(mu_);
  return worker_deaths_;
}

uint64_t RunLog::TasksRebuilt() const {
  std::lock_guard lock(mu_);
  return tasks_rebuilt_;
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
