#include "node_manager.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lumen/errors.h"
#include "node_manager_records.h"
#include "deadline.h"
#include "payloads.h"
#include "placement_groups.h"
#include "validation.h"

extern char** environ;

namespace lumen::internal {

namespace {
constexpr int kMaxStartupFailures = 5;

uint64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

std::vector<std::string> OwnCommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> argv;
  std::string arg;
  while (std::getline(in, arg, '\0')) argv.push_back(arg);
  return argv;
}
}  // namespace

// ---- start and stop --------------------------------------------------------

NodeManager::NodeManager(NodeOptions options) : options_(std::move(options)) {}

std::unique_ptr<NodeManager> NodeManager::Start(NodeOptions options) {
  std::unique_ptr<NodeManager> nm(new NodeManager(std::move(options)));
  nm->socket_path_ = nm->options_.session_dir + "/node.sock";
  nm->worker_argv_ = OwnCommandLine();

  nm->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (nm->socket_path_.size() >= sizeof addr.sun_path)
    throw Error("session directory path too long for a Unix socket: " + nm->socket_path_);
  std::strcpy(addr.sun_path, nm->socket_path_.c_str());
  if (::bind(nm->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::chmod(nm->socket_path_.c_str(), 0600) != 0 || ::listen(nm->listen_fd_, 128) != 0)
    throw Error("cannot listen on " + nm->socket_path_ + ": " + std::strerror(errno));
  nm->available_ = nm->options_.resources;

  nm->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  nm->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = ~0ull;  // the listening socket
  ::epoll_ctl(nm->epoll_fd_, EPOLL_CTL_ADD, nm->listen_fd_, &ev);
  ev.data.u64 = ~1ull;  // wake-ups
  ::epoll_ctl(nm->epoll_fd_, EPOLL_CTL_ADD, nm->wake_fd_, &ev);

  Supervision::NodeInfo info{nm->options_.node_name, nm->options_.num_workers, nm->options_.resources};
  NodeManager* raw = nm.get();
  Supervision::Options supervision{nm->options_.session_dir, nm->options_.worker_liveness_timeout_ms};
  nm->supervision_ = Supervision::Start(info, supervision, [raw](int number, const std::string& reason) {
    raw->OnWorkerDown(number, reason);
  });
  nm->supervisor_port_ = nm->supervision_->port();
  {
    std::lock_guard lock(nm->mu_);
    for (int i = 0; i < nm->options_.num_workers; ++i) nm->SpawnWorker();
  }
  nm->thread_ = std::thread([p = nm.get()] { p->Loop(); });
  return nm;
}

NodeManager::~NodeManager() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;  // no more spawning from here on
  }
  supervision_.reset();  // no more down messages (its handler may wait for mu_: not held here)
  std::vector<pid_t> pids;
  {
    std::lock_guard lock(mu_);
    for (auto& [n, w] : workers_) {
      if (w->pid <= 0) continue;
      pids.push_back(w->pid);
      if (!w->conn) ::kill(w->pid, SIGKILL);  // still starting: nothing to lose
      w->conn.reset();                        // EOF: the worker exits
    }
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
  thread_.join();
  // Workers exit on EOF; give them a moment, then make sure.
  auto deadline = Clock::now() + std::chrono::seconds(2);
  for (pid_t pid : pids) {
    while (::waitpid(pid, nullptr, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ::close(listen_fd_);
  ::close(epoll_fd_);
  ::close(wake_fd_);
  ::unlink(socket_path_.c_str());
}

// Records a new worker; the I/O thread forks it. The kernel's parent-death
// signal follows the thread that forked, so only the node manager's own
// thread (alive as long as the node) may fork: a worker forked by a user's
// short-lived thread would be killed when that thread ends.
void NodeManager::SpawnWorker(const ActorID& actor) {
  if (stopping_) return;
  auto w = std::make_unique<Worker>();
  w->number = next_worker_++;
  w->actor = actor;
  if (!actor.IsNil()) actors_[actor].worker = w->number;
  to_fork_.push_back(w->number);
  workers_[w->number] = std::move(w);
  if (std::this_thread::get_id() == thread_.get_id()) {
    ForkPending();
  } else {
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
}

void NodeManager::ForkPending() {
  std::vector<int> numbers;
  numbers.swap(to_fork_);
  for (int number : numbers) {
    auto it = workers_.find(number);
    if (it == workers_.end() || it->second->dead || stopping_) continue;
    Worker& w = *it->second;
    if (!w.actor.IsNil()) {  // its actor died before it started: nothing to host
      auto a = actors_.find(w.actor);
      if (a == actors_.end() || a->second.state == ActorState::kDead || a->second.worker != number) {
        w.dead = true;
        continue;
      }
    }
    if (w.actor.IsNil() && !w.claims) w.claims = ClaimSlots::Create();
    int claims_fd = w.claims ? w.claims->fd() : -1;
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
      if (std::strncmp(*e, "LUMEN_WORKER", 12) != 0 && std::strncmp(*e, "LUMEN_STORE", 11) != 0) env.push_back(*e);
    env.push_back("LUMEN_WORKER_SOCKET=" + socket_path_);
    env.push_back("LUMEN_WORKER_NUMBER=" + std::to_string(number));
    env.push_back("LUMEN_WORKER_NAMESPACE=" + options_.ns);
    if (options_.lineage) env.push_back("LUMEN_WORKER_LINEAGE=1");  // results may be evicted: lineage re-makes them
    env.push_back("LUMEN_STORE_SOCKET=" + options_.store_socket);
    for (std::string& e : supervision_->WorkerEnvironment()) env.push_back(std::move(e));
    if (claims_fd >= 0) env.push_back("LUMEN_WORKER_CLAIMS_FD=" + std::to_string(claims_fd));
    std::vector<char*> envp, argv;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    for (auto& a : worker_argv_) argv.push_back(a.data());
    argv.push_back(nullptr);

    pid_t parent = getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
      // A worker never outlives its node manager's thread (nor process).
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      if (claims_fd >= 0) ::fcntl(claims_fd, F_SETFD, 0);  // this child alone inherits it
      ::execve("/proc/self/exe", argv.data(), envp.data());
      _exit(127);
    }
    w.pid = pid;
    if (w.claims) w.claims->CloseFd();  // the mapping stays
  }
}

// ---- the I/O loop ----------------------------------------------------------

void NodeManager::Loop() {
  epoll_event events[64];
  for (;;) {
    // Also the pace of reaping workers that died before joining supervision.
    int timeout_ms = 100;
    Clock::time_point next_deadline = next_deadline_.load();
    if (next_deadline != Clock::time_point::max())
      timeout_ms = static_cast<int>(std::clamp<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(next_deadline - Clock::now()).count() + 1, 0, 100));
    int n = ::epoll_wait(epoll_fd_, events, 64, timeout_ms);
    Unlocker locked(this);
    if (stopping_) return;
    ResumeAcceptingWhenDue();
    ForkPending();
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == ~0ull) {
        Accept();
      } else if (tag == ~1ull) {
        uint64_t v;
        (void)!::read(wake_fd_, &v, sizeof v);
      } else {
        auto it = workers_.find(static_cast<int>(tag));
        if (it == workers_.end() || !it->second->conn) continue;
        Worker& w = *it->second;
        bool alive = w.conn->ReadAvailable();
        MsgType type;
        std::string body;
        try {
          while (w.conn && w.conn->NextFrame(&type, &body)) HandleFrame(w, type, body);
        } catch (const std::exception& e) {
          alive = false;
        }
        if (alive && w.conn && (events[i].events & (EPOLLHUP | EPOLLERR))) alive = false;
        if (!alive) CloseConnection(w);
      }
    }
    CheckRequests();
    ReapWorkers();
    Dispatch();
    FlushWrites();
  }
}

