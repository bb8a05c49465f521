#include "transfer/object_transfer.h"

#include <cstring>

namespace lumen::internal {

ObjectTransfer::ObjectTransfer() : thread_([this] { Run(); }) {}

ObjectTransfer::~ObjectTransfer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void ObjectTransfer::Copy(std::shared_ptr<storage::ObjectStore> from, std::shared_ptr<storage::ObjectStore> to,
                          const ObjectID& id, bool reconstructable, Done done) {
  {
    std::lock_guard lock(mu_);
    for (Job& job : queue_)
      if (job.id == id && job.to == to) {  // the same copy, asked for again before it ran
        job.done.push_back(std::move(done));
        return;
      }
    queue_.push_back(Job{std::move(from), std::move(to), id, reconstructable, {}});
    queue_.back().done.push_back(std::move(done));
  }
  cv_.notify_one();
}

Status ObjectTransfer::CopyNow(storage::ObjectStore& from, storage::ObjectStore& to, const ObjectID& id,
                               bool reconstructable, uint64_t* size) {
  storage::ObjectBuffer source;
  Status s = from.Get(id, &source);
  if (!s.ok()) return s;
  *size = source.size;
  uint8_t* target = nullptr;
  s = to.Create(id, source.size, reconstructable, &target);
  if (s.code() == StatusCode::kAlreadyExists) {
    (void)from.Release(id);
    return Status::OK();
  }
  if (s.ok()) {
    std::memcpy(target, source.data, source.size);
    s = to.Seal(id);
  }
  (void)from.Release(id);
  return s;
}

void ObjectTransfer::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    uint64_t size = 0;
    Status s = CopyNow(*job.from, *job.to, job.id, job.reconstructable, &size);
    for (Done& done : job.done) done(s, size);
    lock.lock();
  }
}

}  // namespace lumen::internal
