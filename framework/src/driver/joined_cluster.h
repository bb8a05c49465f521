// A driver that joins a cluster a daemon serves (Config::address or
// LUMEN_ADDRESS): it finds the cluster's node on this machine, connects to
// its socket, presents the cluster's secret and says which binary its
// workers run; then it is a client like any worker, through the one client
// core. Its leaving (Shutdown, exit, a kill) ends its job at the node.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "lumen/config.h"
#include "lumen/storage/object_store.h"
#include "client/joined_node_link.h"

namespace lumen::internal {

struct JoinedCluster {
  std::string address;
  std::string session_dir;  // the daemon's
  std::string ns;
  std::string node_name;
  std::map<std::string, double> resources;
  std::string dashboard_url;
  std::unique_ptr<JoinedNodeLink> link;
  std::shared_ptr<storage::ObjectStore> store;
  std::atomic<uint64_t> next_request{1ull << 62};  // requests of its own (Join, Flush), apart from the core's
};

// Throws lumen::Error saying why it cannot join (no cluster at the address
// on this machine, refused, the node gone).
std::unique_ptr<JoinedCluster> JoinCluster(const Config& config, const std::string& address);
// lumen::Flush for a joined driver: the node makes what it acknowledged durable.
void FlushJoined(JoinedCluster& cluster);

}  // namespace lumen::internal