void NodeManager::Accept() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) PauseAccepting();
      return;
    }
    ucred cred{};
    socklen_t len = sizeof cred;
    ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
    Worker* w = nullptr;
    for (auto& [n, candidate] : workers_)
      if (candidate->pid == cred.pid && !candidate->conn && !candidate->dead) w = candidate.get();
    if (!w) {  // not one of ours
      ::close(fd);
      continue;
    }
    w->conn = std::make_unique<Connection>(fd);
    w->ever_connected = true;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.u64 = static_cast<uint64_t>(w->number);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    startup_failures_ = 0;
    workers_changed_.notify_all();
    if (!w->actor.IsNil()) {  // an actor's own process: create the instance
      auto a = actors_.find(w->actor);
      if (a == actors_.end() || a->second.state == ActorState::kDead) {
        CloseConnection(*w);
        continue;
      }
      WireWriter out(MsgType::kExecute);
      out.U8(static_cast<uint8_t>(ExecKind::kCreateActor));
      out.U64(0);  // actors' calls are never stolen: no sequence number
      out.Id(a->second.id);
      out.U8(a->second.restarts > 0);
      out.I64(a->second.options.max_concurrency);
      WriteExecute(out, a->second.creation_task, a->second.creation);
      w->conn->Queue(out.Finish());
    }
  }
}

// CAF reports deaths of workers that joined supervision; reaping catches the
// rest (a worker that died starting up) and is the fallback a second later.
void NodeManager::ReapWorkers() {
  auto now = Clock::now();
  for (auto& [n, w] : workers_) {
    if (w->dead) {
      if (w->pid > 0 && ::waitpid(w->pid, nullptr, WNOHANG) != 0) w->pid = -1;
      continue;
    }
    if (w->pid <= 0) continue;  // not forked yet
    if (w->ever_connected && (w->conn || now - w->disconnected_at < std::chrono::seconds(1))) continue;
    int status;
    if (::waitpid(w->pid, &status, WNOHANG) == w->pid) {
      std::string why = WIFSIGNALED(status) ? "it was killed by signal " + std::to_string(WTERMSIG(status))
                                            : "it exited with status " + std::to_string(WEXITSTATUS(status));
      if (!w->ever_connected) ++startup_failures_;
      ++deaths_seen_by_reaping_;
      OnWorkerDeath(*w, why);
    }
  }
  std::erase_if(workers_, [](const auto& kv) { return kv.second->dead && kv.second->pid < 0; });
}

void NodeManager::OnWorkerDown(int number, const std::string& reason) {
  Unlocker locked(this);
  auto it = workers_.find(number);
  if (it == workers_.end() || it->second->dead) return;
  ++deaths_seen_by_caf_;
  OnWorkerDeath(*it->second, "CAF reported it down: " + reason);
  Dispatch();
  FlushWrites();
}

// The socket closed or broke: the process is dead or must be. Its death is
// handled when CAF (or reaping) reports it, so tasks are re-run only once the
// process is surely gone.
void NodeManager::CloseConnection(Worker& w) {
  if (!w.conn) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w.conn->fd(), nullptr);
  w.conn.reset();
  w.disconnected_at = Clock::now();
  if (w.pid > 0) ::kill(w.pid, SIGKILL);  // not reaped yet, so the pid is still ours
}

