#include "client/joined_node_link.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lumen/errors.h"

namespace lumen::internal {

JoinedNodeLink::JoinedNodeLink(const std::string& socket_path) : socket_path_(socket_path) {
  int fd = ConnectUnix(socket_path);
  if (fd < 0) throw Error("cannot reach the node at " + socket_path + ": " + std::strerror(errno));
  conn_ = std::make_unique<Connection>(fd);
  reader_ = std::thread([this] { Read(); });
}

JoinedNodeLink::~JoinedNodeLink() {
  ::shutdown(conn_->fd(), SHUT_RDWR);  // the reader wakes to EOF
  reader_.join();
}

void JoinedNodeLink::Send(std::span<Message> messages) {
  std::lock_guard lock(send_mu_);
  for (const Message& m : messages) conn_->Queue(m);
  // A node that is gone fails the replies awaited (the reader sees EOF);
  // what needs none (a reference dropped in a destructor) is moot: no throw.
  (void)conn_->FlushBlocking();
}

Message JoinedNodeLink::AwaitReply(uint64_t request) { return box_.Await(request); }

void JoinedNodeLink::Read() {
  Message m;
  std::string why = "the node at " + socket_path_ + " is gone (its daemon stopped or died)";
  for (;;) {
    try {
      while (conn_->NextFrame(&m)) box_.Deliver(std::move(m));
    } catch (const ProtocolError& e) {
      why = "the node at " + socket_path_ + " sent " + e.what();
      break;
    }
    if (!conn_->ReadBlocking(-1)) break;
  }
  box_.Close("lumen: " + why);
}

}  // namespace lumen::internal
