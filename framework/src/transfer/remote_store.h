// The object store of a node on another host, as an ObjectStore of this one:
// each call is a request to that node's store gateway (store_gateway.h) over
// a tunnel (protocol/tls_tunnel.h), so the object transfer copies across
// hosts as it copies between two segments of one. Get brings an object's
// bytes into this process's memory (held until Release); Create hands out a
// buffer here that Seal sends. Connects on first use and again after a
// connection fails, never after Disconnect. Every call is bounded.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "lumen/storage/object_store.h"
#include "lumen/transfer/store_gateway.capnp.h"

namespace lumen::internal {

class RemoteStore : public storage::ObjectStore {
 public:
  // `patience`: how long a call may go without progress before it fails.
  RemoteStore(std::string address, std::string secret, std::chrono::milliseconds patience = std::chrono::seconds(30))
      : address_(std::move(address)), secret_(std::move(secret)), patience_(patience) {}
  ~RemoteStore() override;

  Status Create(const ObjectID& id, size_t size, bool reconstructable, uint8_t** data) override;
  // Sends what Create handed out; an object the other node has already is OK (objects are immutable).
  Status Seal(const ObjectID& id) override;
  Status Abort(const ObjectID& id) override;
  Status Get(const ObjectID& id, storage::ObjectBuffer* out) override;
  Status Release(const ObjectID& id) override;
  Status Delete(const ObjectID& id) override;
  bool Contains(const ObjectID& id) override;
  storage::StoreStats Stats() override;
  void Disconnect() override;  // a call under way fails now, and every later one

  // Fills in a request (schema/store_gateway.capnp).
  using Build = std::function<void(lumen::store_gateway::StoreRequest::Builder)>;

 private:
  struct Created {
    std::vector<uint8_t> bytes;
    bool reconstructable = false;
  };
  struct Held {
    std::vector<uint8_t> bytes;
    int pins = 0;
  };
  Status ConnectedLocked();
  // The call's own status (the connection, a malformed reply) as result; the store's answer in *answer.
  Status AskLocked(const Build& build, Status* answer, uint64_t* size = nullptr, bool* contains = nullptr,
                   storage::StoreStats* stats = nullptr);
  void DropConnectionLocked();

  const std::string address_, secret_;
  const std::chrono::milliseconds patience_;
  std::mutex mu_;      // guards the maps; held through each request: one at a time
  std::mutex fd_mu_;   // guards disconnected_, held briefly (Disconnect takes only it); fd_ is
                       // written under both locks, so read under either
  int fd_ = -1;
  bool disconnected_ = false;
  std::map<ObjectID, Created> created_;
  std::map<ObjectID, Held> held_;
};

// `where` is a store socket of this host, or the tls:// address of another
// host's node: the store there, connected to with the cluster's `secret`.
Status ConnectToAnyStore(const std::string& where, const std::string& secret,
                         std::shared_ptr<storage::ObjectStore>* out);

}  // namespace lumen::internal