void NodeManager::OnWorkerDeath(Worker& w, const std::string& why) {
  if (w.dead) return;
  w.dead = true;
  if (w.conn) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w.conn->fd(), nullptr);
    w.conn.reset();
  }
  if (w.pid <= 0 || ::waitpid(w.pid, nullptr, WNOHANG) != 0) {
    w.pid = -1;  // reaped, gone, or never forked
  } else {
    ::kill(w.pid, SIGKILL);  // its connection broke but it runs on: end it, reap it later
  }
  // Its tasks: retry in the same order, or fail with WorkerCrashedError.
  for (auto it = w.in_flight.rbegin(); it != w.in_flight.rend(); ++it) {
    auto t = tasks_.find(*it);
    if (t == tasks_.end()) continue;
    Task& task = t->second;
    task.worker = -1;
    if (task.cancelled || !Reachable(task)) {
      FinishTask(task.id);  // nobody can see its result: no retry
    } else if (RetriesLeft(task)) {
      ++task.attempt;
      Enqueue(task, /*front=*/true);
    } else {
      ObjectError crashed{ErrorKind::kWorkerCrashed,
                          "the worker running task '" + task.spec.name + "' died (" + why +
                              "); retries spent (max_retries=" + std::to_string(task.spec.max_retries) +
                              ", attempts=" + std::to_string(task.attempt + 1) + ")",
                          ""};
      FailTask(task, task.rebuild ? RebuildFailure(task, crashed) : crashed);
    }
  }
  w.in_flight.clear();
  SettleLease(w);
  for (auto& [id, count] : w.refs)
    for (int64_t i = 0; i < count; ++i) RemoveRefLocked(id);
  w.refs.clear();
  std::erase_if(requests_, [&](const auto& kv) { return kv.second.worker == w.number; });
  // Actors this process created die with it, unless detached.
  std::vector<ActorID> orphans;
  for (auto& [id, a] : actors_)
    if (a.owner == w.number && !a.options.detached.value_or(false) && a.state != ActorState::kDead)
      orphans.push_back(id);
  for (const ActorID& id : orphans)
    KillActorLocked(id, true, "its creator (worker " + std::to_string(w.number) + ") died");
  if (!w.actor.IsNil()) {
    auto a = actors_.find(w.actor);
    if (a != actors_.end() && a->second.worker == w.number) OnActorWorkerDeath(a->second, why);
    return;
  }
  if (stopping_) return;
  int alive = 0;
  for (auto& [n, other] : workers_) alive += !other->dead && IsPool(*other);
  if (alive < options_.num_workers) {
    if (startup_failures_ >= kMaxStartupFailures) {
      // Workers die before connecting: fail queued work rather than loop forever.
      for (const TaskID& id : ready_.TakeAll()) {
        auto t = tasks_.find(id);
        if (t != tasks_.end())
          FailTask(t->second, {ErrorKind::kWorkerCrashed,
                               "worker processes fail to start (last one: " + why + ")", ""});
      }
    } else {
      SpawnWorker();
    }
  }
  workers_changed_.notify_all();
}

void NodeManager::FlushWrites() {
  for (auto& [n, w] : workers_)
    if (w->conn && w->conn->HasPendingWrites() && !w->conn->Flush()) CloseConnection(*w);
}

// ---- messages from workers -------------------------------------------------

void NodeManager::HandleFrame(Worker& w, MsgType type, const std::string& body) {
  WireReader in(body.data(), body.size());
  switch (type) {
    case MsgType::kTaskDone: {
      TaskID id = in.Id<TaskID>();
      TaskDone(w, id, in.GetPayload());
      break;
    }
    case MsgType::kReturnTasks: {
      auto n = in.U32();
      std::vector<TaskID> ids;
      for (uint32_t i = 0; i < n; ++i) ids.push_back(in.Id<TaskID>());
      for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
        auto pos = std::find(w.in_flight.begin(), w.in_flight.end(), *it);
        if (pos == w.in_flight.end()) continue;
        w.in_flight.erase(pos);
        auto t = tasks_.find(*it);
        if (t != tasks_.end()) {
          t->second.worker = -1;
          Enqueue(t->second, /*front=*/true);
        }
      }
      SettleLease(w);
      break;
    }
    case MsgType::kSubmit: {
      TaskID id = in.Id<TaskID>();
      SubmitLocked(id, in.GetSpec(), &w);
      break;
    }
    case MsgType::kCreateActor: {
      ActorID id = in.Id<ActorID>();
      TaskSpec spec = in.GetSpec();
      CreateActorLocked(id, std::move(spec), in.GetActorOptions(), &w);
      break;
    }
    case MsgType::kKillActor: {
      ActorID id = in.Id<ActorID>();
      bool no_restart = in.U8();
      KillActorLocked(id, no_restart, "killed by ActorHandle::Kill()");
      break;
    }
    case MsgType::kActorExit:
      if (!w.actor.IsNil()) KillActorLocked(w.actor, true, "the actor called lumen::ExitActor()");
      break;
    case MsgType::kLookupActor: {
      uint64_t request = in.U64();
      std::string name = in.Str();
      std::string ns = in.Str();
      std::optional<ActorID> found;
      auto it = named_actors_.find({ns.empty() ? options_.ns : ns, name});
      if (it != named_actors_.end()) found = it->second;
      WireWriter out(MsgType::kLookupReply);
      out.U64(request);
      out.U8(found.has_value());
      out.Id(found.value_or(ActorID()));
      w.conn->Queue(out.Finish());
      break;
    }
    case MsgType::kGet:
    case MsgType::kWait: {
      Request r;
      r.worker = w.number;
      r.id = in.U64();
      r.is_wait = type == MsgType::kWait;
      r.ids = in.Ids();
      r.num_objects = static_cast<int>(in.U32());
      r.deadline = DeadlineAfter(in.I64());
      SetBlocked(w, +1);
      AddRequest(std::move(r));
      break;
    }
    case MsgType::kPut: {
      ObjectID id = in.Id<ObjectID>();
      Payload p = in.GetPayload();
      objects_[id].refs += 1;
      w.refs[id] += 1;
      RecordPut(id, p, "worker-" + std::to_string(w.number));
      Complete(id, std::move(p));
      break;
    }
    case MsgType::kRefs: {
      for (const ObjectID& id : in.Ids()) {
        AddRefLocked(id);
        w.refs[id] += 1;
      }
      for (const ObjectID& id : in.Ids()) {
        auto it = w.refs.find(id);
        if (it == w.refs.end()) continue;
        if (--it->second == 0) w.refs.erase(it);
        RemoveRefLocked(id);
      }
      break;
    }
    case MsgType::kCancel:
      CancelLocked(in.Id<ObjectID>());
      break;
    default:
      throw WireError("unexpected message from a worker");
  }
}

