#include "node/task_history.h"

namespace lumen::internal {

const char* TaskHistory::NameOf(State state) {
  switch (state) {
    case State::kPending: return "pending";
    case State::kRunning: return "running";
    case State::kFinished: return "finished";
    case State::kFailed: return "failed";
    case State::kCancelled: return "cancelled";
  }
  return "unknown";
}

void TaskHistory::Submitted(const TaskID& id, const TaskSpec& spec, bool rebuild, uint64_t now_ms) {
  Record& t = tasks_[id];
  t = Record{};  // a rebuilt task starts afresh
  t.function = spec.function;
  t.name = spec.name == spec.function ? "" : spec.name;
  t.actor = spec.actor;
  t.state = State::kPending;
  t.submit_ms = now_ms;
  t.rebuild = rebuild;
}

void TaskHistory::Queued(const TaskID& id, int attempt) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  it->second.state = State::kPending;
  it->second.attempt = attempt;
  it->second.worker = -1;
  it->second.pid = 0;
}

void TaskHistory::Started(const TaskID& id, int worker, int64_t pid, uint64_t now_ms) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  it->second.state = State::kRunning;
  it->second.worker = worker;
  it->second.pid = pid;
  it->second.start_ms = now_ms;
}

void TaskHistory::End(const TaskID& id, State state, const std::string& error, uint64_t now_ms) {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second.end_ms) return;  // unknown, or ended already (cancelled, then done)
  it->second.state = state;
  it->second.error = error;
  it->second.end_ms = now_ms;
  ++ended_[NameOf(state)];
  it->second.end_seq = next_end_seq_++;
  ended_order_.emplace_back(id, it->second.end_seq);
  Forget();
}

std::vector<head::TaskState> TaskHistory::Recent() const {
  std::vector<head::TaskState> out;
  out.reserve(tasks_.size());
  for (const auto& [id, r] : tasks_) {
    head::TaskState& t = out.emplace_back();
    t.task_id = id.Hex();
    t.function = r.function;
    t.name = r.name;
    t.state = NameOf(r.state);
    t.worker = r.worker;
    t.worker_pid = r.pid;
    t.attempt = r.attempt;
    t.actor_id = r.actor.IsNil() ? "" : r.actor.Hex();
    t.submit_ms = r.submit_ms;
    t.start_ms = r.start_ms;
    t.end_ms = r.end_ms;
    t.error = r.error;
    t.rebuild = r.rebuild;
  }
  return out;
}

std::map<std::string, uint64_t> TaskHistory::Totals() const {
  std::map<std::string, uint64_t> totals = ended_;
  for (const auto& [id, t] : tasks_)
    if (!t.end_ms) ++totals[NameOf(t.state)];
  return totals;
}

void TaskHistory::Forget() {
  // Live tasks are never forgotten: only those that ended, oldest first.
  while (tasks_.size() > capacity_ && !ended_order_.empty()) {
    auto [id, seq] = ended_order_.front();
    ended_order_.pop_front();
    auto it = tasks_.find(id);
    if (it != tasks_.end() && it->second.end_ms && it->second.end_seq == seq) tasks_.erase(it);
  }
}

}  // namespace lumen::internal
