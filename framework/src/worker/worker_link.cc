#include "worker/worker_link.h"

#include <cstdio>
#include <cstdlib>

namespace lumen::internal {

WorkerLink::WorkerLink(int fd, std::unique_ptr<ClaimSlots> claims) : conn_(fd), claims_(std::move(claims)) {}

void WorkerLink::Exit() {
  std::fflush(nullptr);
  std::_Exit(0);
}

void WorkerLink::Send(std::span<Message> messages) {
  std::lock_guard lock(mu_);
  for (const Message& m : messages) conn_.Queue(m);
  if (!conn_.FlushBlocking()) Exit();
}

Message WorkerLink::AwaitReply(uint64_t request) {
  std::unique_lock lock(mu_);
  if (reader_mode_) {  // the reader thread delivers replies
    reply_cv_.wait(lock, [&] { return replies_.count(request) > 0; });
    Message reply = std::move(replies_[request]);
    replies_.erase(request);
    return reply;
  }
  // This worker is blocked until the reply: what it was sent ahead goes back.
  ReturnQueuedTasks();
  if (!conn_.FlushBlocking()) Exit();
  Message m;
  for (;;) {
    try {
      while (conn_.NextFrame(&m)) {
        if (auto* task = std::get_if<ExecuteMsg>(&m)) {
          queue_.push_back(std::move(*task));
          ReturnQueuedTasks();
          if (!conn_.FlushBlocking()) Exit();
        } else if (RequestAnswered(m) == request) {
          return m;
        }  // late replies to requests that timed out are dropped
      }
    } catch (const ProtocolError& e) {
      std::fprintf(stderr, "lumen worker: leaving: the node sent %s\n", e.what());
      Exit();
    }
    if (!conn_.ReadBlocking(-1)) Exit();
  }
}

// A pool worker blocked in Get hands back the tasks it was sent ahead, so
// others run them. An actor keeps its calls: they are its own, in order,
// and run after the one that waits.
void WorkerLink::ReturnQueuedTasks() {
  if (queue_.empty() || keep_tasks_) return;
  ReturnTasksMsg back;
  for (const ExecuteMsg& t : queue_) back.ids.push_back(t.id);
  queue_.clear();
  conn_.Queue(back);
}

bool WorkerLink::NextTask(ExecuteMsg* task, const std::function<void()>& before_idle) {
  Message m;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      while (!queue_.empty()) {
        *task = std::move(queue_.front());
        queue_.pop_front();
        // Sent ahead and then taken back by the node for an idle worker: skip it.
        if (task->seq && claims_ && !claims_->Claim(task->seq)) continue;
        return true;
      }
      try {
        while (conn_.NextFrame(&m))
          if (auto* t = std::get_if<ExecuteMsg>(&m)) queue_.push_back(std::move(*t));
      } catch (const ProtocolError& e) {
        std::fprintf(stderr, "lumen worker: leaving: the node sent %s\n", e.what());
        return false;
      }
      if (!queue_.empty()) continue;
    }
    before_idle();
    std::lock_guard lock(mu_);
    if (!conn_.FlushBlocking()) return false;
    if (!conn_.ReadBlocking(-1)) return false;
  }
}

void WorkerLink::ReadForever(const std::function<void(ExecuteMsg)>& on_task) {
  {
    std::lock_guard lock(mu_);
    reader_mode_ = true;
    for (ExecuteMsg& t : queue_) on_task(std::move(t));
    queue_.clear();
  }
  Message m;
  for (;;) {
    try {
      // Reading touches only the connection's input side; senders hold mu_.
      while (conn_.NextFrame(&m)) {
        if (auto* task = std::get_if<ExecuteMsg>(&m)) {
          on_task(std::move(*task));
        } else if (uint64_t request = RequestAnswered(m)) {
          std::lock_guard lock(mu_);
          replies_[request] = std::move(m);
          reply_cv_.notify_all();
        }
      }
    } catch (const ProtocolError& e) {
      std::fprintf(stderr, "lumen worker: leaving: the node sent %s\n", e.what());
      Exit();
    }
    if (!conn_.ReadBlocking(-1)) Exit();
  }
}

}  // namespace lumen::internal
