// The embedded driver's link to the node manager in its own process: the
// same messages a worker sends, handed over by a call instead of a socket.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>

#include "client/node_link.h"

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
  std::mutex mu_;  // guards replies_
  std::condition_variable replied_;
  std::map<uint64_t, Message> replies_;
};

}  // namespace lumen::internal
