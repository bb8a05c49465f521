// A joined driver's link to its host's node (and a node daemon's
// registration with its head): one Unix socket to the node's daemon. Any
// thread sends (in order, under one lock); a reader thread of the link's own
// hands each reply to the thread that waits for it, and keeps the link's
// heartbeat (protocol/heartbeat.h). When the node goes (its daemon stopped,
// was killed, or was silent past the liveness timeout), every wait and every
// later call fails with lumen::Error naming the node; nothing waits forever
// on a socket that closed or a node that stopped.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "client/node_link.h"
#include "client/reply_box.h"
#include "lumen/storage/object_store.h"
#include "protocol/connection.h"
#include "protocol/heartbeat.h"

namespace lumen::internal {

class JoinedNodeLink : public NodeLink {
 public:
  // What the link sends to keep itself alive (a heartbeat the node answers
  // with Pong): a node daemon's registration sends its NodeLoadMsg.
  using Heartbeat = std::function<Message()>;
  // What the node asks of this client unasked, and the answer if any: a
  // head's requests to a registered node about its bundles (PrepareBundles,
  // CommitBundles, ReturnBundles), called on the reader thread. Empty: such
  // a message is a protocol error.
  using Commands = std::function<std::optional<Message>(const Message&)>;
  // Connects to the node's socket, or to a node of another host at its
  // tls:// address through a tunnel keyed by `secret` (protocol/tls_tunnel.h);
  // throws lumen::Error if nothing serves it or the handshake fails.
  // `heartbeat` is called on the link's reader thread; empty: PingMsg.
  explicit JoinedNodeLink(const std::string& socket_path, int64_t liveness_timeout_ms = NodeLivenessTimeoutMs(),
                          Heartbeat heartbeat = {}, const std::string& secret = "", Commands commands = {});
  // Closes the socket (the node then ends this driver's job) and stops the reader.
  ~JoinedNodeLink() override;

  void Send(std::span<Message> messages) override;
  Message AwaitReply(uint64_t request) override;
  // Closes the socket: the node sees this client leave; waits fail.
  void Close();
  // Blocks until the node is gone (its socket closed).
  void AwaitClosed() { box_.AwaitClosed(); }
  // Set once closed if the node said why it stopped on purpose (GoodbyeMsg).
  std::optional<std::string> goodbye() const;
  // `store` is served by this node's daemon too: once the link closes (the
  // node gone, or declared dead by the heartbeat), a store call waiting for
  // its answer fails at once, and every later one, rather than wait out the
  // store's reply timeout (60 s) on a daemon that stopped. At once if the
  // link is closed already. The link does not keep the store alive.
  void CutOffWithIt(std::weak_ptr<storage::ObjectStore> store);

 private:
  void Read();
  void Ping();

  std::string socket_path_;
  int64_t liveness_timeout_ms_;
  Heartbeat heartbeat_;
  Commands commands_;
  // The reader alone touches conn_'s reading side, senders (under send_mu_)
  // its writing side: the two share no state.
  std::unique_ptr<Connection> conn_;
  std::mutex send_mu_;
  ReplyBox box_;
  mutable std::mutex goodbye_mu_;  // guards goodbye_
  std::optional<std::string> goodbye_;
  std::mutex cut_off_mu_;  // guards closed_, cut_off_
  bool closed_ = false;
  std::weak_ptr<storage::ObjectStore> cut_off_;
  std::thread reader_;
};

}  // namespace lumen::internal
