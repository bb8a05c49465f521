// The node manager: owner of the node's objects and scheduler of its tasks.
//
// Its clients are the worker processes (frames over a Unix socket each) and,
// in an embedded cluster, the driver in this process (HandleLocal): both
// speak the same messages (protocol/messages.h) through the same client
// core (client/). It keeps
//   - the object directory: every object's state (pending, ready, failed),
//     where its bytes are (inline here, or in the shared store) and its
//     reference count, summed over all processes and pending tasks;
//   - the task table: dependencies, retries, the worker running each task;
//   - the worker pool: worker processes it spawns (the driver's own binary in
//     worker mode), one Unix socket each for tasks and objects, each also
//     monitored through CAF (supervision.h). A worker's death, reported by
//     CAF's down message, re-queues or fails its tasks and spawns a
//     replacement; reaping the process is the fallback if CAF stays silent.
// One thread runs the I/O loop; API calls from any thread share one mutex.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "lumen/internal/core.h"
#include "lumen/storage/lineage_log.h"
#include "lumen/storage/object_store.h"
#include "head/cluster_state.h"
#include "node/dead_nodes.h"
#include "node/node_options.h"
#include "node/durability_flusher.h"
#include "node/resource_ledger.h"
#include "transfer/object_transfer.h"
#include "transfer/store_gateway.h"
#include "protocol/tls_tunnel.h"
#include "node/object_waiters.h"
#include "node/ready_queue.h"
#include "node/lineage_recorder.h"
#include "node/log_relay.h"
#include "node/put_copies.h"
#include "node/task_dependencies.h"
#include "node/task_history.h"
#include "control/supervision.h"
#include "protocol/connection.h"
#include "protocol/heartbeat.h"

namespace lumen::internal {

class NodeManager {
 public:
  // Binds the worker socket and starts the I/O thread, which spawns the workers.
  static std::unique_ptr<NodeManager> Start(NodeOptions options);
  ~NodeManager();  // stops every worker (bounded) and the I/O thread

  // The embedded driver, a client in this process: HandleLocal takes its
  // messages as a worker's frames are taken; its replies go to `deliver`,
  // called once the node's lock is released, by the thread that made them
  // (the driver's own inside HandleLocal, the I/O thread, a CAF callback).
  void ConnectLocalClient(std::function<void(Message&)> deliver);
  void HandleLocal(std::span<Message> messages);

  // At a cluster's start on a lineage log of an earlier run: re-creates
  // every detached named actor the log holds as not dead (factory, then its
  // recorded calls, from its latest checkpoint when it has one) and marks
  // the others dead, since what owned them is gone. Call once, after Start.
  void RestoreActors();

  // The node now, for the dashboard (tasks recent and live, actors,
  // objects, its resources), copied under the node's lock.
  head::ClusterSnapshot Snapshot();

  // Introspection for tests, lessons and the CLI.
  struct Counters {
    std::vector<pid_t> worker_pids;
    size_t num_objects = 0;
    uint64_t deaths_seen_by_caf = 0;
    uint64_t deaths_seen_by_reaping = 0;
    uint16_t supervisor_port = 0;
    uint64_t objects_evicted = 0;
    uint64_t tasks_rebuilt = 0;
  };
  Counters GetCounters();
  // How busy the node is now: what a node daemon reports to its head with
  // each heartbeat (NodeLoadMsg), and what the dashboard shows per node.
  struct Load {
    uint32_t workers = 0;        // live worker processes, actors' included
    uint32_t running_tasks = 0;  // tasks running on them (not those sent to other nodes)
  };
  Load GetLoad();
  // True if `id`'s value is here now (ready, in the store or inline).
  bool HasObject(const ObjectID& id);
  // The store evicted `id` to make room: it is rebuilt from lineage when needed.
  void OnEvicted(const ObjectID& id);
  // Blocks until the durable copies of every large Put so far are written
  // (true at once if the node makes none); false on timeout or a write
  // error, and `why` says which.
  bool FlushPutCopies(int64_t timeout_ms, std::string* why);
  // lumen::Flush: the durable copies, then the lineage log; "" once both
  // hold everything acknowledged so far, else why not (within the bound).
  std::string MakeDurable(int64_t timeout_ms);
  // tls://HOST:PORT, where other hosts reach this node; "" if they do not (NodeOptions::listen_host).
  std::string RemoteAddress() const;
  // A node daemon's share of the placement groups: what its head asks of
  // its bundles (PrepareBundles, CommitBundles, ReturnBundles) over the
  // connection it registered over, answered (a prepare) or not; and every
  // bundle given back, and what ran in them ended, once that head is gone.
  std::optional<Message> OnBundleCommand(const Message& command);
  void ReturnAllBundles();
  static constexpr int64_t kFlushBoundMs = 60000;  // a disk that takes longer is reported, not waited on

