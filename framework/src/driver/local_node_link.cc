#include "driver/local_node_link.h"

#include <vector>

#include "node/node_manager.h"

namespace lumen::internal {
namespace {

// Most replies come back inside Send, on the sending thread (the objects
// were ready): they wait here for that thread's AwaitReply, without a lock
// or a wake-up. Replies that come later come from the node's I/O thread.
thread_local const LocalNodeLink* t_sending = nullptr;
thread_local std::vector<Message> t_replies;

}  // namespace

LocalNodeLink::LocalNodeLink(NodeManager& node) : node_(node) {
  node_.ConnectLocalClient([this](Message& reply) {
    if (t_sending == this) {
      t_replies.push_back(std::move(reply));
      return;
    }
    box_.Deliver(std::move(reply));
  });
}

void LocalNodeLink::Send(std::span<Message> messages) {
  t_sending = this;
  node_.HandleLocal(messages);
  t_sending = nullptr;
}

Message LocalNodeLink::AwaitReply(uint64_t request) {
  for (auto it = t_replies.begin(); it != t_replies.end(); ++it) {
    if (RequestAnswered(*it) != request) continue;
    Message reply = std::move(*it);
    t_replies.erase(it);
    return reply;
  }
  return box_.Await(request);
}

}  // namespace lumen::internal
