#include "driver/joined_cluster.h"

#include <cstdlib>

#include "lumen/errors.h"
#include "driver/cluster_file.h"
#include "protocol/tls_tunnel.h"
#include "runtime/command_line.h"
#include "transfer/remote_store.h"

namespace lumen::internal {

std::unique_ptr<JoinedCluster> JoinCluster(const Config& config, const std::string& address) {
  const char* given_secret = std::getenv("LUMEN_CLUSTER_SECRET");
  // A head of this machine is joined through its sockets; any other (or an
  // address written tls://HOST:PORT) through a tunnel, with the secret given.
  auto found = IsTlsAddress(address) ? std::nullopt : FindCluster(address);
  if (!found && !given_secret) {
    std::string running;
    for (const ClusterFile& file : ClustersOnThisMachine()) running += (running.empty() ? "" : ", ") + file.address;
    throw Error("lumen::Init: no lumen cluster serves " + address +
                " on this machine (start one with `lumen start --head`" +
                (running.empty() ? "; none runs here" : "; running here: " + running) +
                "). To join the head of another host, give its cluster's secret in LUMEN_CLUSTER_SECRET");
  }
  auto cluster = std::make_unique<JoinedCluster>();
  std::string secret = given_secret ? given_secret : ReadClusterSecret(found->session_dir);
  if (found) {
    cluster->address = found->address;
    cluster->session_dir = found->session_dir;
    cluster->dashboard_url = found->dashboard_url;
    Status s = storage::ConnectToStore(found->store_socket, &cluster->store);
    if (!s.ok()) throw Error("lumen::Init: cannot reach the object store of the cluster at " + address + ": " + s.message());
    cluster->link = std::make_unique<JoinedNodeLink>(found->node_socket);
  } else {  // its node and its store at the head's port, over TLS
    std::string tunnel = TlsAddressOf(address);
    if (tunnel.empty()) throw Error("lumen::Init: the address '" + address + "' is not HOST:PORT");
    cluster->address = address;
    Status s = ConnectToAnyStore(tunnel, secret, &cluster->store);
    if (!s.ok()) throw Error("lumen::Init: cannot reach the object store of the cluster at " + address + ": " + s.message());
    cluster->link = std::make_unique<JoinedNodeLink>(tunnel, NodeLivenessTimeoutMs(), JoinedNodeLink::Heartbeat{}, secret);
  }
  // The store's server is the node's daemon: its calls end when the link does.
  cluster->link->CutOffWithIt(cluster->store);

  JoinMsg join;
  join.request = cluster->next_request++;
  join.secret = secret;
  join.binary = config.worker_binary.empty() ? OwnBinary() : config.worker_binary;
  join.argv = OwnCommandLine();
  if (!config.worker_binary.empty() && !join.argv.empty()) join.argv[0] = config.worker_binary;
  join.ns = config.ns;
  join.detached_by_default = config.default_actor_lifetime == ActorLifetime::DETACHED;
  Message m = join;
  cluster->link->Send({&m, 1});
  Message reply = cluster->link->AwaitReply(join.request);
  auto* joined = std::get_if<JoinReplyMsg>(&reply);
  if (!joined) throw Error("lumen::Init: the node at " + address + " answered Join with something else");
  if (!joined->error.empty()) throw Error("lumen::Init: " + joined->error);
  cluster->ns = joined->ns;
  cluster->node_name = joined->node_name;
  cluster->resources = joined->resources;
  return cluster;
}

void FlushJoined(JoinedCluster& cluster) {
  uint64_t request = cluster.next_request++;
  Message m = FlushMsg{request};
  cluster.link->Send({&m, 1});
  Message reply = cluster.link->AwaitReply(request);
  auto* flushed = std::get_if<FlushReplyMsg>(&reply);
  if (!flushed) throw Error("lumen::Flush: the node answered Flush with something else");
  if (!flushed->error.empty()) throw Error("lumen::Flush: " + flushed->error);
}

}  // namespace lumen::internal