 private:
  struct Job;
  struct Peer;
  struct Forwarded;
  struct Worker;
  struct Task;
  struct Entry;
  struct ActorState;
  struct PlacedGroup;
  class Unlocker;
  using Clock = std::chrono::steady_clock;

  explicit NodeManager(NodeOptions options);
  // The client numbered `n` (kLocalClient: the embedded driver), or nullptr.
  Worker* ClientByNumber(int n);
  // Sends a reply to a client, over its socket or in process.
  void Reply(Worker& client, Message message);
  // The owner of what a client submits: nullptr for the driver.
  Worker* OwnerOf(Worker& client);
  // Why the node refuses to create this actor at all (kind kNone if it does not).
  ObjectError RefuseActor(const TaskSpec& factory, const ActorOptions& options) const;
  bool ArgsPresent(Task& task);
  void Loop();
  void SpawnWorker(int job, const ActorID& actor = ActorID());
  void ForkPending();  // on the I/O thread only
  void Accept();
  void HandleFrame(Worker& w, Message& message);
  // A joined driver's placement-group request, answered from the cluster's
  // table (node_manager_placement_api.cc); false if `message` is none.
  bool AnswerPlacementGroups(Worker& client, Message& message);
  void OnWorkerDeath(Worker& w, const std::string& why);
  void OnWorkerDown(int number, const std::string& reason);  // from CAF
  void CloseConnection(Worker& w);
  // Joining drivers (node_manager_jobs.cc).
  void AcceptDriver(int fd, const ucred& cred);
  void ServeOtherHosts();  // at Start: the tunnel entrance and the store gateway (NodeOptions::listen_host)
  void AdoptTunnel(int fd, const std::string& from);  // a peer of another host; takes mu_
  Worker& AddDriverConnection(int fd, pid_t pid);
  void Join(Worker& driver, JoinMsg& m);
  bool PresentsSecret(const std::string& secret) const;
  void Refuse(Worker& client, const Message& reply);
  void EndJob(int job);
  void CloseSilentDrivers();
  Job* JobOf(const Worker& client);
  int RestoredJob(const storage::ActorRecord& record, std::string* why);
  // Other nodes, and the tasks sent to them (node_manager_peers.cc).
  void RegisterPeer(Worker& client, RegisterNodeMsg& m);
  void PeerGone(int peer, const std::string& why);
  void ForgetDeadPeers();
  Worker* LinkTo(Peer& peer, int job);
  bool ForwardToPeer(Task& task, const ResourceShape& shape, Peer* to = nullptr);
  void OnArgCopied(const TaskID& task, int link, const Status& status);
  void SendForwarded(Task& task);
  void OnForwardedReply(Worker& link, GetReplyMsg& m);
  void OnResultCopied(const TaskID& task, int link, Payload payload, const Status& status);
  void FinishForwarded(const TaskID& task, int link, Payload payload);
  void OnLinkGone(Worker& link);
  void ReleaseOnPeers(const ObjectID& id, const std::vector<int>& links);
  bool FitsOnAPeer(const ResourceShape& shape) const;
  // Where a ready task goes by its strategy (node_manager_routing.cc).
  enum class Route { kHere, kPeer, kHold, kNowhere };
  // A SPREAD task's turn is taken (spread_turn_ = *next_turn) only once it is placed where its route says.
  Route RouteOf(const Task& task, const ResourceShape& shape, Peer** peer, std::string* why, size_t* next_turn);
  Peer* LivePeerNamed(const std::string& name);
  bool HasNodeNamed(const std::string& name) const;
  Peer* PeerWithRoom(const ResourceShape& shape, int avoid = -1);
  Peer* PeerForTask(const TaskSpec& spec, const ResourceShape& shape);
  // SPREAD: the next node in turn with room that `take` accepts (a peer); *peer null: this one.
  bool SpreadTurn(const ResourceShape& shape, Peer** peer, size_t* next_turn,
                  const std::function<bool(Peer&)>& take = {});
  std::vector<ObjectID> ObjectsToHandOver(const TaskSpec& spec, bool* ready) const;
  int CopyArgsToPeer(const std::vector<ObjectID>& objects, Peer& peer, int link,
                     std::function<void(const Status&)> done);
  // Actors another node hosts, the head their caller (node_manager_peer_actors.cc).
  bool PlaceActorOnPeer(ActorState& a, const ResourceShape& shape, Peer* to = nullptr);
  void OnActorArgCopied(const ActorID& id, int link, const Status& status);
  void CreateOnPeer(ActorState& a);
  void OnPeerActorCreated(Worker& link, CreateActorReplyMsg& m);
  void DispatchRemoteActor(ActorState& a);
  void RemoteCallEnded(const Task& call, const Payload& payload);
  void LeavePeer(ActorState& a, bool kill);
  void PeerActorsLost(Worker& link);
  std::string PeerName(int peer) const;
  Load LoadLocked() const;
  void OnFlushed(int client, uint64_t request, const std::string& error);
  int RebuildJob() const;
  void ReapWorkers();