// ---- tasks -----------------------------------------------------------------

bool NodeManager::RetriesLeft(const Task& task) const {
  return task.spec.max_retries < 0 || task.attempt < task.spec.max_retries;
}

ObjectError NodeManager::FeasibilityError(const TaskSpec& spec) const {
  if (!spec.node_affinity.empty() && spec.node_affinity != options_.node_name && !spec.node_affinity_soft)
    return {ErrorKind::kBadCall,
            "'" + spec.name + "' must run on node '" + spec.node_affinity + "', which is not in this cluster (its node: '" +
                options_.node_name + "'); use NodeAffinity(node, /*soft=*/true) to prefer it instead",
            ""};
  if (!spec.placement_group.empty()) {
    std::string why = PlacementGroups().CheckRequest(spec.placement_group, spec.bundle_index, spec.resources);
    if (!why.empty()) return {ErrorKind::kBadCall, "'" + spec.name + "' " + why, ""};
  }
  for (const auto& [name, amount] : spec.resources) {
    auto it = options_.resources.find(name);
    double have = it == options_.resources.end() ? 0 : it->second;
    if (amount > have) {
      std::ostringstream os;
      os << "task '" << spec.name << "' needs " << amount << " " << name << " but this cluster has " << have
         << " (resources:";
      for (const auto& [k, v] : options_.resources) os << " " << k << "=" << v;
      os << "); start it with more, e.g. Config::resources";
      return {ErrorKind::kBadCall, os.str(), ""};
    }
  }
  return {};
}

storage::TaskRecord NodeManager::LineageRecord(const TaskID& id, const TaskSpec& spec, const Worker* owner) const {
  storage::TaskRecord rec;
  rec.id = id;
  rec.function = spec.function;
  rec.name = spec.name;
  rec.max_retries = spec.max_retries;
  rec.retry_exceptions = spec.retry_exceptions;
  rec.resources = spec.resources;
  rec.owner = owner ? "worker-" + std::to_string(owner->number) : "driver";
  rec.submitted_ms = NowMs();
  rec.actor = spec.actor;
  for (const TaskArg& arg : spec.args) {
    storage::ArgRecord a;
    a.by_ref = arg.by_ref;
    a.ref = arg.ref;
    if (!arg.by_ref) a.value.assign(reinterpret_cast<const char*>(arg.value.bytes->data()), arg.value.bytes->size());
    rec.args.push_back(std::move(a));
  }
  return rec;
}

ObjectID NodeManager::Submit(TaskSpec spec) {
  CheckTask(spec);
  std::vector<ObjectID> promoted = TransferredRefs(spec.args);
  Unlocker locked(this);
  ObjectID id = SubmitLocked(TaskID::Random(), std::move(spec), nullptr);
  for (const ObjectID& arg : promoted) RemoveRefLocked(arg);  // the task pins them now
  Dispatch();
  FlushWrites();
  return id;
}

ObjectID NodeManager::SubmitLocked(TaskID id, TaskSpec spec, Worker* owner, bool rebuild, int attempt) {
  if (spec.name.empty()) spec.name = spec.function;
  ObjectID result = ObjectID::ForTaskReturn(id, 0);
  Entry& entry = objects_[result];
  entry.state = Entry::kPending;
  if (!rebuild) entry.refs += 1;
  if (owner) owner->refs[result] += 1;

  Task& task = tasks_[id];
  task.id = id;
  task.result = result;
  task.rebuild = rebuild;
  task.attempt = attempt;
  task.depth = owner ? DepthOfTasksFrom(*owner) : 0;
  ObjectError failure = FeasibilityError(spec);
  ActorState* actor = nullptr;
  if (!spec.actor.IsNil()) {
    auto a = actors_.find(spec.actor);
    if (a == actors_.end()) {
      failure = {ErrorKind::kActorDied, "no actor with id " + spec.actor.Hex() + " exists", ""};
    } else if (a->second.state == ActorState::kDead) {
      failure = {ErrorKind::kActorDied, "actor " + spec.actor.Hex() + " is dead: " + a->second.death_cause, ""};
    } else {
      actor = &a->second;
    }
  }
  for (const TaskArg& arg : spec.args) {
    const std::vector<ObjectID> refs = ArgRefs(arg);
    for (const ObjectID& ref : refs) {
      if (!objects_.count(ref) && KnownToLineage(ref)) objects_[ref].state = Entry::kLost;
      if (arg.by_ref) StartRebuild(ref);  // no-op unless its bytes are gone
      auto it = objects_.find(ref);
      if (it == objects_.end()) {
        if (failure.kind == ErrorKind::kNone)
          failure = {ErrorKind::kLost, "argument object " + ref.Hex() + " of task '" + spec.name +
                                           "' no longer exists (every reference to it was dropped)", ""};
        continue;
      }
      AddRefLocked(ref);
      task.pins.push_back(ref);
      if (!arg.by_ref) continue;
      if (it->second.state == Entry::kPending) {
        ++task.missing_deps;
        waiting_on_[ref].push_back(id);
      } else if (it->second.state == Entry::kFailed && failure.kind == ErrorKind::kNone) {
        failure = it->second.error;  // errors flow to dependent tasks
      }
    }
  }
  if (options_.lineage) {
    storage::TaskRecord rec = LineageRecord(id, spec, owner);
    rec.returns = {result};
    rec.attempt = static_cast<uint32_t>(attempt);
    options_.lineage->Append(rec);
  }
  task.spec = std::move(spec);
  if (failure.kind != ErrorKind::kNone) {
    FailTask(task, std::move(failure));
  } else if (actor) {
    actor->queue.push_back(id);  // in submission order, whatever its dependencies
    DispatchActor(*actor);
  } else if (task.missing_deps == 0) {
    Enqueue(task, /*front=*/false);
  }
  return result;
}

