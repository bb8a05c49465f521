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

uint32_t TaskHistory::Intern(const std::string& name) {
  auto [it, fresh] = interned_.try_emplace(name, static_cast<uint32_t>(names_.size()));
  if (fresh) names_.push_back(name);
  return it->second;
}

TaskHistory::Record TaskHistory::Submitted(const TaskID& id, const TaskSpec& spec, bool rebuild, uint64_t now_ms) {
  Record r;
  r.id = id;
  r.actor = spec.actor;
  r.function = Intern(spec.function);
  r.name = spec.name == spec.function ? 0 : Intern(spec.name);
  r.rebuild = rebuild;
  r.submit_ms = now_ms;
  return r;
}

void TaskHistory::Queued(Record& r, int attempt) {
  r.state = State::kPending;
  r.attempt = attempt;
  r.worker = -1;
  r.pid = 0;
  r.node = 0;
}

void TaskHistory::Started(Record& r, int worker, int64_t pid, uint64_t now_ms, uint32_t node) {
  r.state = State::kRunning;
  r.worker = worker;
  r.pid = pid;
  r.node = node;
  r.start_ms = now_ms;
}

void TaskHistory::Ended(Record& r, State state, const std::string& error, uint64_t now_ms) {
  if (r.ended || ring_.empty()) return;
  r.ended = true;
  r.state = state;
  r.error = error;
  r.end_ms = now_ms;
  ++ended_[static_cast<size_t>(state)];
  ring_[next_] = r;
  next_ = (next_ + 1) % ring_.size();
  if (filled_ < ring_.size()) ++filled_;
}

head::TaskState TaskHistory::RenderOne(const Record& r) const {
  head::TaskState t;
  t.task_id = r.id.Hex();
  t.function = names_[r.function];
  t.name = names_[r.name];
  t.state = NameOf(r.state);
  t.node_id = names_[r.node];
  t.worker = r.worker;
  t.worker_pid = r.pid;
  t.attempt = r.attempt;
  t.actor_id = r.actor.IsNil() ? "" : r.actor.Hex();
  t.submit_ms = r.submit_ms;
  t.start_ms = r.start_ms;
  t.end_ms = r.end_ms;
  t.error = r.error;
  t.rebuild = r.rebuild;
  return t;
}

std::vector<head::TaskState> TaskHistory::Render(const std::vector<const Record*>& live) const {
  std::vector<head::TaskState> out;
  out.reserve(filled_ + live.size());
  // A task rebuilt after it ended is live again: its live record wins.
  std::unordered_map<TaskID, bool> is_live;
  for (const Record* r : live) is_live.emplace(r->id, true);
  for (size_t i = 0; i < filled_; ++i)
    if (!is_live.count(ring_[i].id)) out.push_back(RenderOne(ring_[i]));
  for (const Record* r : live) out.push_back(RenderOne(*r));
  return out;
}

std::map<std::string, uint64_t> TaskHistory::Totals(const std::vector<const Record*>& live) const {
  std::map<std::string, uint64_t> totals;
  for (size_t s = 0; s < ended_.size(); ++s) totals[NameOf(static_cast<State>(s))] = ended_[s];
  for (const Record* r : live) ++totals[NameOf(r->state)];
  return totals;
}

}  // namespace lumen::internal