  // rebuild: re-run from the lineage log; the result's holders are already counted.
  ObjectID SubmitLocked(TaskID id, TaskSpec spec, Worker* owner, bool rebuild = false, int attempt = 0);
  // Placement groups' bundles (node_manager_bundles.cc): the head's node
  // places them on the cluster's nodes, every node holds its own.
  void PlaceGroups();
  bool StartRound(PlacedGroup& g);
  void OnPrepared(Worker& node, const PrepareBundlesReplyMsg& m);
  void EndRound(PlacedGroup& g);
  void SendToNode(const std::string& node, const Message& m);
  void GiveBackGroup(PlacedGroup& g);
  void BundlesLostWith(const Peer& peer);
  std::string HoldBundles(const PrepareBundlesMsg& m);
  void CommitHeld(const std::string& group, const std::vector<int32_t>& indices);
  void ReturnHeld(const std::string& group, const std::vector<int32_t>& indices);
  void EndGroupWork(const std::string& group);
  // The node of the bundle a task or actor of a group asks for ("" if not
  // placed yet, or if this node does not place groups).
  std::string NodeOfBundle(const TaskSpec& spec) const;
  // Rebuilding from lineage (node_manager_rebuild.cc).
  bool NeedsRebuild(const ObjectID& id) const;
  void StartRebuild(const ObjectID& id);
  void MarkEvicted(const ObjectID& id);
  bool KnownToLineage(const ObjectID& id) const;
  bool CaughtUpWithLog(int64_t timeout_ms) const;
  ObjectError RebuildFailure(const Task& task, const ObjectError& cause) const;
  // Durable copies of large Puts (node_manager_put_copies.cc).
  bool QueuePutCopy(const ObjectID& id, const Payload& payload);  // false: it needs none, or gets none
  void RetireCopy(const ObjectID& id);
  bool RestoreFromCopy(const ObjectID& id);
  void OnPutCopyDone(PutCopies::Job job, const ObjectID& id, const Status& status, uint64_t size);
  std::string WhyNoCopy() const;
  static std::string OwnerName(const Worker* owner);  // as lineage names a client: "driver" (nullptr), "worker-N"
  // Resources and GPU ids (node_manager_resources.cc).
  static ResourceShape TaskAsk(const TaskSpec& spec);      // its resources as asked, CPU 1 unless told
  static ResourceShape ActorAsk(const TaskSpec& factory);  // its resources as asked
  static ResourceShape InBundle(const TaskSpec& spec, ResourceShape ask);
  static ResourceShape ShapeOf(const TaskSpec& spec) { return InBundle(spec, TaskAsk(spec)); }
  static ResourceShape ActorShapeOf(const TaskSpec& factory) { return InBundle(factory, ActorAsk(factory)); }
  static std::string ActorWhat(const TaskSpec& factory, const ActorOptions& options);  // "actor 'Counter'"
  std::string Infeasible(const std::string& what, const ResourceShape& demand) const;
  ObjectError FeasibilityError(const TaskSpec& spec, const std::string& what, const ResourceShape& demand) const;
  ObjectError SubmitRefusal(const TaskSpec& spec) const;
  void StartActorWhenItFits(ActorState& a);
  void StartWaitingActors();
  void ReleaseActorResources(ActorState& a);
  // Scheduling (node_manager_scheduling.cc).
  void Enqueue(Task& task, bool front);
  void Dispatch();
  Worker* PickWorker(int job, const ResourceShape& shape);
  void SendTask(Worker& w, Task& task);
  void SettleLease(Worker& w);
  void SetBlocked(Worker& w, int delta);
  void SpawnForReadyWork(int job);
  void StealForIdleWorkers();
  void StealFor(int job);
  bool Reachable(const Task& task) const;
  int DepthOfTasksFrom(const Worker& w) const;
  std::string UnknownObjectMessage(const ObjectID& id) const;
  std::string FdShortage(int needed) const;
  void PauseAccepting();
  void ResumeAcceptingWhenDue();