// The task and its arguments, resolved: inline bytes, or where in the store.
void NodeManager::WriteExecute(WireWriter& out, const TaskID& id, const TaskSpec& spec) {
  out.Id(id);
  out.Str(spec.function);
  out.Str(spec.name);
  out.U32(static_cast<uint32_t>(spec.args.size()));
  for (const TaskArg& arg : spec.args) {
    if (!arg.by_ref) {
      out.U8(0);
      out.U64(arg.value.bytes->size());
      out.Raw(arg.value.bytes->data(), arg.value.bytes->size());
      continue;
    }
    const Entry& e = objects_.at(arg.ref);
    if (e.in_store) {
      out.U8(1);
      out.Id(arg.ref);
      out.U64(e.size);
    } else {
      out.U8(0);
      out.U64(e.bytes->size());
      out.Raw(e.bytes->data(), e.bytes->size());
    }
  }
}

void NodeManager::TaskDone(Worker& w, const TaskID& id, Payload payload) {
  auto pos = std::find(w.in_flight.begin(), w.in_flight.end(), id);
  if (pos != w.in_flight.end()) w.in_flight.erase(pos);
  SettleLease(w);
  if (!w.actor.IsNil()) {
    auto a = actors_.find(w.actor);
    if (a != actors_.end()) {
      if (id == a->second.creation_task) return ActorCreated(a->second, std::move(payload));
      auto& in_flight = a->second.in_flight;
      if (!in_flight.empty() && in_flight.front() == id) {  // calls finish in order (one at a time)
        in_flight.pop_front();
      } else if (auto pos = std::find(in_flight.begin(), in_flight.end(), id); pos != in_flight.end()) {
        in_flight.erase(pos);
      }
    }
  }
  auto t = tasks_.find(id);
  if (t == tasks_.end()) return;
  Task& task = t->second;
  task.worker = -1;
  if (!task.spec.actor.IsNil() && !task.replay)
    if (auto a = actors_.find(task.spec.actor); a != actors_.end() && a->second.options.replay_on_restart)
      RecordCall(a->second, task.spec);  // it ran: a restart re-runs it
  if (task.cancelled) {
    if (payload.kind == Payload::kInStore) deletes_.push_back(task.result);
    FinishTask(id);
    return;
  }
  if (payload.kind == Payload::kError && payload.error.kind == ErrorKind::kTask && task.spec.retry_exceptions &&
      task.spec.actor.IsNil() && RetriesLeft(task) && Reachable(task)) {
    ++task.attempt;
    Enqueue(task, /*front=*/false);
    return;
  }
  if (payload.kind == Payload::kError && payload.error.kind == ErrorKind::kLost && task.spec.actor.IsNil() &&
      RetriesLeft(task) && Reachable(task)) {
    ++task.attempt;  // an argument was evicted before it was read: rebuild it, run again
    Enqueue(task, /*front=*/true);
    return;
  }
  if (task.rebuild && payload.kind == Payload::kError) payload.error = RebuildFailure(task, payload.error);
  if (options_.lineage && payload.kind != Payload::kError)
    options_.lineage->Append(storage::ObjectRecord{task.result, id, false, "worker-" + std::to_string(w.number),
                                                   payload.size, options_.node_name});
  Complete(task.result, std::move(payload));
  FinishTask(id);
}

void NodeManager::FailTask(Task& task, ObjectError error) {
  Payload p;
  p.kind = Payload::kError;
  p.error = std::move(error);
  Complete(task.result, std::move(p));
  FinishTask(task.id);
}

void NodeManager::FinishTask(const TaskID& id) {
  auto t = tasks_.find(id);
  if (t == tasks_.end()) return;
  std::vector<ObjectID> pins = std::move(t->second.pins);
  tasks_.erase(t);
  for (const ObjectID& pin : pins) RemoveRefLocked(pin);
}

// ---- objects -----------------------------------------------------------------

// Completing an object can fail the tasks that depend on it, and so their
// results, down a chain of any length: a work list, never recursion (a chain
// of 200,000 tasks whose head failed once overflowed the stack).
void NodeManager::Complete(const ObjectID& id, Payload payload) {
  std::deque<std::pair<ObjectID, Payload>> work;
  work.emplace_back(id, std::move(payload));
  while (!work.empty()) {
    auto [oid, p] = std::move(work.front());
    work.pop_front();
    CompleteOne(oid, std::move(p), work);
  }
}

