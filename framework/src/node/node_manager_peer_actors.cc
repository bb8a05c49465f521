// Actors another node hosts. An actor whose resources do not fit this node
// (the head's) now, but fit a live peer, is created there over the link of
// its creator's job, this node being that job's driver there (as for
// forwarded tasks, node_manager_peers.cc):
//   1. the factory's by-reference arguments are copied into the peer's
//      store, then handed over (PutMsg) and the actor created (CreateActorMsg,
//      under the same id; no name, owned by the link);
//   2. once the peer answers, its calls go over the same link in submission
//      order (a call still copying its arguments holds back those behind
//      it), each as a forwarded task: Submit, then Get of its result, which
//      comes back into this store (FinishForwarded);
//   3. it holds its resources on that peer (Peer::available) until it dies.
// This node stays the actor's directory: its name, its state, its callers'
// queue, its restarts after its node died, the calls it replays. Its node
// restarts its process when it dies there, within the restarts left when it
// was placed there; a call that comes back saying it is dead for good makes
// it dead here too. Every function here REQUIRES mu_ but the transfer
// callbacks, which take it (CopyArgsToPeer).
#include <cstdio>

#include "lumen/errors.h"
#include "node/node_manager.h"
#include "node/node_manager_records.h"
#include "runtime/deadline.h"

