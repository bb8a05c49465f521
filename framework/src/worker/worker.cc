// Worker mode: the executor runs the tasks the node sends, one at a time (or
// an actor's calls, up to its max_concurrency at once), and serves the lumen
// API to the code it runs through this process's client core.
#include "worker/worker.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "client/client_core.h"
#include "control/supervision.h"
#include "lumen/errors.h"
#include "lumen/remote.h"
#include "lumen/storage/object_store.h"
#include "runtime/current_core.h"
#include "runtime/visible_gpus.h"
#include "worker/worker_link.h"

namespace lumen::internal {
namespace {

// Thrown by ExitActor through the user's method to the worker's loop.
struct ActorExitRequest {};

std::atomic<bool> g_actor_restarted{false};
std::atomic<bool> g_hosting_actor{false};

class Executor {
 public:
  Executor(WorkerLink& link, ClientCore& core) : link_(link), core_(core) {}

  // Returns when the node goes away.
  void Run() {
    ExecuteMsg task;
    while (link_.NextTask(&task, [this] { core_.FlushRefs(); })) {
      Execute(task);
      if (max_concurrency_ > 1) return RunConcurrent();
    }
  }

 private:
  // An actor with max_concurrency n: this thread only reads frames; n
  // threads run the calls and send their replies.
  void RunConcurrent() {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<ExecuteMsg> queue;
    std::vector<std::thread> pool;
    for (int i = 0; i < max_concurrency_; ++i)
      pool.emplace_back([&] {
        for (;;) {
          ExecuteMsg task;
          {
            std::unique_lock l(mu);
            cv.wait(l, [&] { return !queue.empty(); });
            task = std::move(queue.front());
            queue.pop_front();
          }
          Execute(task);
        }
      });
    link_.ReadForever([&](ExecuteMsg task) {
      std::lock_guard l(mu);
      queue.push_back(std::move(task));
      cv.notify_one();
    });
  }

  class Sink : public ResultSink {
   public:
    // A plain task's result may be evicted when lineage can re-make it.
    Sink(Executor* executor, ObjectID id, bool reconstructable)
        : executor_(executor), id_(id), reconstructable_(reconstructable) {}
    void Emit(const codec::Encoded& encoded, std::vector<ObjectID> nested_refs) override {
      payload = executor_->core_.Store(id_, encoded, std::move(nested_refs), reconstructable_);
    }
    void EmitInstance(void* instance, void (*deleter)(void*)) override {
      executor_->instance_ = std::unique_ptr<void, void (*)(void*)>(instance, deleter);
      Emit(codec::Encode(true), {});  // "created"
    }
    Payload payload;

   private:
    Executor* executor_;
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

  void Execute(ExecuteMsg& task) {
    static const bool lineage_on = std::getenv("LUMEN_WORKER_LINEAGE") != nullptr;
    Sink sink(this, ObjectID::ForTaskReturn(task.id, 0), lineage_on && task.kind == ExecKind::kTask);
    ObjectError error;
    bool exit_actor = false;
    try {
      const RemoteFunction* fn = FindFunction(task.function);
      if (!fn) throw BadCallError("function '" + task.function + "' is not registered in the worker's binary");
      std::vector<ObjectData> args;
      for (const ExecuteMsg::Arg& arg : task.args) {
        Payload p;
        p.kind = arg.in_store ? Payload::kInStore : Payload::kInline;
        p.size = arg.size;
        p.bytes = arg.bytes;
        args.push_back(core_.Resolve(arg.id, p));
      }
      // A task sees its own GPUs while it runs; an actor sees its GPUs from
      // its creation on, and its calls carry none.
      if (task.kind != ExecKind::kActorCall) SetVisibleGpus(task.gpu_ids);
      if (task.kind == ExecKind::kCreateActor) {
        if (!fn->is_factory) throw BadCallError("'" + task.function + "' is not an actor factory (a function returning T*)");
        g_actor_restarted = task.restarted;
        g_hosting_actor = true;
        link_.KeepQueuedTasks();
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
    // Additions go before the result; removals wait for a later message.
    core_.Send(TaskDoneMsg{task.id, std::move(sink.payload)}, /*removals_after=*/false);
    if (exit_actor) {  // the reply first, then the end of this actor
      core_.Send(ActorExitMsg{});
      std::fflush(nullptr);
      std::_Exit(0);
    }
  }

  WorkerLink& link_;
  ClientCore& core_;
  std::unique_ptr<void, void (*)(void*)> instance_{nullptr, [](void*) {}};  // the actor hosted here
  int max_concurrency_ = 1;
};

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
  std::shared_ptr<void> supervised = JoinSupervisor(std::atoi(number ? number : "0"), &error);
  int fd = ConnectUnix(node_socket);
  if (fd < 0) {
    if (!supervised) std::_Exit(0);  // the node shut down while this worker was starting
    std::fprintf(stderr, "lumen worker: cannot reach the node manager at %s: %s\n", node_socket, std::strerror(errno));
    std::_Exit(1);
  }
  if (!supervised) std::fprintf(stderr, "lumen worker: not supervised through CAF (%s); relying on reaping\n", error.c_str());
  std::unique_ptr<ClaimSlots> claims;
  if (const char* claims_fd = std::getenv("LUMEN_WORKER_CLAIMS_FD")) claims = ClaimSlots::Open(std::atoi(claims_fd));
  WorkerLink link(fd, std::move(claims));
  auto core = std::make_shared<ClientCore>(link, store);
  SetCurrentCore(core);
  Executor(link, *core).Run();
  // Leave at once: the driver's static objects were never set up for this process.
  std::fflush(nullptr);
  std::_Exit(0);
}

}  // namespace lumen::internal
