// How a client core reaches its node: a worker over its Unix socket (worker/),
// a joined driver likewise, the embedded driver in process. The core decides
// what to say; the link only carries it, in order.
#pragma once

#include <cstdint>
#include <span>

#include "protocol/messages.h"

namespace lumen::internal {

class NodeLink {
 public:
  virtual ~NodeLink() = default;
  // Sends `messages` in this order, before any later Send.
  virtual void Send(std::span<Message> messages) = 0;
  // Blocks until the node's reply to the request numbered `request` (sent
  // before) arrives; returns it.
  virtual Message AwaitReply(uint64_t request) = 0;
};

}  // namespace lumen::internal
