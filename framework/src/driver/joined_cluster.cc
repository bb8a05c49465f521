#include "driver/joined_cluster.h"

#include <cstdlib>

#include "lumen/errors.h"
#include "driver/cluster_file.h"
#include "runtime/command_line.h"

namespace lumen::internal {

std::unique_ptr<JoinedCluster> JoinCluster(const Config& config, const std::string& address) {
  auto found = FindCluster(address);
  if (!found) {
    std::string running;
    for (const ClusterFile& file : ClustersOnThisMachine()) running += (running.empty() ? "" : ", ") + file.address;
    throw Error("lumen::Init: no lumen cluster serves " + address +
                " on this machine (start one with `lumen start --head`" +
                (running.empty() ? "; none runs here" : "; running here: " + running) +
                "). A driver joins through its own machine's node; joining from another host is not supported yet");
  }
  auto cluster = std::make_unique<JoinedCluster>();
  cluster->address = found->address;
  cluster->session_dir = found->session_dir;
  cluster->dashboard_url = found->dashboard_url;
  Status s = storage::ConnectToStore(found->store_socket, &cluster->store);
  if (!s.ok()) throw Error("lumen::Init: cannot reach the object store of the cluster at " + address + ": " + s.message());
  cluster->link = std::make_unique<JoinedNodeLink>(found->node_socket);

  JoinMsg join;
  join.request = cluster->next_request++;
  const char* secret = std::getenv("LUMEN_CLUSTER_SECRET");
  join.secret = secret ? secret : ReadClusterSecret(found->session_dir);
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
