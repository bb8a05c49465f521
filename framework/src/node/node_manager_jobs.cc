// Jobs and the drivers that join a node that serves them (NodeOptions::
// serve_drivers, a daemon started by `lumen start`): a driver connects to the
// node's socket, proves it may join with the cluster's secret, and becomes a
// job: its namespace, and workers that run its binary. When its connection
// goes (Shutdown, exit, SIGKILL: the kernel closes the socket), its job ends.
// Every function here REQUIRES mu_ but OnFlushed, which takes it.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "node/node_manager.h"
#include "node/node_manager_records.h"

namespace lumen::internal {

namespace {
// A driver says who it is at once; one that does not is cut off.
constexpr auto kJoinWithin = std::chrono::seconds(10);

// Compares in time independent of where they differ: the secret is the
// cluster's only gate.
bool SameSecret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() != b.size();
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}
}  // namespace

void NodeManager::AcceptDriver(int fd, const ucred& cred) {
  const char* refusal = !options_.serve_drivers ? "it is not a worker this node started"
                        : cred.uid != ::getuid() ? "it runs as another user"
                                                 : nullptr;
  if (refusal) {
    std::fprintf(stderr, "lumen: refused a connection from pid %d: %s\n", static_cast<int>(cred.pid), refusal);
    ::close(fd);
    return;
  }
  AddDriverConnection(fd, cred.pid);
}

// A tunnel's peer passed the handshake, so it holds the cluster's secret;
// like a driver of this host, it must still join (or register) in time.
void NodeManager::AdoptTunnel(int fd, const std::string& from) {
  std::lock_guard lock(mu_);
  if (stopping_) {
    ::close(fd);
    return;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  AddDriverConnection(fd, 0).remote = from;
}

NodeManager::Worker& NodeManager::AddDriverConnection(int fd, pid_t pid) {
  auto w = std::make_unique<Worker>();
  w->number = next_worker_++;
  w->job = -1;  // none until it joins
  w->driver = true;
  w->pid = pid;
  w->ever_connected = true;
  w->join_by = Clock::now() + kJoinWithin;
  w->conn = std::make_unique<Connection>(fd);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
  ev.data.u64 = static_cast<uint64_t>(w->number);
  Worker& added = *w;
  workers_[w->number] = std::move(w);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);  // last: its first frames may be read at once
  return added;
}

bool NodeManager::PresentsSecret(const std::string& secret) const {
  return !options_.cluster_secret.empty() && SameSecret(secret, options_.cluster_secret);
}

// Says why, then ends the connection.
void NodeManager::Refuse(Worker& client, const Message& reply) {
  client.conn->Queue(reply);
  client.conn->Flush();
  CloseConnection(client);
}

void NodeManager::Join(Worker& driver, JoinMsg& m) {
  JoinReplyMsg reply;
  reply.request = m.request;
  if (!PresentsSecret(m.secret)) {
    std::fprintf(stderr, "lumen: refused the driver with pid %d: it did not present the cluster's secret\n",
                 static_cast<int>(driver.pid));
    reply.error = "the cluster refused to let this driver join: it did not present the cluster's secret "
                  "(LUMEN_CLUSTER_SECRET, or the secret file of the cluster's session on this machine)";
  } else if (m.binary.empty() || m.binary[0] != '/' || ::access(m.binary.c_str(), X_OK) != 0) {
    reply.error = "the node cannot run workers from '" + m.binary + "': it needs an absolute path of an executable "
                  "the node can run (Config::worker_binary)";
  }
  if (!reply.error.empty()) return Refuse(driver, reply);
  Job& job = jobs_[next_job_];
  job.id = next_job_++;
  job.binary = m.binary;
  job.argv = m.argv.empty() ? std::vector<std::string>{m.binary} : m.argv;
  job.ns = m.ns.empty() ? "job-" + std::to_string(driver.pid) + "-" + std::to_string(job.id) : m.ns;
  job.detached_by_default = m.detached_by_default;
  job.driver = driver.number;
  driver.job = job.id;
  driver.joined = true;
  reply.ns = job.ns;
  reply.job = static_cast<uint32_t>(job.id);
  reply.node_name = options_.node_name;
  reply.resources = options_.resources;
  Reply(driver, reply);
  std::fprintf(stderr, "lumen: job %d joined: driver pid %d, namespace '%s', workers run %s\n", job.id,
               static_cast<int>(driver.pid), job.ns.c_str(), job.binary.c_str());
  for (int i = 0; i < options_.num_workers; ++i) SpawnWorker(job.id);
}

