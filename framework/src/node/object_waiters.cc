// Every function here REQUIRES NodeManager's mu_ (object_waiters.h).
#include "node/object_waiters.h"

namespace lumen::internal {

std::pair<uint64_t, const ObjectRequest&> ObjectWaiters::File(ObjectRequest request, int remaining) {
  uint64_t key = next_key_++;
  bool expires = request.deadline != Clock::time_point::max();
  if (expires) deadlines_.emplace(request.deadline, key);
  auto it = requests_.emplace(key, Filed{std::move(request), remaining}).first;
  if (expires) next_deadline_ = deadlines_.begin()->first;
  return {key, it->second.request};
}

std::vector<ObjectRequest> ObjectWaiters::Completed(const ObjectID& id) {
  std::vector<ObjectRequest> due;
  auto waiting = waiting_.find(id);
  if (waiting == waiting_.end()) return due;
  std::vector<uint64_t> keys = std::move(waiting->second);
  waiting_.erase(waiting);
  for (uint64_t key : keys) {
    auto r = requests_.find(key);
    if (r == requests_.end() || --r->second.remaining > 0) continue;  // answered already, or wants more
    due.push_back(std::move(r->second.request));
    requests_.erase(r);
  }
  return due;
}

std::vector<ObjectRequest> ObjectWaiters::Expired(Clock::time_point now) {
  std::vector<ObjectRequest> due;
  if (deadlines_.empty() || deadlines_.begin()->first > now) return due;
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    auto r = requests_.find(deadlines_.begin()->second);
    deadlines_.erase(deadlines_.begin());
    if (r == requests_.end()) continue;  // answered or dropped before its deadline
    due.push_back(std::move(r->second.request));
    requests_.erase(r);
  }
  next_deadline_ = deadlines_.empty() ? Clock::time_point::max() : deadlines_.begin()->first;
  return due;
}

void ObjectWaiters::DropClient(int client) {
  std::erase_if(requests_, [&](const auto& kv) { return kv.second.request.client == client; });
}

}  // namespace lumen::internal