  void TaskDone(Worker& w, const TaskID& id, Payload payload);
  void TaskFinished(Task& task, Payload payload, const std::string& where);
  void FinishTask(const TaskID& id);
  void Complete(const ObjectID& id, Payload payload);
  void CompleteOne(const ObjectID& id, Payload payload, std::deque<std::pair<ObjectID, Payload>>& work);
  void FailTask(Task& task, ObjectError error);
  void AddRefLocked(const ObjectID& id);
  void RemoveRefLocked(const ObjectID& id);
  void CancelLocked(const ObjectID& id);
  void CancelTask(Task& task, const std::string& why);
  bool RetriesLeft(const Task& task) const;
  Payload PayloadOf(const ObjectID& id);
  void CheckRequests();
  void AddRequest(ObjectRequest r);
  bool Answer(ObjectRequest& request, bool satisfied);  // false if its client is gone
  void FlushWrites();
  void Wake() const { (void)!::write(wake_fd_, &kOne, sizeof kOne); }  // another turn of the I/O loop; any thread
  static constexpr uint64_t kOne = 1;
  // The task and its arguments, resolved: inline bytes, or where in the store.
  ExecuteMsg ExecuteOf(ExecKind kind, uint64_t seq, const TaskID& id, const TaskSpec& spec) const;

  // Actors: each lives in a worker process of its own (Worker::actor).
  void CreateActorLocked(const ActorID& id, TaskSpec factory, ActorOptions options, Worker* owner);
  void ActorCreated(ActorState& a, Payload payload);
  void DispatchActor(ActorState& a);
  Task* NextCall(ActorState& a);
  void OnActorWorkerDeath(ActorState& a, const std::string& why);
  void KillActorLocked(const ActorID& id, bool no_restart, const std::string& cause);
  void ActorIsDead(ActorState& a, std::string cause);
  void RecordActor(const ActorState& a);  // its state now, in the lineage log
  static storage::ActorState StoredState(const ActorState& a);  // as the log and the dashboard name it
  // Replay, checkpoints and restoring actors (node_manager_replay.cc).
  void QueueReplay(ActorState& a);
  void RecordCall(ActorState& a, const Task& call);
  void RequestCheckpoint(ActorState& a);
  bool CheckpointTaken(ActorState& a, const Task& task, const Payload& payload);
  void NameCheckpoint(ActorState& a);
  void ReleaseReplayState(ActorState& a);
  TaskSpec CreationOf(const ActorState& a) const;
  void RestoreActorLocked(const storage::ActorRecord& record);
  bool RestoredObject(const ObjectID& id, std::string* why, bool* from_copy = nullptr);
  void CheckpointRestored(const ObjectID& id, const Payload& outcome);
  void QueueRestoredCall(ActorState& a, const storage::TaskRecord& call);
  static TaskSpec SpecOf(const storage::TaskRecord& record);
  bool IsPool(const Worker& w) const;