void NodeManager::CompleteOne(const ObjectID& id, Payload payload, std::deque<std::pair<ObjectID, Payload>>& work) {
  auto it = objects_.find(id);
  if (it == objects_.end()) {  // nobody holds a reference any more
    if (payload.kind == Payload::kInStore) deletes_.push_back(id);
    return;
  }
  Entry& e = it->second;
  if (e.state != Entry::kPending) return;  // e.g. cancelled before it finished
  switch (payload.kind) {
    case Payload::kInline:
      e.state = Entry::kReady;
      e.bytes = std::move(payload.bytes);
      e.size = e.bytes->size();
      break;
    case Payload::kInStore:
      e.state = Entry::kReady;
      e.in_store = true;
      e.size = payload.size;
      break;
    case Payload::kError:
      e.state = Entry::kFailed;
      e.error = std::move(payload.error);
      break;
  }
  for (const ObjectID& ref : payload.nested_refs) AddRefLocked(ref);
  std::vector<ObjectID> earlier = std::move(e.nested);  // a rebuilt object held these before
  e.nested = std::move(payload.nested_refs);
  for (const ObjectID& ref : earlier) RemoveRefLocked(ref);
  bool failed = e.state == Entry::kFailed;
  ObjectError error = failed ? e.error : ObjectError{};
  if (e.refs <= 0) {
    ++e.refs;  // freed through the usual path
    RemoveRefLocked(id);
  }
  auto waiting_here = waiters_.find(id);
  if (waiting_here != waiters_.end()) {
    for (auto& w : waiting_here->second)
      if (--w->remaining == 0) to_notify_.push_back(w);
    waiters_.erase(waiting_here);
  }
  auto requested = request_waiters_.find(id);
  if (requested != request_waiters_.end()) {  // workers blocked in Get/Wait for it
    std::vector<uint64_t> keys = std::move(requested->second);
    request_waiters_.erase(requested);
    bool answered = false;
    for (uint64_t key : keys) {
      auto r = requests_.find(key);
      if (r != requests_.end() && --r->second.remaining <= 0) answered |= AnswerRequest(key, true);
    }
    if (answered && std::this_thread::get_id() != thread_.get_id()) {  // let the I/O loop send it
      uint64_t one = 1;
      (void)!::write(wake_fd_, &one, sizeof one);
    }
  }
  // Wake the tasks that waited for it; a failure flows to them.
  auto waiting = waiting_on_.find(id);
  if (waiting == waiting_on_.end()) return;
  std::vector<TaskID> dependents = std::move(waiting->second);
  waiting_on_.erase(waiting);
  for (const TaskID& dep : dependents) {
    auto t = tasks_.find(dep);
    if (t == tasks_.end()) continue;
    if (failed) {
      Payload p;
      p.kind = Payload::kError;
      p.error = error;
      work.emplace_back(t->second.result, std::move(p));
      FinishTask(dep);
    } else if (--t->second.missing_deps == 0) {
      if (t->second.spec.actor.IsNil()) {
        Enqueue(t->second, /*front=*/false);
      } else if (auto a = actors_.find(t->second.spec.actor); a != actors_.end()) {
        DispatchActor(a->second);
      }
    }
  }
}

// A reference to an object this node no longer tracks (FromID, or a later
// process on the same storage dir) counts too when the lineage log knows
// it: the object is lost, and rebuilt when needed.
void NodeManager::AddRefLocked(const ObjectID& id) {
  auto it = objects_.find(id);
  if (it == objects_.end()) {
    if (!KnownToLineage(id)) return;
    it = objects_.emplace(id, Entry{}).first;
    it->second.state = Entry::kLost;
  }
  ++it->second.refs;
}

// Freeing an object drops the references it holds, which may free more
// (nested refs of any depth): a work list, not recursion.
void NodeManager::RemoveRefLocked(const ObjectID& first) {
  std::vector<ObjectID> work{first};
  while (!work.empty()) {
    ObjectID id = work.back();
    work.pop_back();
    auto it = objects_.find(id);
    if (it == objects_.end() || --it->second.refs > 0) continue;
    if (it->second.state == Entry::kPending) continue;  // freed when it completes
    if (it->second.in_store) deletes_.push_back(id);
    work.insert(work.end(), it->second.nested.begin(), it->second.nested.end());
    objects_.erase(it);
  }
}

void NodeManager::AddRef(const ObjectID& id) {
  Unlocker locked(this);
  AddRefLocked(id);
}

void NodeManager::RemoveRef(const ObjectID& id) {
  Unlocker locked(this);
  RemoveRefLocked(id);
}

void NodeManager::Cancel(const ObjectID& id) {
  Unlocker locked(this);
  CancelLocked(id);
  Dispatch();
  FlushWrites();
}

void NodeManager::CancelLocked(const ObjectID& id) {
  auto t = tasks_.find(id.Task());
  if (t == tasks_.end()) return;  // finished already (or a Put)
  Task& task = t->second;
  task.cancelled = true;
  Payload p;
  p.kind = Payload::kError;
  p.error = {ErrorKind::kCancelled, "task '" + task.spec.name + "' was cancelled", ""};
  Complete(task.result, std::move(p));
  if (task.worker < 0) FinishTask(task.id);  // not running: nothing will report back
}

ObjectID NodeManager::Put(const codec::Encoded& encoded, std::vector<ObjectID> nested_refs) {
  ObjectID id = ObjectID::ForPut();
  Payload p = StorePayload(*options_.store, id, encoded, std::move(nested_refs));
  if (p.kind == Payload::kError) ThrowObjectError(p.error);
  Unlocker locked(this);
  objects_[id].refs += 1;  // the caller's reference
  RecordPut(id, p, "driver");
  Complete(id, std::move(p));
  return id;
}

// A small Put is recorded as a put task holding the value, so the log can
// restore it (in this process or a later one); a large one as its object.
void NodeManager::RecordPut(const ObjectID& id, const Payload& p, const std::string& owner) {
  if (!options_.lineage) return;
  if (p.kind != Payload::kInline || !p.nested_refs.empty()) {  // large ones: recorded, not durable yet
    options_.lineage->Append(storage::ObjectRecord{id, id.Task(), true, owner, p.size, options_.node_name});
    return;
  }
  // One record, not two, on the Put path: the put task names its object.
  storage::TaskRecord rec;
  rec.id = id.Task();
  rec.function = kPutTask;
  rec.owner = owner;
  rec.submitted_ms = NowMs();
  rec.returns = {id};
  storage::ArgRecord value;
  value.value.assign(reinterpret_cast<const char*>(p.bytes->data()), p.bytes->size());
  rec.args.push_back(std::move(value));
  options_.lineage->Append(rec);
}