namespace lumen::internal {

namespace {
// How long an actor that lost its node keeps off it (ActorState::left_peer);
// placement is tried again at each turn of the I/O loop meanwhile.
constexpr auto kAvoidLeftPeer = std::chrono::seconds(1);
}  // namespace

std::string NodeManager::PeerName(int peer) const {
  if (auto it = peers_.find(peer); it != peers_.end()) return it->second.name;
  std::string dead = dead_nodes_.NameOf(peer);
  return dead.empty() ? "another node" : dead;
}

// False if no live peer has room for it now (or it is bound to this node
// by a node affinity); `to`: that peer, which has room (its node affinity
// or its placement group's bundle names it). An actor of a group asks for
// its bundle's resources, which only the node holding it has.
bool NodeManager::PlaceActorOnPeer(ActorState& a, const ResourceShape& shape, Peer* to) {
  if (peers_.empty() || (!to && !a.creation.node_affinity.empty())) return false;
  bool ready = false;
  const std::vector<ObjectID> objects = ObjectsToHandOver(CreationOf(a), &ready);
  if (!ready) return false;  // a ref nested in an argument is not made yet
  bool avoid = a.left_peer >= 0 && Clock::now() - a.left_at < kAvoidLeftPeer;
  Peer* peer = to ? to : PeerWithRoom(shape, avoid ? a.left_peer : -1);
  if (!peer) return false;
  Worker* link = LinkTo(*peer, a.job);
  if (!link) return false;
  for (const auto& [name, amount] : shape) peer->available[name] -= amount;
  a.held = shape;
  a.holds_resources = true;
  a.gpus.clear();  // its node grants its GPU ids
  a.peer = peer->id;
  a.link = link->number;
  std::fprintf(stderr, "lumen: %s (%s) is placed on node '%s'\n", ActorWhat(a.creation, a.options).c_str(),
               a.id.Hex().c_str(), peer->name.c_str());
  a.copies_pending = CopyArgsToPeer(objects, *peer, link->number,
                                    [this, id = a.id, number = link->number](const Status& s) {
                                      OnActorArgCopied(id, number, s);
                                    });
  if (a.copies_pending == 0) CreateOnPeer(a);
  return true;
}

void NodeManager::OnActorArgCopied(const ActorID& id, int link, const Status& status) {
  auto it = actors_.find(id);
  if (it == actors_.end() || it->second.link != link || it->second.copies_pending <= 0) return;  // left it meanwhile
  if (!status.ok()) {
    std::fprintf(stderr, "lumen: cannot copy an argument of actor %s to node '%s': %s\n", id.Hex().c_str(),
                 PeerName(it->second.peer).c_str(), status.message().c_str());
    if (Worker* w = ClientByNumber(link)) CloseConnection(*w);  // it is placed again (PeerActorsLost)
    return;
  }
  if (--it->second.copies_pending == 0) CreateOnPeer(it->second);
}

// Its arguments are in the peer's store: hand them over and create it.
void NodeManager::CreateOnPeer(ActorState& a) {
  Worker* link = ClientByNumber(a.link);
  if (!link || !link->conn) return;  // closing: PeerActorsLost places it again
  TaskSpec factory = CreationOf(a);  // its arguments handed over already (CopyArgsToPeer)
  ActorOptions options = a.options;
  options.name.clear();      // names live here: lookups are answered here
  options.detached = false;  // owned by the link: if this node goes, so does it (kept alive here otherwise)
  options.checkpoint_method.clear();  // checkpoints are asked for from here (its calls pass here)
  options.restore_function.clear();
  options.checkpoint_every = 0;
  if (options.max_restarts > 0) options.max_restarts = std::max(0, options.max_restarts - a.restarts);
  a.create_request = next_forward_request_++;
  peer_creations_[a.create_request] = a.id;
  link->conn->Queue(CreateActorMsg{a.create_request, a.id, std::move(factory), std::move(options)});
}

void NodeManager::OnPeerActorCreated(Worker& link, CreateActorReplyMsg& m) {
  auto r = peer_creations_.find(m.request);
  if (r == peer_creations_.end()) return;
  ActorID id = r->second;
  peer_creations_.erase(r);
  auto it = actors_.find(id);
  if (it == actors_.end() || it->second.link != link.number || it->second.create_request != m.request) return;
  ActorState& a = it->second;
  a.create_request = 0;
  if (a.state == ActorState::kDead) return;
  if (!m.error.empty()) return ActorIsDead(a, "node '" + PeerName(a.peer) + "' could not create it: " + m.error);
  a.state = ActorState::kAlive;
  RecordActor(a);
  DispatchActor(a);
}

// Its queued calls go to its node in order, each a forwarded task whose
// result comes back here.
void NodeManager::DispatchRemoteActor(ActorState& a) {
  if (a.state != ActorState::kAlive || a.create_request != 0) return;
  Worker* link = ClientByNumber(a.link);
  auto peer = peers_.find(a.peer);
  if (!link || !link->conn || peer == peers_.end()) return;
  while (Task* next = NextCall(a)) {
    if (!a.in_flight.empty())  // the call before still copies its arguments: this one follows it
      if (auto f = forwarded_.find(a.in_flight.back()); f != forwarded_.end() && f->second.copies_pending > 0) break;
    Task& call = *next;
    a.queue.pop_front();
    call.worker = a.link;
    a.in_flight.push_back(call.id);
    TaskHistory::Started(call.history, a.link, -1, UnixMillis(), history_.Interned(peer->second.name));
    Forwarded& f = forwarded_[call.id];
    f = Forwarded{a.peer, a.link, {}, 0, 0};
    bool ready = false;  // sent as it is: a call keeps its order (a nested ref not made yet fails there)
    f.copies_pending = CopyArgsToPeer(ObjectsToHandOver(call.spec, &ready), peer->second, a.link,
                                      [this, id = call.id, number = a.link](const Status& s) {
                                        OnArgCopied(id, number, s);  // then sends it, and the calls behind it
                                      });
    if (f.copies_pending > 0) break;
    SendForwarded(call);
  }
}

// A call's result came back from the actor's node. One that says the actor
// is dead there for good (its restarts there spent, its factory threw, it
// exited) makes it dead here too, naming the cause.
void NodeManager::RemoteCallEnded(const Task& call, const Payload& payload) {
  auto it = actors_.find(call.spec.actor);
  if (it == actors_.end()) return;
  ActorState& a = it->second;
  std::erase(a.in_flight, call.id);
  if (a.peer < 0 || payload.kind != Payload::kError || payload.error.kind != ErrorKind::kActorDied) return;
  const std::string dead = "actor " + a.id.Hex() + " is dead: ";  // as a node says it (ActorIsDead)
  if (payload.error.message.rfind(dead, 0) != 0) return;  // a call lost to a restart there: the actor lives
  ActorIsDead(a, "it died on node '" + PeerName(a.peer) + "': " + payload.error.message.substr(dead.size()));
}

// It leaves its node: killed there (kill), or its node is gone. Its calls
// there are forgotten (the caller re-queues or fails them) and its
// resources there are free.
void NodeManager::LeavePeer(ActorState& a, bool kill) {
  std::vector<ObjectID> results;
  for (const TaskID& id : a.in_flight) {
    auto f = forwarded_.find(id);
    if (f == forwarded_.end()) continue;
    forwarded_requests_.erase(f->second.request);
    forwarded_.erase(f);
    results.push_back(ObjectID::ForTaskReturn(id, 0));
  }
  if (Worker* link = ClientByNumber(a.link); link && link->conn) {
    if (kill) link->conn->Queue(KillActorMsg{a.id, true});
    if (!results.empty()) link->conn->Queue(RefsMsg{{}, std::move(results)});  // nobody here waits for them
  }
  peer_creations_.erase(a.create_request);
  if (auto peer = peers_.find(a.peer); peer != peers_.end() && a.holds_resources)
    for (const auto& [name, amount] : a.held) peer->second.available[name] += amount;
  a.holds_resources = false;
  a.held.clear();
  a.gpus.clear();
  a.peer = -1;
  a.link = -1;
  a.create_request = 0;
  a.copies_pending = 0;
}

// A link closed (its node is gone, or it broke): the actors it hosted
// restart elsewhere within max_restarts (replaying if asked), their calls
// in flight retried within max_task_retries, or they die naming why.
void NodeManager::PeerActorsLost(Worker& link) {
  std::vector<ActorID> lost;
  for (const auto& [id, a] : actors_)
    if (a.peer >= 0 && a.link == link.number) lost.push_back(id);
  std::string why = "its node '" + PeerName(link.peer) + "' is gone";
  for (const ActorID& id : lost) {
    ActorState& a = actors_.at(id);
    a.left_peer = a.peer;
    a.left_at = Clock::now();
    LeavePeer(a, /*kill=*/false);
    OnActorWorkerDeath(a, why);
  }
}

}  // namespace lumen::internal
