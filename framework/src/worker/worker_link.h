// A worker's link to its node: one Unix socket that carries both the tasks
// the node sends (Execute) and the replies to what the worker's client core
// asks (Get, Wait, lookups).
//
// Two modes. Single-threaded (tasks and plain actors): whoever waits reads
// the socket; a task that arrives while the worker waits in Get goes back to
// the node (ReturnTasks) so another worker runs it, unless this worker hosts
// an actor, whose calls are its own and run in order. Reader thread (actors
// with max_concurrency > 1): one thread reads everything, hands tasks to the
// executor's pool and replies to their waiting callers.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "client/node_link.h"
#include "protocol/claim_slots.h"
#include "protocol/connection.h"

namespace lumen::internal {

class WorkerLink : public NodeLink {
 public:
  // `claims`: the page through which tasks sent ahead are claimed (pool
  // workers; null for actors).
  WorkerLink(int fd, std::unique_ptr<ClaimSlots> claims);

  void Send(std::span<Message> messages) override;
  Message AwaitReply(uint64_t request) override;

  // Single-threaded mode: the next task to run; false once the node is gone.
  // `before_idle` runs (without the link's lock) before it blocks for more.
  bool NextTask(ExecuteMsg* task, const std::function<void()>& before_idle);
  // From now on the link keeps the tasks it is sent (an actor's calls).
  void KeepQueuedTasks() { keep_tasks_ = true; }
  // Reader-thread mode, run by the reading thread until the node is gone:
  // tasks go to `on_task`; replies wake their callers.
  void ReadForever(const std::function<void(ExecuteMsg)>& on_task);

 private:
  // The node is gone: so is the job.
  [[noreturn]] static void Exit();
  void ReturnQueuedTasks();  // requires mu_

  std::mutex mu_;  // guards conn_'s writes, queue_, replies_, reader_mode_
  Connection conn_;
  std::unique_ptr<ClaimSlots> claims_;
  std::deque<ExecuteMsg> queue_;  // tasks received, not started
  bool keep_tasks_ = false;
  bool reader_mode_ = false;
  std::condition_variable reply_cv_;
  std::map<uint64_t, Message> replies_;
};

}  // namespace lumen::internal
