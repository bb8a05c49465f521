#include "node/node_manager.h"

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
#include "node/node_manager_records.h"
#include "runtime/command_line.h"
#include "runtime/deadline.h"
#include "protocol/payloads.h"
#include "protocol/rejoin.h"
#include "node/placement_groups.h"
#include "runtime/validation.h"

namespace lumen::internal {

// ---- start and stop --------------------------------------------------------

NodeManager::NodeManager(NodeOptions options)
    : options_(std::move(options)),
      dead_nodes_(options_.dead_nodes_file, DeadNodes::kCapacity, HeadRejoinWait()),
      lineage_(options_.lineage, options_.node_name) {
  if (!dead_nodes_.load_error().empty())
    std::fprintf(stderr, "lumen: the nodes that left before this start are not listed: %s\n",
                 dead_nodes_.load_error().c_str());
  if (!dead_nodes_.Awaited().empty())
    std::fprintf(stderr, "lumen: waiting up to %lld ms for the %zu nodes of the earlier run to register again\n",
                 static_cast<long long>(HeadRejoinWait().count()), dead_nodes_.Awaited().size());
}

std::unique_ptr<NodeManager> NodeManager::Start(NodeOptions options) {
  std::unique_ptr<NodeManager> nm(new NodeManager(std::move(options)));
  nm->socket_path_ = nm->options_.session_dir + "/node.sock";

  nm->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (nm->socket_path_.size() >= sizeof addr.sun_path)
    throw Error("session directory path too long for a Unix socket: " + nm->socket_path_);
  std::strcpy(addr.sun_path, nm->socket_path_.c_str());
  if (::bind(nm->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::chmod(nm->socket_path_.c_str(), 0600) != 0 || ::listen(nm->listen_fd_, 128) != 0)
    throw Error("cannot listen on " + nm->socket_path_ + ": " + std::strerror(errno));
  nm->resources_ = ResourceLedger(nm->options_.resources);
  NodeManager* raw = nm.get();
  if (!nm->options_.log_dir.empty()) nm->logs_ = std::make_unique<LogRelay>(nm->options_.log_dir);
  if (!nm->options_.put_copies_dir.empty())
    nm->copies_ = std::make_unique<PutCopies>(
        nm->options_.put_copies_dir, nm->options_.store,
        [raw](PutCopies::Job job, const ObjectID& id, const Status& s, uint64_t size) {
          raw->OnPutCopyDone(job, id, s, size);
        });

  nm->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  nm->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = ~0ull;  // the listening socket
  ::epoll_ctl(nm->epoll_fd_, EPOLL_CTL_ADD, nm->listen_fd_, &ev);
  ev.data.u64 = ~1ull;  // wake-ups
  ::epoll_ctl(nm->epoll_fd_, EPOLL_CTL_ADD, nm->wake_fd_, &ev);

  Supervision::Options supervision{nm->options_.session_dir, nm->options_.worker_liveness_timeout_ms};
  nm->supervision_ = Supervision::Start(supervision, [raw](int number, const std::string& reason) {
    raw->OnWorkerDown(number, reason);
  });
  nm->supervisor_port_ = nm->supervision_->port();
  if (!nm->options_.serve_drivers) {  // the embedded driver's job: its workers start now
    std::lock_guard lock(nm->mu_);
    Job& job = nm->jobs_[kEmbeddedJob];
    job.binary = "/proc/self/exe";
    job.argv = OwnCommandLine();
    job.ns = nm->options_.ns;
    job.detached_by_default = nm->options_.actors_detached_by_default;
    for (int i = 0; i < nm->options_.num_workers; ++i) nm->SpawnWorker(kEmbeddedJob);
  }
  if (nm->options_.serve_drivers) nm->transfer_ = std::make_unique<ObjectTransfer>();
  if (nm->options_.serve_drivers)
    nm->flusher_ = std::make_unique<DurabilityFlusher>(
        [raw] { return raw->MakeDurable(kFlushBoundMs); },
        [raw](int client, uint64_t request, const std::string& error) { raw->OnFlushed(client, request, error); });
  if (nm->options_.placement_groups)  // a group made or removed: placed or given back at the loop's next turn
    nm->options_.placement_groups->SetOnChange([raw] {
      raw->groups_changed_ = true;
      raw->Wake();
    });
  nm->thread_ = std::thread([p = nm.get()] { p->Loop(); });
  if (!nm->options_.listen_host.empty()) nm->ServeOtherHosts();  // throws; the destructor stops what started
  return nm;
}

NodeManager::~NodeManager() {
  if (options_.placement_groups) options_.placement_groups->SetOnChange({});
  {
    std::lock_guard lock(mu_);
    stopping_ = true;  // no more spawning from here on
  }
  entrance_.reset();     // no more tunnels from other hosts (its handshakes may wait for mu_)
  gateway_.reset();      // other hosts' store connections end
  supervision_.reset();  // no more down messages (its handler may wait for mu_: not held here)
  transfer_.reset();     // copies queued finish; their callbacks take mu_
  flusher_.reset();      // answers what was asked (bounded); its callback takes mu_
  std::vector<pid_t> pids;
  {
    std::lock_guard lock(mu_);
    dead_nodes_.ClusterStopped();  // its nodes stop with it (the goodbye below): none to wait for after a restart
    for (auto& [n, w] : workers_) {
      // Clients over the socket hear why first: a registered node then
      // stops too rather than wait for this head to come back.
      if (w->driver && w->conn) {
        w->conn->Queue(GoodbyeMsg{"its daemon is shutting down"});
        (void)w->conn->Flush();
      }
      if (w->pid <= 0) continue;
      pids.push_back(w->pid);
      if (!w->conn) ::kill(w->pid, SIGKILL);  // still starting: nothing to lose
      w->conn.reset();                        // EOF: the worker exits
    }
    Wake();
  }
  thread_.join();
  // No frame can queue a copy now: the queued ones are written, then the removals they queue (mu_ is free here).
  if (copies_) (void)copies_->Flush(kFlushBoundMs);
  copies_.reset();
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

// ---- the I/O loop ----------------------------------------------------------

void NodeManager::Loop() {
  epoll_event events[64];
  for (;;) {
    // Also the pace of reaping workers that died before joining supervision.
    int timeout_ms = 100;
    Clock::time_point next_deadline = waiters_.NextDeadline();
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
        Message message;
        try {
          while (w.conn && w.conn->NextFrame(&message)) HandleFrame(w, message);
        } catch (const ProtocolError& e) {
          std::fprintf(stderr, "lumen: closing the connection of worker %d (pid %d): %s\n", w.number,
                       static_cast<int>(w.pid), e.what());
          alive = false;
        }
        if (alive && w.conn && (events[i].events & (EPOLLHUP | EPOLLERR))) alive = false;
        if (!alive) CloseConnection(w);
      }
    }
    CheckRequests();
    ReapWorkers();
    for (const std::string& name : dead_nodes_.DeclareAbsent(UnixMillis()))
      std::fprintf(stderr, "lumen: node '%s' %s: listed as dead\n", name.c_str(), DeadNodes::kNotBack);
    if (groups_changed_.exchange(false) || Clock::now() >= next_placement_) PlaceGroups();
    Dispatch();
    FlushWrites();
  }
}

void NodeManager::FlushWrites() {
  for (auto& [n, w] : workers_)
    if (w->conn && w->conn->HasPendingWrites() && !w->conn->Flush()) CloseConnection(*w);
}

// ---- messages from workers -------------------------------------------------

namespace {
template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;
}  // namespace

void NodeManager::HandleFrame(Worker& w, Message& message) {
  w.heard = Clock::now();
  if (std::holds_alternative<PingMsg>(message)) return Reply(w, PongMsg{});
  if (auto* load = std::get_if<NodeLoadMsg>(&message)) {  // a node's ping (one not registered yet: a ping only)
    if (auto peer = peers_.find(w.peer); w.node && peer != peers_.end())
      peer->second.load = {load->workers, load->running_tasks};
    return Reply(w, PongMsg{});
  }
  if (auto* prepared = std::get_if<PrepareBundlesReplyMsg>(&message); prepared && w.node)
    return OnPrepared(w, *prepared);
  if (w.node) throw ProtocolError("a node sends nothing more on the connection it registered over (but pings and answers)");
  if (w.driver && !w.joined && !std::holds_alternative<JoinMsg>(message) &&
      !std::holds_alternative<RegisterNodeMsg>(message))
    throw ProtocolError("a driver's first message must be Join (a node's, RegisterNode)");
  if (AnswerPlacementGroups(w, message)) return;
  std::visit(
      Overloaded{
          [&](TaskDoneMsg& m) { TaskDone(w, m.id, std::move(m.result)); },
          [&](ReturnTasksMsg& m) {
            for (auto it = m.ids.rbegin(); it != m.ids.rend(); ++it) {
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
          },
          [&](SubmitMsg& m) {
            if (m.request) {  // the client waits: refused, nothing is submitted
              ObjectError refused = SubmitRefusal(m.spec);
              bool accepted = refused.kind == ErrorKind::kNone;
              Reply(w, SubmitReplyMsg{m.request, std::move(refused)});
              if (!accepted) return;
            }
            SubmitLocked(m.id, std::move(m.spec), OwnerOf(w));
          },
          [&](CreateActorMsg& m) {
            if (Job* job = JobOf(w)) {  // the defaults of the job its creator belongs to
              if (m.options.ns.empty()) m.options.ns = job->ns;
              if (!m.options.detached) m.options.detached = job->detached_by_default;
            }
            ObjectError refused = RefuseActor(m.factory, m.options);
            if (refused.kind == ErrorKind::kNone)
              CreateActorLocked(m.id, std::move(m.factory), std::move(m.options), OwnerOf(w));
            Reply(w, CreateActorReplyMsg{m.request, std::move(refused.message), refused.kind});
          },
          [&](KillActorMsg& m) { KillActorLocked(m.id, m.no_restart, "killed by ActorHandle::Kill()"); },
          [&](ActorExitMsg&) {
            if (!w.actor.IsNil()) KillActorLocked(w.actor, true, "the actor called lumen::ExitActor()");
          },
          [&](LookupActorMsg& m) {
            LookupReplyMsg reply{m.request, false, ActorID()};
            Job* job = JobOf(w);
            auto it = named_actors_.find({m.ns.empty() ? (job ? job->ns : options_.ns) : m.ns, m.name});
            if (it != named_actors_.end()) reply = {m.request, true, it->second};
            Reply(w, reply);
          },
          [&](GetMsg& m) {
            SetBlocked(w, +1);
            AddRequest({.client = w.number, .id = m.request, .is_wait = false, .ids = std::move(m.ids), .num_objects = 0,
                        .deadline = DeadlineAfter(m.timeout_ms)});
          },
          [&](WaitMsg& m) {
            SetBlocked(w, +1);
            AddRequest({.client = w.number, .id = m.request, .is_wait = true, .ids = std::move(m.ids),
                        .num_objects = m.num_objects, .deadline = DeadlineAfter(m.timeout_ms)});
          },
          [&](PutMsg& m) {
            objects_[m.id].refs += 1;
            if (!w.deliver) w.refs[m.id] += 1;
            lineage_.Put(m.id, m.payload, OwnerName(OwnerOf(w)));
            QueuePutCopy(m.id, m.payload);
            Complete(m.id, std::move(m.payload));
          },
          [&](RefsMsg& m) {
            if (w.deliver) {  // the driver's references end with this process: no need to track them
              for (const ObjectID& id : m.added) AddRefLocked(id);
              for (const ObjectID& id : m.removed) RemoveRefLocked(id);
              return;
            }
            for (const ObjectID& id : m.added) {
              AddRefLocked(id);
              w.refs[id] += 1;
            }
            for (const ObjectID& id : m.removed) {
              auto it = w.refs.find(id);
              if (it == w.refs.end()) continue;
              if (--it->second == 0) w.refs.erase(it);
              RemoveRefLocked(id);
            }
          },
          [&](CancelMsg& m) { CancelLocked(m.id); },
          [&](JoinMsg& m) {
            if (!w.driver || w.joined) throw ProtocolError("Join from a client that is not a driver about to join");
            Join(w, m);
          },
          [&](RegisterNodeMsg& m) {
            if (!w.driver || w.joined) throw ProtocolError("RegisterNode from a client that is not a node about to register");
            RegisterPeer(w, m);
          },
          [&](GetReplyMsg& m) {
            if (!w.peer_link) throw ProtocolError("a Get reply came from worker " + std::to_string(w.number));
            OnForwardedReply(w, m);
          },
          [&](CreateActorReplyMsg& m) {
            if (!w.peer_link) throw ProtocolError("a CreateActor reply came from worker " + std::to_string(w.number));
            OnPeerActorCreated(w, m);
          },
          [&](JoinReplyMsg& m) {
            if (!w.peer_link) throw ProtocolError("a Join reply came from worker " + std::to_string(w.number));
            if (!m.error.empty()) throw ProtocolError("the node refused this node's job: " + m.error);
          },
          [&](FlushMsg& m) {
            if (!flusher_) throw ProtocolError("Flush from a client of a node that serves no drivers");
            flusher_->Request(w.number, m.request);
          },
          [&](GoodbyeMsg&) {  // a node we link to stops: its links close next
            if (!w.peer_link) throw ProtocolError("a Goodbye came from worker " + std::to_string(w.number));
          },
          [&](auto&) { throw ProtocolError("a message only a node sends came from worker " + std::to_string(w.number)); },
      },
      message);
}

// ---- the embedded driver ---------------------------------------------------

void NodeManager::ConnectLocalClient(std::function<void(Message&)> deliver) {
  std::lock_guard lock(mu_);
  local_client_ = std::make_unique<Worker>();
  local_client_->number = kLocalClient;
  local_client_->deliver = std::move(deliver);
}

void NodeManager::HandleLocal(std::span<Message> messages) {
  Unlocker locked(this);
  bool submitted = false;
  for (Message& m : messages) {
    submitted |= std::holds_alternative<SubmitMsg>(m) || std::holds_alternative<CreateActorMsg>(m) ||
                 std::holds_alternative<CancelMsg>(m) || std::holds_alternative<KillActorMsg>(m);
    HandleFrame(*local_client_, m);
  }
  // What the driver submitted (or a Get made rebuild) starts now, from its
  // thread, not at the I/O loop's next turn.
  if (submitted || !ready_.empty()) {
    Dispatch();
    FlushWrites();
  }
}

NodeManager::Worker* NodeManager::ClientByNumber(int n) {
  if (n == kLocalClient) return local_client_.get();
  auto it = workers_.find(n);
  return it == workers_.end() ? nullptr : it->second.get();
}

NodeManager::Worker* NodeManager::OwnerOf(Worker& client) { return client.deliver ? nullptr : &client; }

std::string NodeManager::OwnerName(const Worker* owner) {
  if (!owner) return "driver";
  return owner->driver ? "driver-" + std::to_string(owner->job) : "worker-" + std::to_string(owner->number);
}

void NodeManager::Reply(Worker& client, Message message) {
  if (client.deliver) {
    local_replies_.push_back(std::move(message));  // handed over once mu_ is released (Unlocker)
  } else if (client.conn) {
    client.conn->Queue(message);
  }
}

}  // namespace lumen::internal