// False (and the task waits) if an argument's bytes are gone: it is being
// rebuilt, and the task becomes ready again when it is back.
bool NodeManager::ArgsPresent(Task& task) {
  bool present = true;
  for (const TaskArg& arg : task.spec.args) {
    if (!arg.by_ref || !NeedsRebuild(arg.ref)) continue;
    StartRebuild(arg.ref);
    auto it = objects_.find(arg.ref);
    if (it == objects_.end() || it->second.state != Entry::kPending) continue;  // failed: it flows below
    ++task.missing_deps;
    waiting_on_[arg.ref].push_back(task.id);
    present = false;
  }
  return present;
}

Payload NodeManager::PayloadOf(const ObjectID& id) {
  Payload p;
  auto it = objects_.find(id);
  if (it == objects_.end()) {
    p.kind = Payload::kError;
    p.error = {ErrorKind::kLost, UnknownObjectMessage(id), ""};
    return p;
  }
  const Entry& e = it->second;
  if (e.state == Entry::kFailed) {
    p.kind = Payload::kError;
    p.error = e.error;
  } else if (e.state == Entry::kLost) {
    p.kind = Payload::kError;
    p.error = {ErrorKind::kLost, "object " + id.Hex() + " was evicted and lineage is off: it cannot be rebuilt", ""};
  } else if (e.in_store) {
    p.kind = Payload::kInStore;
    p.size = e.size;
  } else {
    p.bytes = e.bytes;
    p.size = e.size;
  }
  return p;
}

bool NodeManager::AwaitObjects(std::unique_lock<std::mutex>& lock, const std::vector<ObjectID>& ids, int needed,
                               Clock::time_point deadline) {
  auto waiter = std::make_shared<Waiter>();
  std::vector<ObjectID> registered;
  for (const ObjectID& id : ids) {
    auto it = objects_.find(id);
    if (it == objects_.end() || it->second.state != Entry::kPending) continue;
    waiters_[id].push_back(waiter);
    registered.push_back(id);
  }
  waiter->remaining = needed;
  if (needed <= 0) {
    waiter->remaining = 0;
  } else {
    waiter->cv.wait_until(lock, deadline, [&] { return waiter->remaining <= 0; });
  }
  for (const ObjectID& id : registered) {  // forget this waiter where it still waits
    auto it = waiters_.find(id);
    if (it == waiters_.end()) continue;
    std::erase(it->second, waiter);
    if (it->second.empty()) waiters_.erase(it);
  }
  return waiter->remaining <= 0;
}

std::vector<ObjectData> NodeManager::Get(const std::vector<ObjectID>& ids, int64_t timeout_ms) {
  auto deadline = DeadlineAfter(timeout_ms);
  // The store may evict an object between the lookup and the read: then it
  // is lost, and the next round rebuilds it.
  for (int round = 0;; ++round) {
    try {
      return GetOnce(ids, timeout_ms, deadline);
    } catch (const ObjectLostError&) {
      if (round >= 20 || !options_.lineage) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // let the eviction be recorded
    }
  }
}

std::vector<ObjectData> NodeManager::GetOnce(const std::vector<ObjectID>& ids, int64_t timeout_ms,
                                             Clock::time_point deadline) {
  std::vector<Payload> payloads;
  {
    Unlocker locked(this);
    for (const ObjectID& id : ids) StartRebuild(id);  // no-op unless its bytes are gone
    int pending = 0;
    for (const ObjectID& id : ids) {
      auto it = objects_.find(id);
      pending += it != objects_.end() && it->second.state == Entry::kPending;
    }
    if (pending > 0 && !AwaitObjects(locked.lock(), ids, pending, deadline)) {
      size_t pending = 0;
      for (const ObjectID& id : ids) pending += objects_.count(id) && objects_[id].state == Entry::kPending;
      throw GetTimeoutError("Get timed out after " + std::to_string(timeout_ms) + " ms: " +
                            std::to_string(pending) + " of " + std::to_string(ids.size()) + " objects not ready");
    }
    payloads.reserve(ids.size());
    for (const ObjectID& id : ids) payloads.push_back(PayloadOf(id));
  }
  std::vector<ObjectData> out;
  out.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) out.push_back(ResolvePayload(options_.store, ids[i], payloads[i]));
  return out;
}

std::vector<bool> NodeManager::Wait(const std::vector<ObjectID>& ids, int num_objects, int64_t timeout_ms) {
  Unlocker locked(this);
  for (const ObjectID& id : ids) StartRebuild(id);
  std::vector<bool> ready(ids.size());
  auto enough = [&] {
    int n = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      auto it = objects_.find(ids[i]);
      ready[i] = it == objects_.end() || it->second.state != Entry::kPending;
      n += ready[i];
    }
    return n >= num_objects;
  };
  auto deadline = DeadlineAfter(timeout_ms);
  if (!enough()) {
    int have = static_cast<int>(std::count(ready.begin(), ready.end(), true));
    AwaitObjects(locked.lock(), ids, num_objects - have, deadline);
    enough();
  }
  return ready;
}

