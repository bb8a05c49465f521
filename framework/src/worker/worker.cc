#include "worker/worker.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <thread>
#include <memory>
#include <mutex>
#include <typeinfo>

#include "lumen/errors.h"
#include "lumen/remote.h"
#include "lumen/storage/object_store.h"
#include "protocol/claim_slots.h"
#include "runtime/current_core.h"
#include "protocol/payloads.h"
#include "control/supervision.h"
#include "runtime/validation.h"
#include "protocol/wire.h"

namespace lumen::internal {

namespace {

// Thrown by ExitActor through the user's method to the worker's loop.
struct ActorExitRequest {};

std::atomic<bool> g_actor_restarted{false};
std::atomic<bool> g_hosting_actor{false};

struct ExecuteMsg {
  ExecKind kind = ExecKind::kTask;
  uint64_t seq = 0;      // kTask: claimed before it runs (ClaimSlots); 0 = always ours
  ActorID actor;         // kCreateActor
  bool restarted = false;
  int max_concurrency = 1;
  TaskID id;
  std::string function;
  std::string name;
  std::vector<std::pair<bool, Payload>> args;  // (in store?, payload); in-store args carry their id
  std::vector<ObjectID> store_ids;
};

class WorkerCore : public Core {
 public:
  WorkerCore(int fd, std::shared_ptr<storage::ObjectStore> store, std::unique_ptr<ClaimSlots> claims)
      : conn_(fd), store_(std::move(store)), claims_(std::move(claims)) {}

  // The worker's main loop: returns when the node manager goes away.
  void Run() {
    for (;;) {
      std::unique_lock lock(mu_);
      ExecuteMsg task;
      if (!NextTask(lock, &task)) return;
      Execute(lock, task);
      if (max_concurrency_ > 1) {
        lock.unlock();
        return RunConcurrent();
      }
    }
  }

  // An actor with max_concurrency n: this thread only reads frames; n
  // threads run the calls and send their replies, and requests they make
  // (Get, Wait) get their replies through this thread.
  void RunConcurrent() {
    std::mutex pool_mu;
    std::condition_variable pool_cv;
    std::deque<ExecuteMsg> pool_queue;
    bool stop = false;
    std::vector<std::thread> pool;
    for (int i = 0; i < max_concurrency_; ++i)
      pool.emplace_back([&] {
        for (;;) {
          ExecuteMsg task;
          {
            std::unique_lock l(pool_mu);
            pool_cv.wait(l, [&] { return stop || !pool_queue.empty(); });
            if (pool_queue.empty()) return;
            task = std::move(pool_queue.front());
            pool_queue.pop_front();
          }
          std::unique_lock lock(mu_);
          Execute(lock, task);
          if (!conn_.FlushBlocking()) Exit();
        }
      });
    {
      std::lock_guard lock(mu_);
      reader_thread_mode_ = true;
    }
    MsgType t;
    std::string body;
    for (;;) {
      while (conn_.NextFrame(&t, &body)) {
        WireReader in(body.data(), body.size());
        if (t == MsgType::kExecute) {
          std::lock_guard l(pool_mu);
          pool_queue.push_back(ParseExecute(in));
          pool_cv.notify_one();
        } else {
          std::lock_guard lock(mu_);
          replies_[in.U64()] = body.substr(8);
          reply_cv_.notify_all();
        }
      }
      if (!conn_.ReadBlocking(-1)) Exit();
    }
  }

  ObjectID Submit(TaskSpec spec) override {
    CheckTask(spec);
    std::vector<ObjectID> promoted = TransferredRefs(spec.args);
    std::unique_lock lock(mu_);
    TaskID id = TaskID::Random();
    if (spec.name.empty()) spec.name = spec.function;
    WireWriter out(MsgType::kSubmit);
    out.Id(id);
    out.PutSpec(spec);
    Send(out.Finish());
    lock.unlock();
    for (const ObjectID& arg : promoted) RemoveRef(arg);  // the task pins them now
    return ObjectID::ForTaskReturn(id, 0);
  }

