// The records the node manager keeps (objects, tasks, workers, actors)
// and its lock helper. Private to node_manager*.cc.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "lumen/placement_group.h"
#include "protocol/claim_slots.h"
#include "node/node_manager.h"
#include "node/store_stats_probe.h"

namespace lumen::internal {

struct NodeManager::Entry {
  // kLost: its bytes are gone (evicted, or known only to the lineage log);
  // a Get or a task that needs it rebuilds it from lineage (kPending again).
  enum State { kPending, kReady, kFailed, kLost } state = kPending;
  BytesPtr bytes;        // ready and inline
  bool in_store = false; // ready and in the shared store
  bool restoring = false;  // pending: being read back from its durable copy (put_copies.h)
  uint64_t size = 0;
  ObjectError error;     // failed
  int64_t refs = 0;
  std::vector<ObjectID> nested;  // refs this object holds
  std::vector<int> peer_links;   // links of peers that hold a copy (and a reference) of it
  // Its copies on their way to a peer, by link: who waits for each (CopyArgsToPeer).
  std::map<int, std::vector<std::function<void(const Status&)>>> copying;
  // An actor's state: whose, while its durable copy is being written (its
  // record names it once written); and, once superseded, that its copy goes
  // when the last reference here does (RetireCopy).
  ActorID state_of;
  bool drop_copy = false;
};

// A job: a driver and the workers that run its binary. The embedded
// driver's is kEmbeddedJob, made at Start; a node that serves joining
// drivers starts one for each driver that joins (JoinMsg) and ends it when
// that driver's connection goes: its pool stops and what it owned goes,
// but its detached actors stay, and their processes still run its binary.
struct NodeManager::Job {
  int id = kEmbeddedJob;
  std::string binary;              // what its workers execute
  std::vector<std::string> argv;   // their command line
  std::string ns;                  // its namespace for named actors
  bool detached_by_default = false;
  int driver = kLocalClient;       // its driver's client number
  bool ended = false;              // its driver left (or, restored, it never had one here)
  bool restored = false;           // made for detached actors restored from the log (RestoredJob)
  int startup_failures = 0;        // workers in a row that died before connecting
};

// Another node of the cluster, on this machine, registered with this one
// (the head's node). Tasks that do not fit here go to it over a link per job
// (a Worker with peer_link: this node is that job's driver there); their
// arguments are copied into its store first, their results back into ours.
struct NodeManager::Peer {
  int id = 0;
  int client = -1;  // its registration connection: when it closes, the node is gone
  std::string name, node_socket, store_socket;
  ResourceShape total;
  ResourceShape available;  // total less what the tasks sent to it hold
  std::shared_ptr<storage::ObjectStore> store;  // its segment, mapped here
  std::shared_ptr<StoreStatsProbe> stats;       // its store's figures, never waited on long
  std::map<int, int> links;  // job -> the link's client number
  Load load;                 // as it last reported (NodeLoadMsg, with its heartbeat)
  // Dead: it left (PeerGone), and is listed in dead_nodes_ from then on.
  bool dead = false;
  uint64_t joined_ms = 0;  // when it registered, for the dashboard
};

// A placement group the head's node places (node_manager_bundles.cc): where
// each of its bundles is, and the round of two-phase reservation in flight.
struct NodeManager::PlacedGroup {
  PlacementGroup group;
  std::vector<std::string> nodes;        // per bundle: the node holding it, "" none
  std::map<int, std::string> preparing;  // this round: bundle -> the node asked to hold it
  std::set<int> awaiting;                // the peers whose answer this round waits for
  bool refused = false;                  // one of them could not hold its bundles
};

// A task sent to a peer: the copies of its arguments still on their way,
// and the Get that brings its result back.
struct NodeManager::Forwarded {
  int peer = 0;
  int link = 0;
  ResourceShape shape;
  int copies_pending = 0;
  uint64_t request = 0;  // the Get for its result, once sent
};

struct NodeManager::Task {
  TaskID id;
  int job = kEmbeddedJob;      // whose workers run it
  TaskSpec spec;
  ObjectID result;
  int attempt = 0;             // retries used
  // Runs that ended because an object they read was lost; after
  // kMaxLostRetries the loss is the task's error.
  int lost_retries = 0;
  static constexpr int kMaxLostRetries = 32;
  int worker = -1;             // running on, or -1
  uint64_t seq = 0;            // its sequence number on that worker (ClaimSlots)
  int depth = 0;               // 0: submitted by the driver; n + 1: by a task of depth n
  std::vector<ObjectID> pins;  // objects kept alive for this task
  bool cancelled = false;
  bool rebuild = false;        // re-run from the lineage log to rebuild its result
  bool replay = false;         // an actor call re-run to restore its actor's state
  bool checkpoint = false;     // asks its actor for its state (ActorOptions::checkpoint_method)
  std::string owner;           // a call on an actor with replay: who submitted it, for the log
  TaskHistory::Record history; // what the dashboard shows of it
};

struct NodeManager::Worker {
  int number = 0;
  int job = kEmbeddedJob;  // a worker runs its job's binary; a driver is its job's
  pid_t pid = -1;
  // A driver that joined over the socket (NodeOptions::serve_drivers): not
  // our child, never killed; it must send JoinMsg first (joined).
  bool driver = false;
  bool joined = false;
  std::string remote;      // a driver or node of another host: "ip:port" of its tunnel (pid is 0)
  bool node = false;       // a node that registered here (RegisterNodeMsg); `peer` is its id
  bool peer_link = false;  // a connection of ours to the node `peer`, submitting as job `job`
  int peer = -1;
  std::chrono::steady_clock::time_point join_by;  // a driver that has not joined by then is cut off
  std::chrono::steady_clock::time_point heard;    // its last frame (a registered node's heartbeat)
  bool ever_connected = false;
  std::chrono::steady_clock::time_point disconnected_at;
  std::unique_ptr<Connection> conn;  // null until the worker connects
  std::deque<TaskID> in_flight;      // sent, in order
  int blocked = 0;                   // outstanding Get/Wait requests
  std::unique_ptr<ClaimSlots> claims;  // pool workers: which sent tasks it started
  uint64_t next_seq = 1;
  // The resources its tasks hold while it has any in flight (a lease, as in
  // Ray: tasks of the same shape pipeline onto it). While it is blocked in
  // Get its CPU goes back to the node, so the tasks it waits for can run.
  ResourceShape lease;
  bool holds_lease = false;
  bool cpu_lent = false;
  std::unordered_map<ObjectID, int64_t> refs;  // references this worker holds
  bool dead = false;
  ActorID actor;  // nil: a pool worker; else the actor this process hosts
  // Set for the embedded driver only (no process, no socket): its replies,
  // handed over in process.
  std::function<void(Message&)> deliver;
};

struct NodeManager::ActorState {
  ActorID id;
  TaskID creation_task;          // one per incarnation: the factory call
  TaskID recorded_creation;      // the first one, whose record in the log holds the factory and arguments
  TaskSpec creation;             // factory and arguments, re-run on restart (CreationOf)
  bool restored = false;         // re-created from the lineage log at the cluster's start
  ActorOptions options;
  std::vector<ObjectID> pins;    // by-ref factory arguments, kept for restarts
  int owner = -1;                // client number of its creator; -1 = the embedded driver
  int job = kEmbeddedJob;        // whose binary its process runs
  enum State { kPending, kAlive, kRestarting, kDead } state = kPending;
  int restarts = 0;
  int worker = -1;               // its process, once spawned
  // What it holds for its whole life (ActorShapeOf), restarts included,
  // until dead; its GPU ids are its process's CUDA_VISIBLE_DEVICES.
  bool holds_resources = false;
  ResourceShape held;
  std::vector<int> gpus;
  std::deque<TaskID> queue;      // calls not sent yet, in submission order
  std::deque<TaskID> in_flight;  // calls sent to its process (or its node), in order
  // Hosted by another node (node_manager_peer_actors.cc): that peer's id,
  // the link its creation and calls go over, the CreateActor not answered
  // yet (0: none), and the factory's arguments still being copied there.
  // `held` is then held on that peer (Peer::available), not here.
  int peer = -1;
  int link = -1;
  uint64_t create_request = 0;
  int copies_pending = 0;
  // The node it just lost, not chosen again for a moment: its link may
  // close before its registration does (a SIGKILLed node's sockets close
  // one by one), and a restart there would be lost too.
  int left_peer = -1;
  std::chrono::steady_clock::time_point left_at;
  std::string death_cause;
  std::string last_exit;         // why its process last died (it may have restarted since)
  // replay_on_restart: every call it ran since its latest checkpoint (all,
  // without one), in order, their by-ref arguments pinned; re-run by each
  // new incarnation before any new call (node_manager_replay.cc).
  std::vector<TaskSpec> history;
  uint64_t calls_run = 0;        // over its whole life, across reopens: the latest call's index in the log
  ObjectID checkpoint;           // its latest state, pinned; nil = none
  uint64_t checkpoint_calls = 0; // the calls that state covers
  // The state its record in the log names: the latest one durable (in the
  // log, or its copy written), which may lag `checkpoint` by a copy.
  ObjectID recorded_checkpoint;
  uint64_t recorded_checkpoint_calls = 0;
  uint64_t calls_at_request = 0; // calls_run when a checkpoint was last asked for
  // Restored: outputs of the calls replayed under their original ids, kept
  // for FromID until a newer checkpoint covers them.
  std::vector<ObjectID> replay_outputs;
  // Restored with a state that comes back from its durable copy (a large
  // one): its process starts once that copy is in the store.
  bool awaits_checkpoint = false;
};

// Releases mu_, then hands the embedded driver its replies (so it never wakes
// into a held lock) and performs the store deletes queued under it: the
// store is never called with mu_ held (its eviction listener may call in).
class NodeManager::Unlocker {
 public:
  explicit Unlocker(NodeManager* nm) : nm_(nm), lock_(nm->mu_) {}
  ~Unlocker() {
    std::vector<ObjectID> deletes;
    // Swapped with a buffer of this thread's, so neither side loses its
    // capacity: a Get of ready objects allocates nothing here.
    thread_local std::vector<Message> replies;
    if (lock_.owns_lock()) {
      deletes.swap(nm_->deletes_);
      replies.swap(nm_->local_replies_);
      lock_.unlock();
    }
    for (Message& m : replies) nm_->local_client_->deliver(m);
    replies.clear();
    for (const auto& id : deletes) (void)nm_->options_.store->Delete(id);
  }
  std::unique_lock<std::mutex>& lock() { return lock_; }

 private:
  NodeManager* nm_;
  std::unique_lock<std::mutex> lock_;
};

}  // namespace lumen::internal
