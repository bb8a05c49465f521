#include "supervision.h"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <mutex>
#include <vector>

#include "lumen/errors.h"

namespace lumen::internal {
namespace {

// The supervision protocol, one line a message:
//   supervisor <- (register, worker number, worker actor): monitor this worker process (replies ok)
//   head       <- (node, name, workers): record a node in the directory (replies ok)
//   head       <- (nodes): list the directory (replies a vector of names)
using register_atom = caf::atom_constant<caf::atom("register")>;
using node_atom = caf::atom_constant<caf::atom("node")>;
using nodes_atom = caf::atom_constant<caf::atom("nodes")>;

void QuietConfig(caf::actor_system_config& cfg, size_t threads) {
  cfg.load<caf::io::middleman>();
  cfg.set("scheduler.max-threads", threads);  // fewer threads: fewer wake-ups per message
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
}

struct SupervisorState {
  std::mutex mu;
  Supervision::WorkerDown on_down;  // cleared on stop
  std::map<caf::actor_addr, int> workers;
};

caf::behavior SupervisorActor(caf::event_based_actor* self, std::shared_ptr<SupervisorState> st) {
  self->set_down_handler([st](caf::down_msg& dm) {
    std::lock_guard lock(st->mu);
    auto it = st->workers.find(dm.source);
    if (it == st->workers.end()) return;
    int number = it->second;
    st->workers.erase(it);
    if (st->on_down) st->on_down(number, caf::to_string(dm.reason));
  });
  return {
      [self, st](register_atom, int32_t number, caf::actor worker) {
        self->monitor(worker);
        std::lock_guard lock(st->mu);
        st->workers.emplace(worker.address(), number);
        return caf::atom("ok");  // the worker serves only once it is monitored
      },
  };
}

struct HeadState {
  std::vector<Supervision::NodeInfo> nodes;
};

caf::behavior HeadActor(caf::stateful_actor<HeadState>* self, std::shared_ptr<std::vector<Supervision::NodeInfo>> out) {
  return {
      [self](node_atom, const std::string& name, int32_t workers) {
        self->state.nodes.push_back({name, workers, {}});
        return caf::atom("ok");
      },
      [self, out](nodes_atom) {
        *out = self->state.nodes;
        return static_cast<int32_t>(self->state.nodes.size());
      },
  };
}

class CafSupervision : public Supervision {
 public:
  CafSupervision(const NodeInfo& node, WorkerDown on_down) : state_(std::make_shared<SupervisorState>()) {
    state_->on_down = std::move(on_down);
    QuietConfig(cfg_, 2);
    system_ = std::make_unique<caf::actor_system>(cfg_);
    head_ = system_->spawn(HeadActor, nodes_out_);
    supervisor_ = system_->spawn(SupervisorActor, state_);
    auto port = system_->middleman().publish(supervisor_, 0, "127.0.0.1");
    if (!port) throw Error("cannot start worker supervision: " + system_->render(port.error()));
    port_ = *port;
    caf::scoped_actor self{*system_};
    self->request(head_, std::chrono::seconds(5), node_atom::value, node.name, int32_t{node.num_workers})
        .receive([](caf::atom_value) {}, [](caf::error&) {});
  }

  ~CafSupervision() override {
    {
      std::lock_guard lock(state_->mu);
      state_->on_down = nullptr;  // no callbacks into a node manager being torn down
    }
    caf::scoped_actor self{*system_};
    self->send_exit(supervisor_, caf::exit_reason::user_shutdown);
    self->send_exit(head_, caf::exit_reason::user_shutdown);
    self->wait_for(supervisor_, head_);
    supervisor_ = nullptr;
    head_ = nullptr;
    (void)system_->middleman().close(port_);
  }

  uint16_t port() const override { return port_; }

  std::vector<NodeInfo> Nodes() override {
    caf::scoped_actor self{*system_};
    self->request(head_, std::chrono::seconds(5), nodes_atom::value).receive([](int32_t) {}, [](caf::error&) {});
    return *nodes_out_;
  }

 private:
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> system_;
  std::shared_ptr<SupervisorState> state_;
  std::shared_ptr<std::vector<NodeInfo>> nodes_out_ = std::make_shared<std::vector<NodeInfo>>();
  caf::actor head_;
  caf::actor supervisor_;
  uint16_t port_ = 0;
};

// A worker's side: its own actor system and the actor standing for the process.
struct WorkerLink {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  caf::actor self;
};

}  // namespace

std::unique_ptr<Supervision> Supervision::Start(const NodeInfo& node, WorkerDown on_worker_down) {
  return std::make_unique<CafSupervision>(node, std::move(on_worker_down));
}

std::shared_ptr<void> JoinSupervisor(uint16_t port, int worker_number, std::string* error) {
  auto link = std::make_shared<WorkerLink>();
  QuietConfig(link->cfg, 1);
  link->system = std::make_unique<caf::actor_system>(link->cfg);
  auto supervisor = link->system->middleman().remote_actor("127.0.0.1", port);
  if (!supervisor) {
    *error = link->system->render(supervisor.error());
    return nullptr;
  }
  // An actor with a behavior lives while referenced: it stands for this process.
  // (Spawned with an argument: CAF 0.17 dereferences a null tuple pointer when
  // a functor actor takes none, which UBSan rightly reports.)
  link->self = link->system->spawn(
      [](caf::event_based_actor*, int32_t) -> caf::behavior { return {[](caf::atom_value) {}}; },
      int32_t{worker_number});
  // Wait until the supervisor monitors this process: a death before that
  // would go unnoticed by CAF (reaping would catch it, a second later).
  bool registered = false;
  caf::scoped_actor self{*link->system};
  self->request(*supervisor, std::chrono::seconds(10), register_atom::value, int32_t{worker_number}, link->self)
      .receive([&](caf::atom_value) { registered = true; },
               [&](caf::error& e) { *error = "registering with the supervisor: " + link->system->render(e); });
  if (!registered) return nullptr;
  return link;
}

}  // namespace lumen::internal
