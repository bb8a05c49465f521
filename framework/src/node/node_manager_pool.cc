// The node manager's worker pool: spawning worker processes (their job's
// driver binary re-executed), accepting their connections, and their deaths
// (reported by CAF, or found by reaping), with the descriptors they cost.
// Every function here REQUIRES mu_.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "lumen/errors.h"
#include "node/node_manager.h"
#include "node/node_manager_records.h"

extern char** environ;

namespace lumen::internal {

namespace {
constexpr int kMaxStartupFailures = 5;
}  // namespace

// Records a new worker; the I/O thread forks it. The kernel's parent-death
// signal follows the thread that forked, so only the node manager's own
// thread (alive as long as the node) may fork: a worker forked by a user's
// short-lived thread would be killed when that thread ends.
void NodeManager::SpawnWorker(int job, const ActorID& actor) {
  if (stopping_) return;
  auto w = std::make_unique<Worker>();
  w->number = next_worker_++;
  w->job = job;
  w->actor = actor;
  if (!actor.IsNil()) actors_[actor].worker = w->number;
  to_fork_.push_back(w->number);
  workers_[w->number] = std::move(w);
  if (std::this_thread::get_id() == thread_.get_id()) {
    ForkPending();
  } else {
    Wake();
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
    auto job = jobs_.find(w.job);
    if (job == jobs_.end()) {  // cannot happen: a job is never forgotten while its workers live
      std::fprintf(stderr, "lumen: no job %d to start worker %d for\n", w.job, number);
      w.dead = true;
      continue;
    }
    if (w.actor.IsNil() && !w.claims) w.claims = ClaimSlots::Create();
    int claims_fd = w.claims ? w.claims->fd() : -1;
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
      if (std::strncmp(*e, "LUMEN_WORKER", 12) != 0 && std::strncmp(*e, "LUMEN_STORE", 11) != 0) env.push_back(*e);
    env.push_back("LUMEN_WORKER_SOCKET=" + socket_path_);
    env.push_back("LUMEN_WORKER_NUMBER=" + std::to_string(number));
    env.push_back("LUMEN_WORKER_NAMESPACE=" + job->second.ns);
    if (options_.lineage) env.push_back("LUMEN_WORKER_LINEAGE=1");  // results may be evicted: lineage re-makes them
    env.push_back("LUMEN_STORE_SOCKET=" + options_.store_socket);
    for (std::string& e : supervision_->WorkerEnvironment()) env.push_back(std::move(e));
    if (claims_fd >= 0) env.push_back("LUMEN_WORKER_CLAIMS_FD=" + std::to_string(claims_fd));
    std::vector<char*> envp, argv;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    for (auto& a : job->second.argv) argv.push_back(a.data());
    argv.push_back(nullptr);

    int log_fd = logs_ ? logs_->Open(number) : -1;
    pid_t parent = getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
      // A worker never outlives its node manager's thread (nor process).
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      if (claims_fd >= 0) ::fcntl(claims_fd, F_SETFD, 0);  // this child alone inherits it
      if (log_fd >= 0) ::dup2(log_fd, STDOUT_FILENO), ::dup2(log_fd, STDERR_FILENO);
      ::execve(job->second.binary.c_str(), argv.data(), envp.data());
      _exit(127);
    }
    w.pid = pid;
    if (log_fd >= 0) ::close(log_fd), logs_->SetPid(number, pid);
    if (w.claims) w.claims->CloseFd();  // the mapping stays
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
    if (!w) {  // not one of ours: a driver that comes to join, or nobody to serve
      AcceptDriver(fd, cred);
      continue;
    }
    w->conn = std::make_unique<Connection>(fd);
    w->ever_connected = true;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.u64 = static_cast<uint64_t>(w->number);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    if (Job* job = JobOf(*w)) job->startup_failures = 0;
    if (!w->actor.IsNil()) {  // an actor's own process: create the instance
      auto a = actors_.find(w->actor);
      if (a == actors_.end() || a->second.state == ActorState::kDead) {
        CloseConnection(*w);
        continue;
      }
      // Actors' calls are never stolen: no sequence number.
      ExecuteMsg create = ExecuteOf(ExecKind::kCreateActor, 0, a->second.creation_task, CreationOf(a->second));
      create.actor = a->second.id;
      create.restarted = a->second.restarts > 0 || a->second.restored;
      create.max_concurrency = a->second.options.max_concurrency;
      w->conn->Queue(create);
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
    if (w->pid <= 0 || w->driver) continue;  // not forked yet, or not ours to reap
    if (w->ever_connected && (w->conn || now - w->disconnected_at < std::chrono::seconds(1))) continue;
    int status;
    if (::waitpid(w->pid, &status, WNOHANG) == w->pid) {
      std::string why = WIFSIGNALED(status) ? "it was killed by signal " + std::to_string(WTERMSIG(status))
                                            : "it exited with status " + std::to_string(WEXITSTATUS(status));
      if (!w->ever_connected)
        if (Job* job = JobOf(*w)) ++job->startup_failures;
      ++deaths_seen_by_reaping_;
      OnWorkerDeath(*w, why);
    }
  }
  std::erase_if(workers_, [](const auto& kv) { return kv.second->dead && kv.second->pid < 0; });
  CloseSilentDrivers();
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
  if (w.driver || w.peer_link) {  // not a process of ours to wait for
    OnWorkerDeath(w, w.peer_link ? "the node it ran on is gone" : w.node ? "its connection to the head closed (the daemon stopped, exited or was killed)" : "its driver disconnected");
    return;
  }
  if (w.pid > 0) ::kill(w.pid, SIGKILL);  // not reaped yet, so the pid is still ours
}

void NodeManager::OnWorkerDeath(Worker& w, const std::string& why) {
  if (w.dead) return;
  w.dead = true;
  if (w.conn) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w.conn->fd(), nullptr);
    w.conn.reset();
  }
  if (w.peer_link) OnLinkGone(w);  // its tasks are re-queued below, as a dead worker's
  if (w.pid <= 0 || w.driver || ::waitpid(w.pid, nullptr, WNOHANG) != 0) {
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
  waiters_.DropClient(w.number);
  // Actors this process created die with it, unless detached.
  std::vector<ActorID> orphans;
  for (auto& [id, a] : actors_)
    if (a.owner == w.number && !a.options.detached.value_or(false) && a.state != ActorState::kDead)
      orphans.push_back(id);
  for (const ActorID& id : orphans)
    KillActorLocked(id, true,
                    w.driver ? "its owner (the driver of job " + std::to_string(w.job) + ") left"
                             : "its creator (worker " + std::to_string(w.number) + ") died");
  if (w.node) PeerGone(w.peer, why);
  if (w.driver || w.peer_link) {
    if (w.joined) EndJob(w.job);
    return;
  }
  if (!w.actor.IsNil()) {
    auto a = actors_.find(w.actor);
    if (a != actors_.end() && a->second.worker == w.number) OnActorWorkerDeath(a->second, why);
    return;
  }
  Job* job = JobOf(w);
  if (stopping_ || !job || job->ended) return;
  int alive = 0;
  for (auto& [n, other] : workers_) alive += !other->dead && IsPool(*other) && other->job == w.job;
  if (alive < options_.num_workers) {
    if (job->startup_failures >= kMaxStartupFailures) {
      // Its workers die before connecting: fail its queued work rather than loop forever.
      for (const TaskID& id : ready_.TakeAll()) {
        auto t = tasks_.find(id);
        if (t == tasks_.end()) continue;
        if (t->second.job != w.job) {
          Enqueue(t->second, /*front=*/false);
          continue;
        }
        FailTask(t->second, {ErrorKind::kWorkerCrashed, "worker processes fail to start (last one: " + why + ")", ""});
      }
    } else {
      SpawnWorker(w.job);
    }
  }
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

}  // namespace lumen::internal
