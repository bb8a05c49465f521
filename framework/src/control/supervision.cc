#include "control/supervision.h"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include <cstdlib>
#include <mutex>
#include <set>
#include <vector>

#include "lumen/errors.h"
#include "control/openssl_error_queue.h"
#include "control/session_credentials.h"
#include "control/supervision_protocol.h"

namespace lumen::internal {
namespace {

constexpr const char* kPortVar = "LUMEN_WORKER_SUPERVISOR_PORT";
constexpr const char* kCertificateVar = "LUMEN_WORKER_SUPERVISOR_CERT";
constexpr const char* kKeyVar = "LUMEN_WORKER_SUPERVISOR_KEY";
constexpr const char* kLivenessVar = "LUMEN_WORKER_LIVENESS_MS";

// Both sides: TLS with the session's credentials in front of BASP, and
// heartbeats that expose a silent peer (see the header). Only the supervisor
// drops silent peers: CAF 0.17 starts a connection it opens as last seen at
// the epoch, so a worker with a timeout of its own drops its connection to
// the supervisor at its first tick if the handshake is not through by then.
void SessionConfig(caf::actor_system_config& cfg, size_t threads, const SessionCredentials& credentials,
                   int64_t liveness_timeout_ms, bool drop_silent_peers) {
  if (!OpenSslErrorQueueGuarded()) std::abort();  // keeps the guard linked
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = credentials.certificate_path;
  cfg.openssl_key = credentials.key_path;
  cfg.openssl_cafile = credentials.certificate_path;  // trust this session's certificate alone
  auto timeout = std::chrono::milliseconds(liveness_timeout_ms);
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::max(timeout / 10, std::chrono::milliseconds(1))});
  if (drop_silent_peers) cfg.set("middleman.connection-timeout", caf::timespan{timeout});
  cfg.set("scheduler.max-threads", threads);  // fewer threads: fewer wake-ups per message
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
}

struct SupervisorState {
  std::mutex mu;
  Supervision::WorkerDown on_down;  // cleared on stop
  std::map<caf::actor_addr, int> workers;
  std::set<int> ever_registered;  // a number registers once: no one else may speak for it
};

SupervisorActor::behavior_type Supervisor(SupervisorActor::pointer self, std::shared_ptr<SupervisorState> st) {
  self->set_down_handler([st](caf::down_msg& dm) {
    std::lock_guard lock(st->mu);
    auto it = st->workers.find(dm.source);
    if (it == st->workers.end()) return;
    int number = it->second;
    st->workers.erase(it);
    if (st->on_down) st->on_down(number, caf::to_string(dm.reason));
  });
  return {
      [self, st](register_atom, int32_t number, caf::actor worker) -> caf::result<ok_atom> {
        std::lock_guard lock(st->mu);
        if (!worker || !st->ever_registered.insert(number).second) return caf::sec::invalid_argument;
        self->monitor(worker);
        st->workers.emplace(worker.address(), number);
        return ok_atom::value;  // the worker serves only once it is monitored
      },
  };
}

class CafSupervision : public Supervision {
 public:
  CafSupervision(const Options& options, WorkerDown on_down)
      : state_(std::make_shared<SupervisorState>()) {
    state_->on_down = std::move(on_down);
    liveness_timeout_ms_ = options.liveness_timeout_ms > 0 ? options.liveness_timeout_ms : DefaultLivenessTimeoutMs();
    std::string error;
    if (!MakeSessionCredentials(options.session_dir, &credentials_, &error))
      throw Error("cannot start worker supervision: " + error);
    SessionConfig(cfg_, 2, credentials_, liveness_timeout_ms_, /*drop_silent_peers=*/true);
    system_ = std::make_unique<caf::actor_system>(cfg_);
    supervisor_ = system_->spawn(Supervisor, state_);
    auto port = caf::openssl::publish(supervisor_, 0, "127.0.0.1");
    if (!port) throw Error("cannot start worker supervision: " + system_->render(port.error()));
    port_ = *port;
  }

  ~CafSupervision() override {
    {
      std::lock_guard lock(state_->mu);
      state_->on_down = nullptr;  // no callbacks into a node manager being torn down
    }
    caf::scoped_actor self{*system_};
    self->send_exit(supervisor_, caf::exit_reason::user_shutdown);
    self->wait_for(supervisor_);
    supervisor_ = nullptr;
    (void)system_->middleman().close(port_);
  }

  uint16_t port() const override { return port_; }

  std::vector<std::string> WorkerEnvironment() const override {
    return {std::string(kPortVar) + "=" + std::to_string(port_),
            std::string(kCertificateVar) + "=" + credentials_.certificate_path,
            std::string(kKeyVar) + "=" + credentials_.key_path,
            std::string(kLivenessVar) + "=" + std::to_string(liveness_timeout_ms_)};
  }

 private:
  SessionCredentials credentials_;
  int64_t liveness_timeout_ms_ = 0;
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> system_;
  std::shared_ptr<SupervisorState> state_;
  SupervisorActor supervisor_;
  uint16_t port_ = 0;
};

// A worker's side: its own actor system and the actor standing for the process.
struct WorkerLink {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  caf::actor self;
};

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

}  // namespace

int64_t DefaultLivenessTimeoutMs() {
  int64_t ms = std::atoll(Env(kLivenessVar).c_str());
  return ms > 0 ? ms : 5000;
}

std::unique_ptr<Supervision> Supervision::Start(const Options& options,
                                                WorkerDown on_worker_down) {
  return std::make_unique<CafSupervision>(options, std::move(on_worker_down));
}

std::shared_ptr<void> JoinSupervisor(int worker_number, std::string* error) {
  auto port = static_cast<uint16_t>(std::atoi(Env(kPortVar).c_str()));
  SessionCredentials credentials{Env(kCertificateVar), Env(kKeyVar)};
  if (port == 0 || credentials.certificate_path.empty() || credentials.key_path.empty()) {
    *error = std::string("the supervisor's port or the session's credentials are missing from the environment (") +
             kPortVar + ", " + kCertificateVar + ", " + kKeyVar + ")";
    return nullptr;
  }
  auto link = std::make_shared<WorkerLink>();
  SessionConfig(link->cfg, 1, credentials, DefaultLivenessTimeoutMs(), /*drop_silent_peers=*/false);
  link->system = std::make_unique<caf::actor_system>(link->cfg);
  SupervisorActor supervisor;
  {
    // As caf::openssl::remote_actor, but bounded: a handshake can stall.
    caf::scoped_actor self{*link->system};
    self->request(link->system->openssl_manager().actor_handle(), std::chrono::seconds(10),
                  caf::connect_atom::value, std::string("127.0.0.1"), port)
        .receive([&](const caf::node_id&, caf::strong_actor_ptr& ptr,
                     const std::set<std::string>&) { supervisor = caf::actor_cast<SupervisorActor>(ptr); },
                 [&](caf::error& e) { *error = "connecting to the supervisor: " + link->system->render(e); });
  }
  if (!supervisor) {
    if (error->empty()) *error = "no supervisor at port " + std::to_string(port);
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
  self->request(supervisor, std::chrono::seconds(10), register_atom::value, int32_t{worker_number}, link->self)
      .receive([&](ok_atom) { registered = true; },
               [&](caf::error& e) { *error = "registering with the supervisor: " + link->system->render(e); });
  if (!registered) return nullptr;
  return link;
}

}  // namespace lumen::internal