  ObjectID Put(const codec::Encoded& encoded, std::vector<ObjectID> nested_refs) override {
    ObjectID id = ObjectID::ForPut();
    Payload p = Store(id, encoded, std::move(nested_refs));
    if (p.kind == Payload::kError) ThrowObjectError(p.error);
    std::unique_lock lock(mu_);
    WireWriter out(MsgType::kPut);
    out.Id(id);
    out.PutPayload(p);
    Send(out.Finish());
    return id;
  }

  std::vector<ObjectData> Get(const std::vector<ObjectID>& ids, int64_t timeout_ms) override {
    std::unique_lock lock(mu_);
    std::string reply = Request(lock, MsgType::kGet, ids, 0, timeout_ms);
    WireReader in(reply.data(), reply.size());
    if (!in.U8())
      throw GetTimeoutError("Get timed out after " + std::to_string(timeout_ms) + " ms waiting for " +
                            std::to_string(ids.size()) + " objects");
    std::vector<Payload> payloads;
    for (size_t i = 0; i < ids.size(); ++i) payloads.push_back(in.GetPayload());
    lock.unlock();
    std::vector<ObjectData> out;
    for (size_t i = 0; i < ids.size(); ++i) {
      for (int round = 0;; ++round) {
        try {
          out.push_back(Resolve(ids[i], payloads[i]));
          break;
        } catch (const ObjectLostError&) {
          // Evicted between the node's answer and this read: ask again, and
          // the node rebuilds it (its eviction is recorded as the store makes room).
          if (payloads[i].kind != Payload::kInStore || round >= 20) throw;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        lock.lock();
        std::string again = Request(lock, MsgType::kGet, {ids[i]}, 0, timeout_ms);
        lock.unlock();
        WireReader more(again.data(), again.size());
        if (!more.U8()) throw GetTimeoutError("Get timed out after " + std::to_string(timeout_ms) + " ms");
        payloads[i] = more.GetPayload();
      }
    }
    return out;
  }

  std::vector<bool> Wait(const std::vector<ObjectID>& ids, int num_objects, int64_t timeout_ms) override {
    std::unique_lock lock(mu_);
    std::string reply = Request(lock, MsgType::kWait, ids, num_objects, timeout_ms);
    WireReader in(reply.data(), reply.size());
    std::vector<bool> ready;
    for (size_t i = 0; i < ids.size(); ++i) ready.push_back(in.U8());
    return ready;
  }

  // Reference changes ride on the next message: adds before it, removes after
  // (so an object this worker hands on is never freed in between).
  void AddRef(const ObjectID& id) override {
    std::lock_guard lock(refs_mu_);
    added_.push_back(id);
  }
  void RemoveRef(const ObjectID& id) override {
    std::lock_guard lock(refs_mu_);
    removed_.push_back(id);
  }

  void Cancel(const ObjectID& id) override {
    std::unique_lock lock(mu_);
    WireWriter out(MsgType::kCancel);
    out.Id(id);
    Send(out.Finish());
  }

  // From a task: the node manager creates the actor; a name already taken
  // makes the actor dead with that cause (its calls fail with ActorDiedError).
  ActorID CreateActor(TaskSpec factory, ActorOptions options) override {
    CheckActor(factory, options);
    std::vector<ObjectID> by_ref;
    for (const TaskArg& arg : factory.args)
      if (arg.by_ref) by_ref.push_back(arg.ref);
    if (!by_ref.empty()) Get(by_ref, -1);  // ready before the factory runs
    std::vector<ObjectID> promoted = TransferredRefs(factory.args);
    ActorID id = ActorID::Random();
    std::unique_lock lock(mu_);
    WireWriter out(MsgType::kCreateActor);
    out.Id(id);
    out.PutSpec(factory);
    out.PutActorOptions(options);
    Send(out.Finish());
    lock.unlock();
    for (const ObjectID& arg : promoted) RemoveRef(arg);
    return id;
  }

  void KillActor(const ActorID& id, bool no_restart) override {
    std::unique_lock lock(mu_);
    WireWriter out(MsgType::kKillActor);
    out.Id(id);
    out.U8(no_restart);
    Send(out.Finish());
  }

  std::optional<ActorID> GetNamedActor(const std::string& name, const std::string& ns) override {
    std::unique_lock lock(mu_);
    uint64_t id = next_request_++;
    WireWriter out(MsgType::kLookupActor);
    out.U64(id);
    out.Str(name);
    out.Str(ns);
    std::string reply = SendAndAwait(lock, out.Finish(), id);
    WireReader in(reply.data(), reply.size());
    bool found = in.U8();
    ActorID actor = in.Id<ActorID>();
    if (!found) return std::nullopt;
    return actor;
  }

 private:
  // The reference changes recorded since the last call.
  std::pair<std::vector<ObjectID>, std::vector<ObjectID>> TakeRefChanges(bool removals = true) {
    std::lock_guard lock(refs_mu_);
    std::pair<std::vector<ObjectID>, std::vector<ObjectID>> changes;
    changes.first.swap(added_);
    if (removals) changes.second.swap(removed_);
    return changes;
  }

  // Queues `frame` after pending reference additions; removals follow it.
  void Send(std::string frame) {
    auto [added, removed] = TakeRefChanges();
    if (!added.empty()) conn_.Queue(RefsFrame(added, {}));
    conn_.Queue(std::move(frame));
    if (!removed.empty()) conn_.Queue(RefsFrame({}, removed));
    if (!conn_.FlushBlocking()) Exit();
  }

  void FlushRefs() {
    auto [added, removed] = TakeRefChanges();
    if (added.empty() && removed.empty()) return;
    conn_.Queue(RefsFrame(added, removed));
  }

  static std::string RefsFrame(const std::vector<ObjectID>& added, const std::vector<ObjectID>& removed) {
    WireWriter out(MsgType::kRefs);
    out.Ids(added);
    out.Ids(removed);
    return out.Finish();
  }

  // The node manager is gone: so is the job.
  [[noreturn]] void Exit() {
    std::fflush(nullptr);
    std::_Exit(0);
  }

  // Sends a Get/Wait request and reads frames until its reply; tasks that
  // arrive meanwhile go straight back, since this worker is blocked.
  std::string Request(std::unique_lock<std::mutex>& lock, MsgType type, const std::vector<ObjectID>& ids, int num,
                      int64_t timeout_ms) {
    uint64_t id = next_request_++;
    WireWriter out(type);
    out.U64(id);
    out.Ids(ids);
    out.U32(static_cast<uint32_t>(num));
    out.I64(timeout_ms);
    return SendAndAwait(lock, out.Finish(), id);
  }

  // Sends a request and returns its reply's body (after the request id).
  std::string SendAndAwait(std::unique_lock<std::mutex>& lock, std::string frame, uint64_t id) {
    if (reader_thread_mode_) {  // the reader thread delivers replies
      Send(std::move(frame));
      reply_cv_.wait(lock, [&] { return replies_.count(id) > 0; });
      std::string reply = std::move(replies_[id]);
      replies_.erase(id);
      return reply;
    }
    ReturnQueuedTasks();
    Send(std::move(frame));
    MsgType t;
    std::string body;
    for (;;) {
      while (conn_.NextFrame(&t, &body)) {
        WireReader in(body.data(), body.size());
        if (t == MsgType::kExecute) {
          queue_.push_back(ParseExecute(in));
          ReturnQueuedTasks();
          if (!conn_.FlushBlocking()) Exit();
        } else if ((t == MsgType::kGetReply || t == MsgType::kWaitReply || t == MsgType::kLookupReply) &&
                   in.U64() == id) {
          return body.substr(8);
        }
      }
      if (!conn_.ReadBlocking(-1)) Exit();
    }
  }

  // A pool worker blocked in Get hands back the tasks it was sent ahead, so
  // others run them. An actor keeps its calls: they are its own, in order,
  // and run after the one that waits.
  void ReturnQueuedTasks() {
    if (queue_.empty() || g_hosting_actor) return;
    WireWriter out(MsgType::kReturnTasks);
    out.U32(static_cast<uint32_t>(queue_.size()));
    for (const auto& t : queue_) out.Id(t.id);
    queue_.clear();
    conn_.Queue(out.Finish());
  }

  static ExecuteMsg ParseExecute(WireReader& in) {
    ExecuteMsg m;
    m.kind = static_cast<ExecKind>(in.U8());
    m.seq = in.U64();
    if (m.kind == ExecKind::kCreateActor) {
      m.actor = in.Id<ActorID>();
      m.restarted = in.U8();
      m.max_concurrency = static_cast<int>(in.I64());
    }
    m.id = in.Id<TaskID>();
    m.function = in.Str();
    m.name = in.Str();
    uint32_t n = in.U32();
    for (uint32_t i = 0; i < n; ++i) {
      Payload p;
      if (in.U8() == 0) {
        p.size = in.U64();
        p.bytes = in.Bytes(p.size);
        m.store_ids.emplace_back();
        m.args.emplace_back(false, std::move(p));
      } else {
        m.store_ids.push_back(in.Id<ObjectID>());
        p.kind = Payload::kInStore;
        p.size = in.U64();
        m.args.emplace_back(true, std::move(p));
      }
    }
    return m;
  }

  // Waits for the next task, flushing replies and reference changes first.
  bool NextTask(std::unique_lock<std::mutex>&, ExecuteMsg* task) {
    MsgType t;
    std::string body;
    for (;;) {
      if (!queue_.empty()) {
        *task = std::move(queue_.front());
        queue_.pop_front();
        // Sent ahead and then taken back by the node for an idle worker: skip it.
        if (task->seq && claims_ && !claims_->Claim(task->seq)) continue;
        return true;
      }
      while (conn_.NextFrame(&t, &body)) {
        WireReader in(body.data(), body.size());
        if (t == MsgType::kExecute) queue_.push_back(ParseExecute(in));
        // Late replies to requests that timed out are dropped.
      }
      if (!queue_.empty()) continue;
      FlushRefs();
      if (!conn_.FlushBlocking()) return false;
      if (!conn_.ReadBlocking(-1)) return false;
    }
  }

  ObjectData Resolve(const ObjectID& id, const Payload& p) { return ResolvePayload(store_, id, p); }

  Payload Store(const ObjectID& id, const codec::Encoded& encoded, std::vector<ObjectID> nested_refs,
                bool reconstructable = false) {
    return StorePayload(*store_, id, encoded, std::move(nested_refs), reconstructable);
  }

  class Sink : public ResultSink {
   public:
    // A plain task's result may be evicted when lineage can re-make it.
    Sink(WorkerCore* core, ObjectID id, bool reconstructable) : core_(core), id_(id), reconstructable_(reconstructable) {}
    void Emit(const codec::Encoded& encoded, std::vector<ObjectID> nested_refs) override {
      payload = core_->Store(id_, encoded, std::move(nested_refs), reconstructable_);
    }
    void EmitInstance(void* instance, void (*deleter)(void*)) override {
      core_->instance_ = std::unique_ptr<void, void (*)(void*)>(instance, deleter);
      Emit(codec::Encode(true), {});  // "created"
    }
    Payload payload;

   private:
    WorkerCore* core_;
    ObjectID id_;
    bool reconstructable_;
  };

  // How errors name what ran: a task, an actor's method, or an actor's factory.
  static std::string What(const ExecuteMsg& task) {
    const std::string& name = task.name.empty() ? task.function : task.name;
    switch (task.kind) {
      case ExecKind::kCreateActor: return "creating actor with factory '" + name + "'";
      case ExecKind::kActorCall: return "actor method '" + name + "'";
      default: return "task '" + name + "'";
    }
  }

  void Execute(std::unique_lock<std::mutex>& lock, ExecuteMsg& task) {
    static const bool lineage_on = std::getenv("LUMEN_WORKER_LINEAGE") != nullptr;
    Sink sink(this, ObjectID::ForTaskReturn(task.id, 0), lineage_on && task.kind == ExecKind::kTask);
    lock.unlock();  // the task may call the lumen API
    ObjectError error;
    bool exit_actor = false;
    try {
      const RemoteFunction* fn = FindFunction(task.function);
      if (!fn) throw BadCallError("function '" + task.function + "' is not registered in the worker's binary");
      std::vector<ObjectData> args;
      for (size_t i = 0; i < task.args.size(); ++i) args.push_back(Resolve(task.store_ids[i], task.args[i].second));
      if (task.kind == ExecKind::kCreateActor) {
        if (!fn->is_factory) throw BadCallError("'" + task.function + "' is not an actor factory (a function returning T*)");
        g_actor_restarted = task.restarted;
        g_hosting_actor = true;
        fn->invoke(nullptr, args, sink);
        if (!instance_) throw BadCallError("actor factory '" + task.function + "' returned nullptr");
        max_concurrency_ = std::max(1, task.max_concurrency);
      } else if (task.kind == ExecKind::kActorCall) {
        if (!fn->is_member) throw BadCallError("'" + task.function + "' is not an actor method");
        fn->invoke(instance_.get(), args, sink);
      } else {
        fn->invoke(nullptr, args, sink);
      }
    } catch (const ActorExitRequest&) {
      exit_actor = true;
      error = {ErrorKind::kActorDied, "the actor called lumen::ExitActor() in '" + task.name + "'", ""};
    } catch (...) {
      error = ErrorFromException(std::current_exception(), What(task));
    }
    if (error.kind != ErrorKind::kNone) {
      sink.payload = Payload();
      sink.payload.kind = Payload::kError;
      sink.payload.error = std::move(error);
    }
    lock.lock();
    WireWriter out(MsgType::kTaskDone);
    out.Id(task.id);
    out.PutPayload(sink.payload);
    // Additions go before the result; removals wait for a later message.
    std::vector<ObjectID> added = TakeRefChanges(/*removals=*/false).first;
    if (!added.empty()) conn_.Queue(RefsFrame(added, {}));
    conn_.Queue(out.Finish());
    if (exit_actor) {  // the reply first, then the end of this actor
      conn_.Queue(WireWriter(MsgType::kActorExit).Finish());
      conn_.FlushBlocking();
      Exit();
    }
    // Send now without waiting for the socket: the next queued task must not
    // hold this result back. NextTask flushes whatever is left.
    if (!conn_.Flush()) Exit();
  }

  Connection conn_;
  std::shared_ptr<storage::ObjectStore> store_;
  std::unique_ptr<ClaimSlots> claims_;  // pool workers
  std::unique_ptr<void, void (*)(void*)> instance_{nullptr, [](void*) {}};  // the actor hosted here
  int max_concurrency_ = 1;
  bool reader_thread_mode_ = false;  // RunConcurrent: replies come through the reader thread
  std::condition_variable reply_cv_;
  std::map<uint64_t, std::string> replies_;
  std::mutex mu_;  // the connection and the task queue
  std::deque<ExecuteMsg> queue_;
  uint64_t next_request_ = 1;
  std::mutex refs_mu_;
  std::vector<ObjectID> added_, removed_;
};

int ConnectUnix(const char* path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void ExitCurrentActor() {
  if (!g_hosting_actor) throw Error("lumen::ExitActor() was called outside an actor method");
  throw ActorExitRequest{};
}

bool CurrentActorWasRestarted() { return g_actor_restarted; }

int RunWorker() {
  const char* node_socket = std::getenv("LUMEN_WORKER_SOCKET");
  const char* store_socket = std::getenv("LUMEN_STORE_SOCKET");
  std::shared_ptr<storage::ObjectStore> store;
  Status s = storage::ConnectToStore(store_socket ? store_socket : "", &store);
  if (!s.ok()) {
    std::fprintf(stderr, "lumen worker: cannot reach the object store: %s\n", s.message().c_str());
    std::_Exit(1);
  }
  // Join CAF supervision: the node manager learns of this process's death from CAF.
  std::string error;
  const char* number = std::getenv("LUMEN_WORKER_NUMBER");
  std::shared_ptr<void> link = JoinSupervisor(std::atoi(number ? number : "0"), &error);
  int fd = ConnectUnix(node_socket);
  if (fd < 0) {
    if (!link) std::_Exit(0);  // the node shut down while this worker was starting
    std::fprintf(stderr, "lumen worker: cannot reach the node manager at %s: %s\n", node_socket, std::strerror(errno));
    std::_Exit(1);
  }
  if (!link) std::fprintf(stderr, "lumen worker: not supervised through CAF (%s); relying on reaping\n", error.c_str());
  std::unique_ptr<ClaimSlots> claims;
  if (const char* claims_fd = std::getenv("LUMEN_WORKER_CLAIMS_FD")) claims = ClaimSlots::Open(std::atoi(claims_fd));
  auto core = std::make_shared<WorkerCore>(fd, store, std::move(claims));
  SetCurrentCore(core);
  core->Run();
  // Leave at once: the driver's static objects were never set up for this process.
  std::fflush(nullptr);
  std::_Exit(0);
}

}  // namespace lumen::internal
