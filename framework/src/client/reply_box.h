// Where replies wait for the thread that asked: one thread delivers each
// reply (a reader of the socket, or the node in process), the asker takes
// it by its request number. Once closed (the node is gone), every waiter,
// now and later, gets lumen::Error with the reason.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "lumen/errors.h"
#include "protocol/messages.h"

namespace lumen::internal {

class ReplyBox {
 public:
  void Deliver(Message reply) {
    std::lock_guard lock(mu_);
    replies_[RequestAnswered(reply)] = std::move(reply);
    cv_.notify_all();
  }
  void Close(std::string why) {
    std::lock_guard lock(mu_);
    if (!closed_) closed_ = std::move(why);
    cv_.notify_all();
  }
  // Blocks until Close.
  void AwaitClosed() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return closed_.has_value(); });
  }
  Message Await(uint64_t request) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return replies_.count(request) > 0 || closed_; });
    auto it = replies_.find(request);
    if (it == replies_.end()) throw Error(*closed_);
    Message reply = std::move(it->second);
    replies_.erase(it);
    return reply;
  }

 private:
  std::mutex mu_;  // guards replies_, closed_
  std::condition_variable cv_;
  std::map<uint64_t, Message> replies_;
  std::optional<std::string> closed_;
};

}  // namespace lumen::internal
