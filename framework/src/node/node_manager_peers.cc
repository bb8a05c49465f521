// The other nodes of a cluster and the tasks this node (the head's) sends
// them. A node daemon (`lumen start --address`) registers over this node's
// socket; from then on a ready task that does not fit here now (busy, or a
// resource only that node has) goes to a node that has room for it:
//   1. its by-reference arguments are copied into that node's store
//      (transfer/, segment to segment) and handed to it (PutMsg), once per
//      object while this node holds it;
//   2. it is submitted there over a link of this job (this node is that
//      job's driver there: Join, then Submit), and its result asked for (Get);
//   3. the result comes back into this store, and the task ends here as if
//      a worker of ours ran it (lineage, retries, history).
// A peer whose connection closes is gone: what ran there runs again
// (retries), here or on another node. Every function here REQUIRES mu_ but
// the transfer callbacks, which take it, and ServeOtherHosts and
// RemoteAddress (set at Start, read-only after).
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include "node/feasibility.h"
#include "protocol/tls_tunnel.h"
#include "transfer/remote_store.h"
#include "node/node_manager.h"
#include "node/node_manager_records.h"
#include "runtime/deadline.h"

namespace lumen::internal {

namespace {
// A link that never blocks the I/O loop: to a node of this host, a blocking
// connect (at once); to one of another host, a tunnel whose thread connects.
int ConnectTo(const std::string& address, const std::string& secret) {
  int fd = IsTlsAddress(address) ? OpenTunnelAsync(address, secret, TunnelService::kNode) : ConnectUnix(address);
  if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// Who a client is, in the log: its pid, or where its tunnel comes from.
std::string WhoIs(pid_t pid, const std::string& remote) {
  if (remote.empty()) return "pid " + std::to_string(pid);
  return (pid > 0 ? "pid " + std::to_string(pid) + " from " : "") + remote;
}
}  // namespace

// Other hosts' nodes and drivers, and the head's copies through this
// node's store, at listen_host (NodeOptions): at Start, before any client.
void NodeManager::ServeOtherHosts() {
  gateway_ = std::make_unique<StoreGateway>(options_.store);
  std::string why;
  entrance_ = TunnelEntrance::Listen(
      options_.listen_host, options_.listen_port, options_.cluster_secret,
      [this](TunnelService service, int fd, const std::string& from) {
        if (service == TunnelService::kStore) return gateway_->Serve(fd, from);
        AdoptTunnel(fd, from);
      },
      &why);
  if (!entrance_) throw Error(why);
}

std::string NodeManager::RemoteAddress() const { return entrance_ ? entrance_->address() : ""; }

void NodeManager::RegisterPeer(Worker& client, RegisterNodeMsg& m) {
  RegisterNodeReplyMsg reply{m.request, ""};
  std::shared_ptr<storage::ObjectStore> store;
  if (!client.remote.empty() && m.pid > 0) client.pid = m.pid;  // its own host's pid, for the logs only
  if (!PresentsSecret(m.secret)) {
    std::fprintf(stderr, "lumen: refused the node '%s' (%s): it did not present the cluster's secret\n",
                 m.name.c_str(), WhoIs(client.pid, client.remote).c_str());
    reply.error = "the head refused this node: it did not present the cluster's secret";
  } else if (HasNodeNamed(m.name)) {
    reply.error = "the cluster has a node named '" + m.name + "' already: give this one another (--node-name)";
  } else if (Status s = ConnectToAnyStore(m.store_socket, options_.cluster_secret, &store); !s.ok()) {
    reply.error = "the head cannot reach this node's object store at " + m.store_socket + ": " + s.message();
  }
  if (!reply.error.empty()) return Refuse(client, reply);
  ForgetDeadPeers();
  Peer& peer = peers_[next_peer_];
  peer.id = next_peer_++;
  peer.client = client.number;
  peer.name = m.name;
  peer.node_socket = m.node_socket;
  peer.store_socket = m.store_socket;
  peer.total = m.resources;
  peer.available = m.resources;
  peer.store = std::move(store);
  peer.stats = std::make_shared<StoreStatsProbe>(peer.store);
  peer.joined_ms = UnixMillis();
  client.node = true;
  client.peer = peer.id;
  DeadNodes::Rejoined was =
      dead_nodes_.Joined({peer.name, peer.node_socket, peer.total, peer.joined_ms, 0, "", peer.id, false, m.instance});
  Reply(client, reply);
  std::fprintf(stderr, "lumen: node '%s' joined the cluster (%s%s)\n", m.name.c_str(), WhoIs(client.pid, client.remote).c_str(),
               IsTlsAddress(m.node_socket) ? (", another host's: reached at " + m.node_socket).c_str() : "");
  if (was == DeadNodes::Rejoined::kNamesake)
    std::fprintf(stderr,
                 "lumen: node '%s' is another daemon than the member of that name the head awaits: a new node\n",
                 m.name.c_str());
}

// Its registration closed: the node is gone, and what ran there runs again.
void NodeManager::PeerGone(int id, const std::string& why) {
  auto it = peers_.find(id);
  if (it == peers_.end() || it->second.dead) return;
  Peer& peer = it->second;
  peer.dead = true;
  std::fprintf(stderr, "lumen: node '%s' left the cluster: %s\n", peer.name.c_str(), why.c_str());
  dead_nodes_.Add({peer.name, peer.node_socket, peer.total, peer.joined_ms, UnixMillis(), why, peer.id});
  if (peer.store) peer.store->Disconnect();  // a copy to a stopped node's store waits no more
  BundlesLostWith(peer);
  std::map<int, int> links;
  links.swap(peer.links);  // closing a link edits the map (OnLinkGone)
  for (auto& [job, link] : links)
    if (Worker* w = ClientByNumber(link)) CloseConnection(*w);
}

// A dead peer's links closed as it left (PeerGone): dead_nodes_ lists it
// from then on, and its entry (its store's mapping) goes. Called as one
// registers, never inside a walk of peers_.
void NodeManager::ForgetDeadPeers() {
  std::erase_if(peers_, [](const auto& entry) { return entry.second.dead && entry.second.links.empty(); });
}

// This node's link to `peer` as job `job`, opened (and joined) on first use.
NodeManager::Worker* NodeManager::LinkTo(Peer& peer, int job_id) {
  if (auto it = peer.links.find(job_id); it != peer.links.end())
    if (Worker* w = ClientByNumber(it->second); w && w->conn) return w;
  auto job = jobs_.find(job_id);
  if (job == jobs_.end()) return nullptr;
  int fd = ConnectTo(peer.node_socket, options_.cluster_secret);
  if (fd < 0) return nullptr;  // it is going: its registration will say so
  auto w = std::make_unique<Worker>();
  w->number = next_worker_++;
  w->job = job_id;
  w->peer_link = true;
  w->peer = peer.id;
  w->ever_connected = true;
  w->conn = std::make_unique<Connection>(fd);
  JoinMsg join;
  join.request = next_forward_request_++;
  join.secret = options_.cluster_secret;
  join.binary = job->second.binary;
  join.argv = job->second.argv;
  join.ns = job->second.ns;
  join.detached_by_default = job->second.detached_by_default;
  w->conn->Queue(join);  // what follows is read after it, in order
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
  ev.data.u64 = static_cast<uint64_t>(w->number);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  peer.links[job_id] = w->number;
  Worker* raw = w.get();
  workers_[w->number] = std::move(w);
  return raw;
}

bool NodeManager::FitsOnAPeer(const ResourceShape& shape) const {
  for (const auto& [id, peer] : peers_)
    if (!peer.dead && FitsIn(peer.total, shape)) return true;
  return false;
}

// The live peer with the most free CPU that has room for `shape` now (but
// the peer `avoid`), or nullptr.
// What a task, an actor's factory or a call sent to a peer needs there: its
// by-reference arguments and every ref nested in an argument, with the refs
// nested in those in turn, innermost first. *ready: every one of them is
// ready here (else sending it now would fail it there).
std::vector<ObjectID> NodeManager::ObjectsToHandOver(const TaskSpec& spec, bool* ready) const {
  std::vector<ObjectID> order;
  std::unordered_set<ObjectID> seen;
  for (const TaskArg& arg : spec.args)
    for (const ObjectID& id : ArgRefs(arg))
      if (seen.insert(id).second) order.push_back(id);
  *ready = true;
  for (size_t i = 0; i < order.size(); ++i) {  // grows as it goes: breadth first
    auto it = objects_.find(order[i]);
    if (it == objects_.end() || it->second.state != Entry::kReady) {
      *ready = false;
      continue;
    }
    for (const ObjectID& nested : it->second.nested)
      if (seen.insert(nested).second) order.push_back(nested);
  }
  std::reverse(order.begin(), order.end());
  return order;
}

// Hands the `objects` a task needs (ObjectsToHandOver) that `link` does not
// hold yet to `peer`: from then on the peer holds each while we do. Each goes
// over as a Put on the link once its bytes are in the peer's store (copied
// there first if they live in ours), so whatever is sent on the link after
// its copy finished finds it. `done` runs once per copy it waits for, under
// mu_: those it started, and those of the same objects to the same link
// still on their way. Returns how many it waits for.
int NodeManager::CopyArgsToPeer(const std::vector<ObjectID>& objects, Peer& peer, int link,
                                std::function<void(const Status&)> done) {
  int waits = 0;
  for (const ObjectID& id : objects) {
    auto found = objects_.find(id);
    if (found == objects_.end()) continue;  // it fails there as it would here
    Entry& e = found->second;
    if (auto copying = e.copying.find(link); copying != e.copying.end()) {
      copying->second.push_back(done);
      ++waits;
      continue;
    }
    if (std::find(e.peer_links.begin(), e.peer_links.end(), link) != e.peer_links.end()) continue;
    e.peer_links.push_back(link);
    if (!e.in_store) {
      if (Worker* w = ClientByNumber(link); w && w->conn) w->conn->Queue(PutMsg{id, PayloadOf(id)});
      continue;
    }
    e.copying[link].push_back(done);
    ++waits;
    transfer_->Copy(options_.store, peer.store, id, /*reconstructable=*/false,
                    [this, id, link](const Status& s, uint64_t) {
                      Unlocker locked(this);
                      std::vector<std::function<void(const Status&)>> waiting;
                      if (auto it = objects_.find(id); it != objects_.end()) {
                        if (auto c = it->second.copying.find(link); c != it->second.copying.end()) {
                          waiting = std::move(c->second);
                          it->second.copying.erase(c);
                        }
                      }
                      if (Worker* w = ClientByNumber(link); s.ok() && w && w->conn)
                        w->conn->Queue(PutMsg{id, PayloadOf(id)});  // before anything that waited for it
                      for (auto& told : waiting) told(s);
                      FlushWrites();
                    });
  }
  return waits;
}

// Sends `task` to `to` (which has room for it now), or else to the live
// peer with the most free CPU that has room for it now; false if none has.
bool NodeManager::ForwardToPeer(Task& task, const ResourceShape& shape, Peer* to) {
  bool ready = false;
  const std::vector<ObjectID> objects = ObjectsToHandOver(task.spec, &ready);
  if (!ready) return false;  // a ref nested in an argument is not made yet: it runs here, or is sent later
  Peer* best = to ? to : PeerForTask(task.spec, shape);
  if (!best) return false;
  Worker* link = LinkTo(*best, task.job);
  if (!link) return false;
  for (const auto& [name, amount] : shape) best->available[name] -= amount;
  task.worker = link->number;
  link->in_flight.push_back(task.id);
  TaskHistory::Started(task.history, link->number, -1, UnixMillis(), history_.Interned(best->name));
  Forwarded& f = forwarded_[task.id];
  f = Forwarded{best->id, link->number, shape, 0, 0};
  f.copies_pending = CopyArgsToPeer(objects, *best, link->number,
                                    [this, id = task.id, number = link->number](const Status& s) {
                                      OnArgCopied(id, number, s);
                                    });
  if (f.copies_pending == 0) SendForwarded(task);
  return true;
}

void NodeManager::OnArgCopied(const TaskID& id, int link, const Status& status) {
  auto f = forwarded_.find(id);
  auto t = tasks_.find(id);
  if (f == forwarded_.end() || f->second.link != link || t == tasks_.end()) return;  // re-run meanwhile
  if (!status.ok()) {
    Worker* w = ClientByNumber(link);
    std::fprintf(stderr, "lumen: cannot copy an argument of '%s' to another node: %s\n", t->second.spec.name.c_str(),
                 status.message().c_str());
    if (w) CloseConnection(*w);  // it runs again, here or elsewhere
    return;
  }
  if (--f->second.copies_pending != 0) return;
  SendForwarded(t->second);
  if (auto a = actors_.find(t->second.spec.actor); a != actors_.end()) DispatchActor(a->second);  // its next call
}

// Its arguments are there (CopyArgsToPeer handed them over): submit, and
// ask for the result.
void NodeManager::SendForwarded(Task& task) {
  Forwarded& f = forwarded_.at(task.id);
  Worker* link = ClientByNumber(f.link);
  if (!link || !link->conn) return;
  link->conn->Queue(SubmitMsg{task.id, task.spec});
  f.request = next_forward_request_++;
  forwarded_requests_[f.request] = task.id;
  link->conn->Queue(GetMsg{f.request, {task.result}, -1});
}

void NodeManager::OnForwardedReply(Worker& link, GetReplyMsg& m) {
  auto r = forwarded_requests_.find(m.request);
  if (r == forwarded_requests_.end()) return;
  TaskID id = r->second;
  forwarded_requests_.erase(r);
  if (m.timed_out || m.payloads.size() != 1) throw ProtocolError("a peer answered a forwarded Get with no result");
  Payload payload = std::move(m.payloads[0]);
  if (payload.kind != Payload::kInStore) return FinishForwarded(id, link.number, std::move(payload));
  auto t = tasks_.find(id);
  auto peer = peers_.find(link.peer);
  if (t == tasks_.end() || peer == peers_.end()) return;
  transfer_->Copy(peer->second.store, options_.store, t->second.result, /*reconstructable=*/options_.lineage != nullptr,
                  [this, id, number = link.number, payload](const Status& s, uint64_t) {
                    Unlocker locked(this);
                    OnResultCopied(id, number, payload, s);
                    Dispatch();
                    FlushWrites();
                  });
}

void NodeManager::OnResultCopied(const TaskID& id, int link, Payload payload, const Status& status) {
  if (!status.ok()) {
    auto t = tasks_.find(id);
    std::string name = t == tasks_.end() ? "a task" : "'" + t->second.spec.name + "'";
    payload = Payload{};
    payload.kind = Payload::kError;
    payload.error = {status.code() == StatusCode::kStoreFull || status.code() == StatusCode::kObjectTooLarge
                         ? ErrorKind::kStoreFull
                         : ErrorKind::kLost,
                     "the result of " + name + " could not come back from the node that ran it: " + status.message(),
                     ""};
  }
  FinishForwarded(id, link, std::move(payload));
}

void NodeManager::FinishForwarded(const TaskID& id, int link_number, Payload payload) {
  auto f = forwarded_.find(id);
  if (f == forwarded_.end() || f->second.link != link_number) return;  // ran again meanwhile
  Forwarded forwarded = std::move(f->second);
  forwarded_.erase(f);
  auto peer = peers_.find(forwarded.peer);
  if (peer != peers_.end())
    for (const auto& [name, amount] : forwarded.shape) peer->second.available[name] += amount;
  Worker* link = ClientByNumber(link_number);
  auto t = tasks_.find(id);
  if (link) {
    auto pos = std::find(link->in_flight.begin(), link->in_flight.end(), id);
    if (pos != link->in_flight.end()) link->in_flight.erase(pos);
    if (link->conn && t != tasks_.end()) link->conn->Queue(RefsMsg{{}, {t->second.result}});  // ours now: it may go there
  }
  if (t == tasks_.end()) return;
  std::string where = peer == peers_.end() ? "another node" : "node-" + peer->second.name;
  if (!t->second.spec.actor.IsNil()) RemoteCallEnded(t->second, payload);
  TaskFinished(t->second, std::move(payload), where);
}

// A link closed (its peer is gone, or broke the protocol): the tasks sent
// over it run again, here or elsewhere (OnWorkerDeath re-queues them).
void NodeManager::OnLinkGone(Worker& link) {
  for (const TaskID& id : link.in_flight) {
    auto f = forwarded_.find(id);
    if (f == forwarded_.end()) continue;
    auto peer = peers_.find(f->second.peer);
    if (peer != peers_.end())
      for (const auto& [name, amount] : f->second.shape) peer->second.available[name] += amount;
    forwarded_requests_.erase(f->second.request);
    forwarded_.erase(f);
  }
  if (auto peer = peers_.find(link.peer); peer != peers_.end()) {
    auto& links = peer->second.links;
    if (auto it = links.find(link.job); it != links.end() && it->second == link.number) links.erase(it);
  }
  for (auto& [id, e] : objects_) {
    std::erase(e.peer_links, link.number);
    e.copying.erase(link.number);
  }
  PeerActorsLost(link);  // the actors it hosts restart elsewhere, or die
}

// This node dropped `id`: so may the peers it gave a copy to.
void NodeManager::ReleaseOnPeers(const ObjectID& id, const std::vector<int>& links) {
  for (int number : links)
    if (Worker* link = ClientByNumber(number); link && link->conn) link->conn->Queue(RefsMsg{{}, {id}});
}

}  // namespace lumen::internal