  NodeOptions options_;  // set at Start, read-only after
  // mu_ guards every field below but the I/O loop's own (listen_fd_,
  // epoll_fd_, wake_fd_, socket_path_, worker_argv_, thread_: set at Start)
  // and supervision_ (its own threads; it calls back into OnWorkerDown, which
  // takes mu_). Functions ending in Locked, and every private one that
  // touches these fields, REQUIRE mu_; the public ones take it.
  std::mutex mu_;
  static constexpr int kLocalClient = -1;
  static constexpr int kEmbeddedJob = 0;
  std::map<int, Job> jobs_;  // by id
  int next_job_ = 1;
  mutable std::set<std::string> warned_waiting_;  // demand said to wait for a node (Infeasible)
  std::map<int, Peer> peers_;  // other nodes that registered here, by id (dead ones until the next registers)
  DeadNodes dead_nodes_;       // the nodes that left, this run's and earlier runs' (set at Start)
  int next_peer_ = 0;
  size_t spread_turn_ = 0;  // SPREAD: the next node in turn (0: this one, then the live peers by id)
  std::unordered_map<TaskID, Forwarded> forwarded_;  // tasks sent to a peer, not done
  std::unordered_map<uint64_t, TaskID> forwarded_requests_;  // a peer's Get reply -> its task
  uint64_t next_forward_request_ = 1;
  std::unordered_map<uint64_t, ActorID> peer_creations_;  // a CreateActor sent to a peer, not answered -> its actor
  std::unique_ptr<ObjectTransfer> transfer_;  // set at Start; calls back into mu_
  std::unique_ptr<DurabilityFlusher> flusher_;  // serve_drivers: answers FlushMsg; calls back into mu_
  std::unique_ptr<Worker> local_client_;  // the embedded driver, once connected
  std::vector<Message> local_replies_;    // for it, handed over once mu_ is released (Unlocker)

  std::unordered_map<ObjectID, Entry> objects_;
  std::unordered_map<TaskID, Task> tasks_;
  TaskDependencies dependencies_;  // tasks waiting for their arguments
  ReadyQueue ready_;
  TaskHistory history_;
  LineageRecorder lineage_;
  ResourceLedger resources_;  // not leased to running tasks, held by actors or by bundles
  std::unordered_map<int, std::vector<int>> lease_gpus_;  // by worker number: its lease's GPU ids
  std::deque<ActorID> actors_waiting_;  // feasible, but their resources are held by others now
  std::map<int, std::unique_ptr<Worker>> workers_;  // by worker number
  ObjectWaiters waiters_;  // clients' Get/Wait requests not answered yet (NextDeadline needs no lock)
  std::vector<ObjectID> deletes_;                   // store deletes, done outside mu_
  std::unordered_map<ActorID, ActorState> actors_;
  std::map<std::string, PlacedGroup> placed_;          // the head's: groups it places, by id
  std::map<uint64_t, std::string> prepares_;           // a PrepareBundles sent to a node -> its group
  uint64_t next_prepare_ = 1;
  Clock::time_point next_placement_ = Clock::time_point::max();  // pending groups are tried again then
  std::set<std::string> ended_groups_;                 // removed: their tasks are not retried here
  std::map<std::pair<std::string, std::string>, ActorID> named_actors_;  // (namespace, name)
  int next_worker_ = 0;
  std::vector<int> to_fork_;  // workers recorded, not forked yet
  uint64_t deaths_seen_by_caf_ = 0;
  uint64_t deaths_seen_by_reaping_ = 0;
  bool stopping_ = false;
  bool warned_fd_shortage_ = false;
  struct RebuildStats {
    uint64_t evicted = 0;  // objects the store evicted (rebuilt when needed)
    uint64_t tasks = 0;    // tasks re-run (or Puts restored) from lineage
  } rebuild_stats_;
  std::unique_ptr<PutCopies> copies_;  // set at Start, or null; its thread calls OnPutCopyDone
  std::unique_ptr<LogRelay> logs_;     // set at Start, or null; needs no lock of ours
  bool accept_paused_ = false;
  Clock::time_point accept_resume_at_;
  // The driver's descriptors per worker: its frame socket, its CAF
  // connection, its object store connection, its log's pipe and file.
  static constexpr int kFdsPerWorker = 5;

  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> groups_changed_{true};  // the placement groups' table changed (its callback; no lock)
  std::string socket_path_;
  std::unique_ptr<Supervision> supervision_;
  std::unique_ptr<StoreGateway> gateway_;      // set at Start with listen_host; own threads, no lock of ours
  std::unique_ptr<TunnelEntrance> entrance_;   // likewise; calls AdoptTunnel and gateway_
  uint16_t supervisor_port_ = 0;
  std::thread thread_;
};

}  // namespace lumen::internal
