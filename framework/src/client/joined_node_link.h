// A joined driver's link to its host's node: one Unix socket to the node's
// daemon. Any thread sends (in order, under one lock); a reader thread of
// the link's own hands each reply to the thread that waits for it. When the
// node goes (its daemon stopped or was killed), every wait and every later
// call fails with lumen::Error naming the node; nothing waits forever on a
// socket that closed.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "client/node_link.h"
#include "client/reply_box.h"
#include "protocol/connection.h"

namespace lumen::internal {

class JoinedNodeLink : public NodeLink {
 public:
  // Connects to the node's socket; throws lumen::Error if nothing serves it.
  explicit JoinedNodeLink(const std::string& socket_path);
  // Closes the socket (the node then ends this driver's job) and stops the reader.
  ~JoinedNodeLink() override;

  void Send(std::span<Message> messages) override;
  Message AwaitReply(uint64_t request) override;
  // Blocks until the node is gone (its socket closed).
  void AwaitClosed() { box_.AwaitClosed(); }

 private:
  void Read();

  std::string socket_path_;
  // The reader alone touches conn_'s reading side, senders (under send_mu_)
  // its writing side: the two share no state.
  std::unique_ptr<Connection> conn_;
  std::mutex send_mu_;
  ReplyBox box_;
  std::thread reader_;
};

}  // namespace lumen::internal
