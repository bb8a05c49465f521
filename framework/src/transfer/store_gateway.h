// A node's object store served to a node on another host (the head) over a
// tunnel (protocol/tls_tunnel.h, service kStore), so that the head's object
// transfer (object_transfer.h) copies to and from it as from a store of its
// own host (remote_store.h is the other end). A put's bytes are read
// straight into this store's segment, a get's written straight from it, in
// chunks: never one message, never a copy in between. Nothing it does
// waits unbounded but the wait for a next request (StoreGatewayOptions).
#pragma once

#include <atomic>
#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "lumen/storage/object_store.h"

namespace lumen::internal {

struct StoreGatewayOptions {
  // How long a peer may go without sending or taking a byte once a request
  // has begun (its first byte, up to the last of its object's bytes) before
  // the gateway ends the connection, logged. Between requests it waits as
  // long as the peer likes.
  std::chrono::milliseconds stall_within = std::chrono::seconds(30);
  // How many connections it serves at once, a thread each. A newcomer at the
  // cap ends the one that has been silent longest in the middle of a request
  // line, else the one idle longest (a peer reconnects on its next call), so
  // that silent peers cannot keep an honest one out; only when every one is
  // moving an object's bytes is the newcomer refused.
  size_t max_connections = 256;
};

class StoreGateway {
 public:
  explicit StoreGateway(std::shared_ptr<storage::ObjectStore> store, StoreGatewayOptions options = {})
      : store_(std::move(store)), options_(options) {}
  ~StoreGateway();  // ends every connection and waits for its thread

  // Takes `fd` (a tunnel's near end): a thread of its own answers it until it
  // closes, sends something malformed or stalls (then logged and closed), or
  // it is ended to make room for another. Call from one thread at a time or many.
  void Serve(int fd, const std::string& from);

 private:
  using Clock = std::chrono::steady_clock;
  // What a connection's thread does, changed only by compare-and-swap, so
  // that Serve never ends one that has moved on to serving a request.
  enum class Phase { kIdle, kReading, kServing, kEnding };
  struct Connection {
    int fd;
    std::string from;
    std::thread thread;
    std::atomic<bool> done{false};
    std::atomic<Phase> phase{Phase::kIdle};
    std::atomic<Clock::time_point> since{Clock::now()};  // when it entered `phase`
    bool Move(Phase from, Phase to);  // false if it was not in `from`
  };
  void Answer(Connection& c);
  // Ends one connection for `from` (see max_connections); false if none may be.
  bool MakeRoomLocked(const std::string& from);

  std::shared_ptr<storage::ObjectStore> store_;
  const StoreGatewayOptions options_;
  std::mutex mu_;  // guards connections_ (the list; each one's atomics are its thread's), stopping_
  std::list<Connection> connections_;
  bool stopping_ = false;
};

}  // namespace lumen::internal
