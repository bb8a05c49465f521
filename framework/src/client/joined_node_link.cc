#include "client/joined_node_link.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "lumen/errors.h"
#include "protocol/tls_tunnel.h"

namespace lumen::internal {

JoinedNodeLink::JoinedNodeLink(const std::string& socket_path, int64_t liveness_timeout_ms, Heartbeat heartbeat,
                               const std::string& secret, Commands commands)
    : socket_path_(socket_path),
      liveness_timeout_ms_(liveness_timeout_ms),
      heartbeat_(std::move(heartbeat)),
      commands_(std::move(commands)) {
  std::string why;
  int fd = IsTlsAddress(socket_path) ? OpenTunnel(socket_path, secret, TunnelService::kNode, kTunnelHandshakeMs, &why)
                                     : ConnectUnix(socket_path);
  if (fd < 0 && why.empty()) why = std::strerror(errno);
  if (fd < 0) throw Error("cannot reach the node at " + socket_path + ": " + why);
  conn_ = std::make_unique<Connection>(fd);
  reader_ = std::thread([this] { Read(); });
}

JoinedNodeLink::~JoinedNodeLink() {
  Close();
  reader_.join();
}

void JoinedNodeLink::Close() { ::shutdown(conn_->fd(), SHUT_RDWR); }  // the reader wakes to EOF

void JoinedNodeLink::Send(std::span<Message> messages) {
  std::lock_guard lock(send_mu_);
  for (const Message& m : messages) conn_->Queue(m);
  // A node that is gone fails the replies awaited (the reader sees EOF, or
  // shuts the socket down when the node went silent, which ends this wait
  // on a full socket too); what needs none (a reference dropped in a
  // destructor) is moot: no throw.
  (void)conn_->FlushBlocking();
}

Message JoinedNodeLink::AwaitReply(uint64_t request) { return box_.Await(request); }

void JoinedNodeLink::CutOffWithIt(std::weak_ptr<storage::ObjectStore> store) {
  {
    std::lock_guard lock(cut_off_mu_);
    if (!closed_) {
      cut_off_ = std::move(store);
      return;
    }
  }
  if (auto s = store.lock()) s->Disconnect();
}

std::optional<std::string> JoinedNodeLink::goodbye() const {
  std::lock_guard lock(goodbye_mu_);
  return goodbye_;
}

// Never blocks the reader: a sender holding the lock is sending already, and
// what the socket cannot take now goes out with the next send.
void JoinedNodeLink::Ping() {
  Message beat = heartbeat_ ? heartbeat_() : Message(PingMsg{});  // before the lock: it may take a while
  std::unique_lock lock(send_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  conn_->Queue(beat);
  (void)conn_->Flush();
}

void JoinedNodeLink::Read() {
  using Clock = std::chrono::steady_clock;
  const auto timeout = std::chrono::milliseconds(liveness_timeout_ms_);
  const auto interval = std::chrono::milliseconds(HeartbeatIntervalMs(liveness_timeout_ms_));
  Message m;
  std::string why = "the node at " + socket_path_ + " is gone (its daemon stopped or died)";
  auto heard = Clock::now();
  auto next_ping = heard;
  for (;;) {
    try {
      while (conn_->NextFrame(&m)) {
        heard = Clock::now();
        if (std::holds_alternative<PongMsg>(m)) continue;
        if (auto* bye = std::get_if<GoodbyeMsg>(&m)) {
          std::lock_guard lock(goodbye_mu_);
          goodbye_ = bye->why;
          why = "the node at " + socket_path_ + " stopped: " + bye->why;
          continue;
        }
        if (std::holds_alternative<PrepareBundlesMsg>(m) || std::holds_alternative<CommitBundlesMsg>(m) ||
            std::holds_alternative<ReturnBundlesMsg>(m)) {
          if (!commands_) throw ProtocolError("a request about bundles, to a client that holds none");
          if (std::optional<Message> answer = commands_(m)) Send({&*answer, 1});
          continue;
        }
        box_.Deliver(std::move(m));
      }
    } catch (const ProtocolError& e) {
      why = "the node at " + socket_path_ + " sent " + e.what();
      break;
    }
    auto now = Clock::now();
    if (now - heard >= timeout) {
      why = "the node at " + socket_path_ + " did not answer for " + std::to_string(timeout.count()) +
            " ms (stopped, wedged or cut off): declared dead";
      ::shutdown(conn_->fd(), SHUT_RDWR);  // a sender blocked on a full socket wakes too
      break;
    }
    if (now >= next_ping) {
      Ping();
      next_ping = now + interval;
    }
    auto wake = std::min(next_ping, heard + timeout);
    int wait_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count()) + 1;
    if (!conn_->ReadBlocking(wait_ms) && !conn_->timed_out()) break;
  }
  box_.Close("lumen: " + why);
  std::weak_ptr<storage::ObjectStore> store;
  {
    std::lock_guard lock(cut_off_mu_);
    closed_ = true;
    store = std::move(cut_off_);
  }
  if (auto s = store.lock()) s->Disconnect();
}

}  // namespace lumen::internal
