// Every function here REQUIRES NodeManager's mu_ (task_dependencies.h).
#include "node/task_dependencies.h"

#include <utility>

namespace lumen::internal {

void TaskDependencies::Add(const TaskID& task, const ObjectID& dependency) {
  auto [m, began] = missing_.try_emplace(task);
  if (began) m->second.ticket = next_ticket_++;
  ++m->second.count;
  waiters_[dependency].push_back({task, m->second.ticket});
}

std::vector<TaskID> TaskDependencies::Ready(const ObjectID& dependency) {
  std::vector<TaskID> ready;
  auto waiting = waiters_.find(dependency);
  if (waiting == waiters_.end()) return ready;
  std::vector<Waiter> waiters = std::move(waiting->second);
  waiters_.erase(waiting);
  for (const Waiter& w : waiters) {
    auto m = missing_.find(w.task);
    if (m == missing_.end() || m->second.ticket != w.ticket) continue;  // forgotten since
    if (--m->second.count > 0) continue;
    missing_.erase(m);
    ready.push_back(w.task);  // at its last appearance: a repeated dependency counts each time
  }
  return ready;
}

std::vector<TaskID> TaskDependencies::Failed(const ObjectID& dependency) {
  std::vector<TaskID> failed;
  auto waiting = waiters_.find(dependency);
  if (waiting == waiters_.end()) return failed;
  std::vector<Waiter> waiters = std::move(waiting->second);
  waiters_.erase(waiting);
  for (const Waiter& w : waiters) {
    auto m = missing_.find(w.task);
    if (m == missing_.end() || m->second.ticket != w.ticket) continue;  // forgotten, or a repeat of one taken
    missing_.erase(m);
    failed.push_back(w.task);
  }
  return failed;
}

void TaskDependencies::Forget(const TaskID& task) { missing_.erase(task); }

}  // namespace lumen::internal