// The job a detached actor restored on a daemon's node runs in: one per
// binary, command line and namespace of the log's actors, with no driver
// (ended: no pool), so that its process runs what it ran before. -1 (and
// why) if that binary cannot run here now.
int NodeManager::RestoredJob(const storage::ActorRecord& record, std::string* why) {
  if (record.binary.empty()) {
    *why = "its record names no binary to run it with (a log written before actors recorded theirs)";
    return -1;
  }
  if (::access(record.binary.c_str(), X_OK) != 0) {
    *why = "its binary " + record.binary + " cannot be run here: " + std::strerror(errno);
    return -1;
  }
  for (auto& [id, job] : jobs_)
    if (job.restored && job.binary == record.binary && job.argv == record.argv && job.ns == record.ns) return id;
  Job& job = jobs_[next_job_];
  job.id = next_job_++;
  job.binary = record.binary;
  job.argv = record.argv.empty() ? std::vector<std::string>{record.binary} : record.argv;
  job.ns = record.ns;
  job.detached_by_default = true;
  job.ended = true;
  job.restored = true;
  return job.id;
}

// Its driver left: its pool stops and what nothing holds any more is
// dropped. Work that something still holds (a detached actor's) runs on
// workers started for it on demand (SpawnForReadyWork).
void NodeManager::EndJob(int id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.ended) return;
  it->second.ended = true;
  std::fprintf(stderr, "lumen: job %d ended: its driver left\n", id);
  for (auto& [n, w] : workers_) {
    if (w->dead || !IsPool(*w) || w->job != id) continue;
    if (w->conn) {
      CloseConnection(*w);
    } else if (w->pid > 0) {
      ::kill(w->pid, SIGKILL);  // still starting: reaped, and not replaced (its job ended)
    } else {
      w->dead = true;  // not forked yet: it never will be
    }
  }
  std::vector<TaskID> dropped;
  for (auto& [task_id, task] : tasks_)
    if (task.job == id && task.worker < 0 && task.spec.actor.IsNil() && !Reachable(task)) dropped.push_back(task_id);
  for (const TaskID& task_id : dropped) FinishTask(task_id);
}

void NodeManager::CloseSilentDrivers() {
  auto now = Clock::now();
  auto liveness = std::chrono::milliseconds(options_.node_liveness_timeout_ms);
  for (auto& [n, w] : workers_) {
    if (w->node && w->conn && now - w->heard > liveness) {  // stopped, wedged or cut off: fenced off
      std::fprintf(stderr, "lumen: node %d (pid %d) sent nothing for %lld ms (stopped, wedged or cut off): declared dead\n",
                   w->peer, static_cast<int>(w->pid), static_cast<long long>(liveness.count()));
      // Gone first, so its death says why (closing it alone says its connection closed).
      PeerGone(w->peer, "declared dead: the head heard nothing from it for " + std::to_string(liveness.count()) +
                            " ms (stopped, wedged or cut off)");
      CloseConnection(*w);
      continue;
    }
    // A node daemon registers (RegisterNodeMsg) instead of joining: it stays.
    if (!w->driver || w->joined || w->node || !w->conn || now < w->join_by) continue;
    std::fprintf(stderr, "lumen: closing the connection of pid %d: it did not join within %d s\n",
                 static_cast<int>(w->pid), static_cast<int>(kJoinWithin.count()));
    CloseConnection(*w);
  }
}

void NodeManager::OnFlushed(int client, uint64_t request, const std::string& error) {
  Unlocker locked(this);
  Worker* w = ClientByNumber(client);
  if (!w || !w->conn) return;  // it left meanwhile
  Reply(*w, FlushReplyMsg{request, error});
  FlushWrites();
}

NodeManager::Job* NodeManager::JobOf(const Worker& client) {
  auto it = jobs_.find(client.deliver ? kEmbeddedJob : client.job);
  return it == jobs_.end() ? nullptr : &it->second;
}

// A task re-run from the log has no submitter here: it runs on the embedded
// driver's workers, or (a daemon's node) on those of the newest live job.
int NodeManager::RebuildJob() const {
  if (jobs_.count(kEmbeddedJob)) return kEmbeddedJob;
  for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it)
    if (!it->second.ended) return it->first;
  return jobs_.empty() ? kEmbeddedJob : jobs_.rbegin()->first;
}

}  // namespace lumen::internal
