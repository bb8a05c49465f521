#include "transfer/remote_store.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

#include "protocol/tls_tunnel.h"
#include "transfer/gateway_wire.h"

namespace lumen::internal {

namespace {

namespace wire = lumen::store_gateway;

using Build = RemoteStore::Build;

Status Send(int fd, gateway::Patience patience, const Build& build) {
  capnp::MallocMessageBuilder message;
  build(message.initRoot<wire::StoreRequest>());
  return gateway::WriteMessage(fd, message, patience);
}

// A reply: its status in *status; what the call returns (not OK if the
// connection failed or the reply was malformed) as the result.
Status Receive(int fd, gateway::Patience patience, Status* status, uint64_t* size = nullptr, bool* contains = nullptr,
               storage::StoreStats* stats = nullptr) {
  std::unique_ptr<capnp::FlatArrayMessageReader> reader;
  kj::Array<capnp::word> words;
  if (Status s = gateway::ReadMessage(fd, &reader, &words, patience); !s.ok()) return s;
  try {
    auto reply = reader->getRoot<wire::StoreReply>();
    if (reply.getCode() > static_cast<uint8_t>(StatusCode::kPermissionDenied))
      return {StatusCode::kInvalid, "the other node's store answered with an unknown code"};
    *status = Status(static_cast<StatusCode>(reply.getCode()), reply.getMessage());
    if (size) *size = reply.getSize();
    if (contains) *contains = reply.getContains();
    if (stats) {
      auto in = reply.getStats();
      stats->capacity_bytes = in.getCapacityBytes();
      stats->used_bytes = in.getUsedBytes();
      stats->num_objects = in.getNumObjects();
      stats->num_spilled = in.getNumSpilled();
      stats->evictions = in.getEvictions();
      stats->spills = in.getSpills();
      stats->spilled_bytes = in.getSpilledBytes();
      stats->restores = in.getRestores();
      stats->pinned_bytes = in.getPinnedBytes();
      stats->num_clients = in.getNumClients();
    }
  } catch (const kj::Exception& e) {
    return {StatusCode::kInvalid, std::string("a malformed reply: ") + e.getDescription().cStr()};
  }
  return Status::OK();
}

// A get's `size` bytes into `data`.
Status ReceiveBytes(int fd, gateway::Patience patience, uint8_t* data, uint64_t size) {
  for (uint64_t done = 0; done < size;) {
    size_t n = std::min<uint64_t>(size - done, gateway::kChunkBytes);
    if (Status s = gateway::ReadBytes(fd, data + done, n, patience); !s.ok()) return s;
    done += n;
  }
  return Status::OK();
}

// A put's `size` bytes, no more than kPutAheadChunks ahead of the gateway's
// acknowledgements. Each is progress: the wait for the last one (and for the
// reply after it) ends only if the gateway takes nothing for `patience`, not
// `patience` after our last write, while what that write buffered still
// crosses a slow path.
Status SendBytes(int fd, gateway::Patience patience, const uint8_t* data, uint64_t size) {
  constexpr uint64_t kAhead = gateway::kPutAheadChunks * gateway::kChunkBytes;
  for (uint64_t sent = 0, acknowledged = 0; acknowledged < size;) {
    if (sent < size && sent - acknowledged < kAhead) {
      size_t n = std::min<uint64_t>(size - sent, gateway::kChunkBytes);
      if (Status s = gateway::WriteBytes(fd, data + sent, n, patience); !s.ok()) return s;
      sent += n;
      continue;
    }
    Status answer;
    uint64_t received = 0;
    if (Status s = Receive(fd, patience, &answer, &received); !s.ok()) return s;
    uint64_t expected = std::min<uint64_t>(acknowledged + gateway::kChunkBytes, size);
    if (!answer.ok() || received != expected)
      return {StatusCode::kInvalid, "the other node's store acknowledged " + std::to_string(received) +
                                        " bytes of a put where " + std::to_string(expected) + " were due"};
    acknowledged = received;
  }
  return Status::OK();
}

}  // namespace

RemoteStore::~RemoteStore() {
  std::lock_guard lock(fd_mu_);
  if (fd_ >= 0) ::close(fd_);
}

Status RemoteStore::ConnectedLocked() {
  {
    std::lock_guard lock(fd_mu_);
    if (disconnected_) return {StatusCode::kDisconnected, "the node at " + address_ + " is gone"};
    // Between requests nothing may arrive: a connection with something to
    // read was ended by the gateway while idle (to make room for another
    // peer, or it restarted), and is replaced here rather than failing a call.
    if (fd_ >= 0) {
      bool ended = gateway::AwaitBytes(fd_, gateway::Patience::zero()).ok();
      if (!ended) return Status::OK();
      ::close(fd_);
      fd_ = -1;
    }
  }
  std::string why;
  int fd = OpenTunnel(address_, secret_, TunnelService::kStore, kTunnelHandshakeMs, &why);
  if (fd < 0) return {StatusCode::kDisconnected, "cannot reach the store of the node at " + address_ + ": " + why};
  std::lock_guard lock(fd_mu_);
  if (disconnected_) {
    ::close(fd);
    return {StatusCode::kDisconnected, "the node at " + address_ + " is gone"};
  }
  fd_ = fd;
  return Status::OK();
}

// One request and its reply, connecting first if need be; a failed one drops the connection.
Status RemoteStore::AskLocked(const Build& build, Status* answer, uint64_t* size, bool* contains,
                              storage::StoreStats* stats) {
  Status s = ConnectedLocked();
  if (s.ok()) s = Send(fd_, patience_, build);
  if (s.ok()) s = Receive(fd_, patience_, answer, size, contains, stats);
  if (!s.ok()) DropConnectionLocked();
  return s;
}

// After a failed request the stream is in no known state: the next one starts afresh.
void RemoteStore::DropConnectionLocked() {
  std::lock_guard lock(fd_mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RemoteStore::Disconnect() {
  std::lock_guard lock(fd_mu_);
  disconnected_ = true;
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);  // a request under way fails now; its caller closes it
}

Status RemoteStore::Create(const ObjectID& id, size_t size, bool reconstructable, uint8_t** data) {
  std::lock_guard lock(mu_);
  if (created_.count(id) || held_.count(id)) return {StatusCode::kAlreadyExists, "object " + id.Hex() + " exists"};
  Created& c = created_[id];
  c.bytes.resize(size);
  c.reconstructable = reconstructable;
  *data = c.bytes.data();
  return Status::OK();
}

Status RemoteStore::Seal(const ObjectID& id) {
  std::lock_guard lock(mu_);
  auto it = created_.find(id);
  if (it == created_.end()) return {StatusCode::kNotFound, "object " + id.Hex() + " was not created here"};
  Created c = std::move(it->second);
  created_.erase(it);
  Status answer;
  Status s = AskLocked(
      [&](auto r) {
        auto put = r.initPut();
        put.setId(gateway::IdBytes(id));
        put.setSize(c.bytes.size());
        put.setReconstructable(c.reconstructable);
      },
      &answer);
  if (s.ok() && answer.ok()) s = SendBytes(fd_, patience_, c.bytes.data(), c.bytes.size());
  if (s.ok() && answer.ok()) s = Receive(fd_, patience_, &answer);
  if (!s.ok()) {
    DropConnectionLocked();
    return s;
  }
  return answer.code() == StatusCode::kAlreadyExists ? Status::OK() : answer;
}

Status RemoteStore::Abort(const ObjectID& id) {
  std::lock_guard lock(mu_);
  return created_.erase(id) ? Status::OK() : Status(StatusCode::kNotFound, "object " + id.Hex() + " was not created here");
}

Status RemoteStore::Get(const ObjectID& id, storage::ObjectBuffer* out) {
  std::lock_guard lock(mu_);
  if (auto it = held_.find(id); it != held_.end()) {
    ++it->second.pins;
    *out = {it->second.bytes.data(), it->second.bytes.size()};
    return Status::OK();
  }
  Status answer;
  uint64_t size = 0;
  Status s = AskLocked([&](auto r) { r.setGet(gateway::IdBytes(id)); }, &answer, &size);
  std::vector<uint8_t> bytes;
  if (s.ok() && answer.ok()) {
    bytes.resize(size);
    s = ReceiveBytes(fd_, patience_, bytes.data(), size);
  }
  if (!s.ok()) {
    DropConnectionLocked();
    return s;
  }
  if (!answer.ok()) return answer;
  Held& held = held_[id];
  held.bytes = std::move(bytes);
  held.pins = 1;
  *out = {held.bytes.data(), held.bytes.size()};
  return Status::OK();
}

Status RemoteStore::Release(const ObjectID& id) {
  std::lock_guard lock(mu_);
  auto it = held_.find(id);
  if (it == held_.end()) return {StatusCode::kNotFound, "object " + id.Hex() + " is not held here"};
  if (--it->second.pins == 0) held_.erase(it);
  return Status::OK();
}

Status RemoteStore::Delete(const ObjectID& id) {
  std::lock_guard lock(mu_);
  Status answer;
  Status s = AskLocked([&](auto r) { r.setDelete(gateway::IdBytes(id)); }, &answer);
  return s.ok() ? answer : s;
}

bool RemoteStore::Contains(const ObjectID& id) {
  std::lock_guard lock(mu_);
  Status answer;
  bool contains = false;
  Status s = AskLocked([&](auto r) { r.setContains(gateway::IdBytes(id)); }, &answer, nullptr, &contains);
  return s.ok() && contains;
}

storage::StoreStats RemoteStore::Stats() {
  std::lock_guard lock(mu_);
  storage::StoreStats stats;
  Status answer;
  (void)AskLocked([&](auto r) { r.setStats(); }, &answer, nullptr, nullptr, &stats);
  return stats;
}

Status ConnectToAnyStore(const std::string& where, const std::string& secret,
                         std::shared_ptr<storage::ObjectStore>* out) {
  if (!IsTlsAddress(where)) return storage::ConnectToStore(where, out);
  *out = std::make_shared<RemoteStore>(where, secret);  // connects on first use: never blocks the caller here
  return Status::OK();
}

}  // namespace lumen::internal
