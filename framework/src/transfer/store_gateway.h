// A node's object store served to a node on another host (the head) over a
// tunnel (protocol/tls_tunnel.h, service kStore), so that the head's object
// transfer (object_transfer.h) copies to and from it as from a store of its
// own host (remote_store.h is the other end). A put's bytes are read
// straight into this store's segment, a get's written straight from it, in
// chunks: never one message, never a copy in between.
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
  // How long a peer may go without sending or taking a byte while a request
  // is under way before the gateway drops it.
  std::chrono::milliseconds stall_within = std::chrono::seconds(30);
  // How many connections it serves at once (a thread each).
  size_t max_connections = 64;
};

class StoreGateway {
 public:
  explicit StoreGateway(std::shared_ptr<storage::ObjectStore> store, StoreGatewayOptions options = {})
      : store_(std::move(store)), options_(options) {}
  ~StoreGateway();  // ends every connection and waits for its thread

  // Takes `fd` (a tunnel's near end): a thread of its own answers it until it
  // closes or sends something malformed (then logged and closed).
  void Serve(int fd, const std::string& from);

 private:
  struct Connection {
    int fd;
    std::string from;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void Answer(Connection& c);

  std::shared_ptr<storage::ObjectStore> store_;
  const StoreGatewayOptions options_;
  std::mutex mu_;  // guards connections_
  std::list<Connection> connections_;
  bool stopping_ = false;
};

}  // namespace lumen::internal
