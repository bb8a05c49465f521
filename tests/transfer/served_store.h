// What the transfer tests share: a real store served by a store gateway
// behind a real tunnel entrance on the loopback, as a node serves its store
// to other hosts (node_manager_peers.cc), and the frames a peer would send.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "../storage/lineage/temp_dir.h"
#include "lumen/storage/object_store.h"
#include "protocol/tls_tunnel.h"
#include "runtime/poll_until.h"
#include "transfer/gateway_wire.h"
#include "transfer/store_gateway.h"

namespace lumen::internal::testing {

inline constexpr char kSecret[] = "a cluster's secret, 32 bytes or so";

inline ObjectID Id(uint8_t n) {
  uint8_t bytes[ObjectID::kSize] = {};
  bytes[0] = n;
  return ObjectID::FromBinary(bytes);
}

// A store of `capacity` bytes under `dir`, its gateway and the entrance to it.
// Call Start (ASSERTs) first; destroyed in the order a node stops them.
struct ServedStore {
  void Start(const std::string& dir, StoreGatewayOptions options = {}, size_t capacity = size_t{64} << 20) {
    storage::StoreConfig config;
    config.label = "served-store-test";
    config.socket_path = dir + "/store.sock";
    config.capacity_bytes = capacity;
    config.spill_dir = dir + "/spill";
    ASSERT_TRUE(storage::StoreServer::Start(config, &server).ok());
    far = server->LocalClient();
    gateway = std::make_unique<StoreGateway>(far, options);
    std::string why;
    entrance = TunnelEntrance::Listen(
        "127.0.0.1", 0, kSecret, [this](TunnelService, int fd, const std::string& from) { gateway->Serve(fd, from); },
        &why);
    ASSERT_TRUE(entrance) << why;
  }
  ~ServedStore() {
    entrance.reset();
    gateway.reset();
  }

  std::unique_ptr<storage::StoreServer> server;
  std::shared_ptr<storage::ObjectStore> far;  // the served store, as its own node sees it
  std::unique_ptr<StoreGateway> gateway;
  std::unique_ptr<TunnelEntrance> entrance;
};

// A request as it goes on the wire: its size (uint32), then the message.
inline std::string Framed(const std::function<void(lumen::store_gateway::StoreRequest::Builder)>& build) {
  capnp::MallocMessageBuilder message;
  build(message.initRoot<lumen::store_gateway::StoreRequest>());
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  uint32_t size = static_cast<uint32_t>(bytes.size());
  return std::string(reinterpret_cast<const char*>(&size), sizeof size) +
         std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// Reads and drops what arrives on `fd` until it ends: true if it ended (EOF
// or reset) before `deadline`, false if it was still open then.
inline bool EndsBefore(int fd, std::chrono::steady_clock::time_point deadline) {
  char sink[4096];
  for (;;) {
    if (PollUntil(fd, POLLIN, deadline) != PollResult::kReady) return false;
    ssize_t n = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
  }
}

}  // namespace lumen::internal::testing
