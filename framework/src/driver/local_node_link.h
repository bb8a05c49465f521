// The embedded driver's link to the node manager in its own process: the
// same messages a worker sends, handed over by a call instead of a socket.
#pragma once

#include "client/node_link.h"
#include "client/reply_box.h"

namespace lumen::internal {

class NodeManager;

class LocalNodeLink : public NodeLink {
 public:
  // Registers with `node` as its local client; `node` outlives the link.
  explicit LocalNodeLink(NodeManager& node);

  void Send(std::span<Message> messages) override;
  Message AwaitReply(uint64_t request) override;

 private:
  NodeManager& node_;
  ReplyBox box_;  // replies made by another thread than the sender's
};

}  // namespace lumen::internal
