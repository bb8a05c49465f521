#include "transfer/store_gateway.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "transfer/gateway_wire.h"

namespace lumen::internal {

namespace {

namespace wire = lumen::store_gateway;

// The id a request names; a request without one is malformed.
ObjectID IdOf(capnp::Data::Reader bytes) {
  ObjectID id;
  if (!gateway::ReadId(bytes, &id)) throw std::invalid_argument("an object id of " + std::to_string(bytes.size()) + " bytes");
  return id;
}

// Writes a reply: the status, and for a get the size that follows.
Status Reply(int fd, gateway::Patience patience, const Status& s, uint64_t size = 0, bool contains = false,
             const storage::StoreStats* stats = nullptr) {
  capnp::MallocMessageBuilder message;
  auto reply = message.initRoot<wire::StoreReply>();
  reply.setCode(static_cast<uint8_t>(s.code()));
  reply.setMessage(s.message());
  reply.setSize(size);
  reply.setContains(contains);
  if (stats) {
    auto out = reply.initStats();
    out.setCapacityBytes(stats->capacity_bytes);
    out.setUsedBytes(stats->used_bytes);
    out.setNumObjects(stats->num_objects);
    out.setNumSpilled(stats->num_spilled);
    out.setEvictions(stats->evictions);
    out.setSpills(stats->spills);
    out.setSpilledBytes(stats->spilled_bytes);
    out.setRestores(stats->restores);
    out.setPinnedBytes(stats->pinned_bytes);
    out.setNumClients(stats->num_clients);
  }
  return gateway::WriteMessage(fd, message, patience);
}

// Reads the `size` bytes of a put into `data`, chunk by chunk, each
// acknowledged as it arrives: the sender's wait for the last reply is then
// bounded from the last byte we took, as every other wait is.
Status Receive(int fd, gateway::Patience patience, uint8_t* data, uint64_t size) {
  for (uint64_t done = 0; done < size;) {
    size_t n = std::min<uint64_t>(size - done, gateway::kChunkBytes);
    if (Status s = gateway::ReadBytes(fd, data + done, n, patience); !s.ok()) return s;
    done += n;
    if (Status s = Reply(fd, patience, Status::OK(), done); !s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace

StoreGateway::~StoreGateway() {
  std::lock_guard lock(mu_);
  stopping_ = true;
  for (Connection& c : connections_) ::shutdown(c.fd, SHUT_RDWR);  // its thread wakes to EOF
  for (Connection& c : connections_) c.thread.join(), ::close(c.fd);
}

bool StoreGateway::Connection::Move(Phase from, Phase to) {
  if (!phase.compare_exchange_strong(from, to)) return false;
  since = Clock::now();
  return true;
}

void StoreGateway::Serve(int fd, const std::string& from) {
  std::lock_guard lock(mu_);
  if (stopping_) {
    ::close(fd);
    return;
  }
  connections_.remove_if([](Connection& c) {  // those that ended: joined now
    if (!c.done) return false;
    c.thread.join();
    ::close(c.fd);
    return true;
  });
  size_t open = std::count_if(connections_.begin(), connections_.end(),
                              [](const Connection& c) { return c.phase != Phase::kEnding; });
  if (open >= options_.max_connections && !MakeRoomLocked(from)) {
    std::fprintf(stderr, "lumen: refused the store connection from %s: all %zu it serves at once are moving bytes\n",
                 from.c_str(), open);
    ::close(fd);
    return;
  }
  Connection& c = connections_.emplace_back();
  c.fd = fd;
  c.from = from;
  c.thread = std::thread([this, &c] { Answer(c); });
}

bool StoreGateway::MakeRoomLocked(const std::string& from) {
  for (Phase phase : {Phase::kReading, Phase::kIdle}) {
    for (;;) {
      Connection* oldest = nullptr;
      for (Connection& c : connections_)
        if (c.phase == phase && (!oldest || c.since.load() < oldest->since.load())) oldest = &c;
      if (!oldest) break;
      auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - oldest->since.load());
      if (!oldest->Move(phase, Phase::kEnding)) continue;  // it moved on meanwhile: look again
      std::fprintf(stderr, "lumen: closed the store connection from %s (%s for %lld ms) to serve one from %s\n",
                   oldest->from.c_str(), phase == Phase::kReading ? "a request half sent" : "idle",
                   static_cast<long long>(silent.count()), from.c_str());
      ::shutdown(oldest->fd, SHUT_RDWR);  // its thread wakes to EOF and ends
      return true;
    }
  }
  return false;
}

// Between requests the wait is unbounded (an idle peer is no cost but a
// slot); from a request's first byte on, every wait is bounded by
// stall_within from the last byte that moved.
void StoreGateway::Answer(Connection& c) {
  const int fd = c.fd;
  const gateway::Patience patience = options_.stall_within;
  std::string why;
  for (;; c.Move(Phase::kServing, Phase::kIdle)) {
    Status s = gateway::AwaitBytes(fd, gateway::kForever);
    if (!s.ok() || !c.Move(Phase::kIdle, Phase::kReading)) {  // not kIdle: ended to make room
      if (!s.ok()) why = s.message();
      break;
    }
    std::unique_ptr<capnp::FlatArrayMessageReader> reader;
    kj::Array<capnp::word> words;
    s = gateway::ReadMessage(fd, &reader, &words, patience);
    if (!s.ok()) {
      if (s.code() == StatusCode::kTimedOut)
        why = "a request half sent, then nothing for " + std::to_string(patience.count()) + " ms";
      else if (s.code() != StatusCode::kDisconnected)
        why = s.message();
      break;
    }
    if (!c.Move(Phase::kReading, Phase::kServing)) break;
    try {
      auto request = reader->getRoot<wire::StoreRequest>();
      ObjectID id;
      switch (request.which()) {
        case wire::StoreRequest::GET: {
          id = IdOf(request.getGet());
          storage::ObjectBuffer buffer;
          s = store_->Get(id, &buffer);
          if (!s.ok()) {
            s = Reply(fd, patience, s);
            break;
          }
          s = Reply(fd, patience, Status::OK(), buffer.size);
          for (uint64_t done = 0; s.ok() && done < buffer.size; done += gateway::kChunkBytes)
            s = gateway::WriteBytes(fd, buffer.data + done, std::min<uint64_t>(buffer.size - done, gateway::kChunkBytes),
                                    patience);
          (void)store_->Release(id);
          break;
        }
        case wire::StoreRequest::PUT: {
          auto put = request.getPut();
          id = IdOf(put.getId());
          uint8_t* data = nullptr;
          Status created = store_->Create(id, put.getSize(), put.getReconstructable(), &data);
          s = Reply(fd, patience, created);  // the bytes follow only once there is room for them
          if (s.ok() && created.ok()) s = Receive(fd, patience, data, put.getSize());
          if (!s.ok()) {
            if (created.ok()) (void)store_->Abort(id);
            break;
          }
          if (created.ok()) s = Reply(fd, patience, store_->Seal(id));
          break;
        }
        case wire::StoreRequest::CONTAINS:
          id = IdOf(request.getContains());
          s = Reply(fd, patience, Status::OK(), 0, store_->Contains(id));
          break;
        case wire::StoreRequest::DELETE:
          id = IdOf(request.getDelete());
          s = Reply(fd, patience, store_->Delete(id));
          break;
        case wire::StoreRequest::STATS: {
          storage::StoreStats stats = store_->Stats();
          s = Reply(fd, patience, Status::OK(), 0, false, &stats);
          break;
        }
        default:
          throw std::invalid_argument("an unknown request");
      }
    } catch (const kj::Exception& e) {
      why = std::string("a malformed request: ") + e.getDescription().cStr();
      break;
    } catch (const std::invalid_argument& e) {
      why = std::string("a malformed request: ") + e.what();
      break;
    }
    if (!s.ok()) {
      if (s.code() == StatusCode::kTimedOut)
        why = "a request under way, then no byte moved for " + std::to_string(patience.count()) + " ms";
      else if (s.code() != StatusCode::kDisconnected)
        why = s.message();
      break;
    }
  }
  if (!why.empty()) std::fprintf(stderr, "lumen: closed the store connection from %s: %s\n", c.from.c_str(), why.c_str());
  ::shutdown(fd, SHUT_RDWR);  // the peer sees it end now; the fd is closed when the thread is joined
  c.phase = Phase::kEnding;
  c.done = true;
}

}  // namespace lumen::internal