// A worker's Get or Wait: answered at once if satisfied, else when the
// objects it needs complete (Complete) or its deadline passes (CheckRequests).
void NodeManager::AddRequest(Request r) {
  for (const ObjectID& id : r.ids) StartRebuild(id);
  int done = 0;
  for (const ObjectID& id : r.ids) {
    auto it = objects_.find(id);
    done += it == objects_.end() || it->second.state != Entry::kPending;
  }
  r.remaining = (r.is_wait ? r.num_objects : static_cast<int>(r.ids.size())) - done;
  uint64_t key = next_request_key_++;
  bool expires = r.deadline != Clock::time_point::max();
  if (expires) deadlines_.emplace(r.deadline, key);
  std::vector<ObjectID> pending;
  if (r.remaining > 0)
    for (const ObjectID& id : r.ids) {
      auto it = objects_.find(id);
      if (it != objects_.end() && it->second.state == Entry::kPending) request_waiters_[id].push_back(key);
    }
  requests_.emplace(key, std::move(r));
  if (requests_[key].remaining <= 0) {
    AnswerRequest(key, true);
  } else if (expires) {
    next_deadline_ = deadlines_.begin()->first;
  }
}

// Sends the reply and forgets the request; false if its worker is gone.
bool NodeManager::AnswerRequest(uint64_t key, bool satisfied) {
  auto it = requests_.find(key);
  if (it == requests_.end()) return false;
  Request r = std::move(it->second);
  requests_.erase(it);
  auto w = workers_.find(r.worker);
  if (w == workers_.end() || !w->second->conn) return false;
  Worker& worker = *w->second;
  SetBlocked(worker, -1);
  WireWriter out(r.is_wait ? MsgType::kWaitReply : MsgType::kGetReply);
  out.U64(r.id);
  if (r.is_wait) {
    for (const ObjectID& id : r.ids) {
      auto o = objects_.find(id);
      out.U8(o == objects_.end() || o->second.state != Entry::kPending);
    }
  } else if (!satisfied) {
    out.U8(0);  // timed out
  } else {
    out.U8(1);
    for (const ObjectID& id : r.ids) out.PutPayload(PayloadOf(id));
  }
  worker.conn->Queue(out.Finish());
  return true;
}

// Answers the requests whose deadline passed (a Wait with what is ready).
void NodeManager::CheckRequests() {
  auto now = Clock::now();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    uint64_t key = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    auto it = requests_.find(key);
    if (it != requests_.end()) AnswerRequest(key, it->second.remaining <= 0);
  }
  next_deadline_ = deadlines_.empty() ? Clock::time_point::max() : deadlines_.begin()->first;
}

// A task whose result no process can reach any more is not worth re-running.
bool NodeManager::Reachable(const Task& task) const {
  auto it = objects_.find(task.result);
  return it != objects_.end() && it->second.refs > 0;
}

// Tasks submitted by a worker run one level deeper than the task it runs.
int NodeManager::DepthOfTasksFrom(const Worker& w) const {
  if (!IsPool(w) || w.in_flight.empty()) return 1;
  auto t = tasks_.find(w.in_flight.front());
  return t == tasks_.end() ? 1 : t->second.depth + 1;
}

std::string NodeManager::UnknownObjectMessage(const ObjectID& id) const {
  std::string what = "object " + id.Hex();
  if (!options_.lineage)
    return what + " is unknown here: it never existed in this cluster, or every reference to it was dropped "
                  "(lineage is off, so the runtime cannot tell which)";
  if (!options_.lineage->GetObject(id) && !options_.lineage->GetTask(id.Task()))
    return what + " never existed in this cluster: the lineage log has no record of it";
  return what + " no longer exists: every reference to it was dropped";
}

// ---- file descriptors ----------------------------------------------------------

// "" if `needed` more descriptors fit under this process's limit with room
// to spare (CAF, RocksDB and the store need some too); else why not.
std::string NodeManager::FdShortage(int needed) const {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  int open = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++open;
  constexpr int kSpare = 32;
  if (limit.rlim_cur == RLIM_INFINITY || open + needed + kSpare <= static_cast<int64_t>(limit.rlim_cur)) return "";
  return "out of file descriptors: " + std::to_string(open) + " of this process's limit of " +
         std::to_string(limit.rlim_cur) + " are open, and each worker or actor holds " +
         std::to_string(kFdsPerWorker) + " in the driver; raise the limit (ulimit -n) or use fewer actors";
}

// accept() failed for want of descriptors: stop polling the listening socket
// for a moment rather than spin on it; the worker waiting to connect is
// reaped or connects once descriptors are free.
void NodeManager::PauseAccepting() {
  if (accept_paused_) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
  accept_paused_ = true;
  accept_resume_at_ = Clock::now() + std::chrono::milliseconds(100);
  std::fprintf(stderr, "lumen: out of file descriptors; a worker cannot connect now (raise ulimit -n)\n");
}

void NodeManager::ResumeAcceptingWhenDue() {
  if (!accept_paused_ || Clock::now() < accept_resume_at_) return;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = ~0ull;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  accept_paused_ = false;
}

// ---- introspection -----------------------------------------------------------

NodeManager::Counters NodeManager::GetCounters() {
  std::lock_guard lock(mu_);
  Counters c;
  for (auto& [n, w] : workers_)
    if (!w->dead && w->conn) c.worker_pids.push_back(w->pid);
  c.num_objects = objects_.size();
  c.deaths_seen_by_caf = deaths_seen_by_caf_;
  c.deaths_seen_by_reaping = deaths_seen_by_reaping_;
  c.objects_evicted = rebuild_stats_.evicted;
  c.tasks_rebuilt = rebuild_stats_.tasks;
  c.supervisor_port = supervisor_port_;
  return c;
}

bool NodeManager::WaitForWorkers(int n, int64_t timeout_ms) {
  std::unique_lock lock(mu_);
  return workers_changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    int connected = 0;
    for (auto& [k, w] : workers_) connected += !w->dead && w->conn != nullptr;
    return connected >= n;
  });
}

}  // namespace lumen::internal
