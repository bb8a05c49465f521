#include "head_registration.h"

#include <unistd.h>

#include <cstdio>

#include "driver/local_cluster.h"
#include "lumen/errors.h"
#include "protocol/tls_tunnel.h"

namespace lumen::cli {

HeadRegistration::HeadRegistration(internal::ClusterFile head, std::string secret, Node node,
                                   std::function<void(const std::string&)> on_lost)
    : address_(head.address),
      secret_(std::move(secret)),
      instance_(internal::RandomHex(16)),
      node_(std::move(node)),
      on_lost_(std::move(on_lost)) {
  if (internal::IsTlsAddress(head.node_socket)) remote_head_ = head;
  bool refused = false;
  link_ = Register(head, &refused);
  watcher_ = std::thread([this] { Watch(); });
}

HeadRegistration::~HeadRegistration() {
  std::shared_ptr<internal::JoinedNodeLink> link;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    link = std::move(link_);
  }
  cv_.notify_all();
  if (link) link->Close();  // the head sees this node leave; the watcher wakes
  watcher_.join();
}

std::shared_ptr<internal::JoinedNodeLink> HeadRegistration::Register(const internal::ClusterFile& head,
                                                                    bool* refused) const {
  internal::JoinedNodeLink::Heartbeat beat;
  if (node_.load) beat = [load = node_.load] { return internal::Message(load()); };
  auto link = std::make_shared<internal::JoinedNodeLink>(head.node_socket, internal::NodeLivenessTimeoutMs(), beat,
                                                         secret_, node_.bundles);
  internal::Message m =
      internal::RegisterNodeMsg{1,        secret_, node_.name, node_.node_socket, node_.store_socket, node_.resources,
                                static_cast<int32_t>(::getpid()), instance_};
  link->Send({&m, 1});
  internal::Message reply = link->AwaitReply(1);  // bounded: the link's liveness timeout
  auto* registered = std::get_if<internal::RegisterNodeReplyMsg>(&reply);
  if (!registered) throw Error("the head answered RegisterNode with something else");
  if (!registered->error.empty()) {
    *refused = true;
    throw Error(registered->error);
  }
  return link;
}

std::optional<internal::ClusterFile> HeadRegistration::HeadNow() const {
  return remote_head_ ? remote_head_ : internal::FindCluster(address_);
}

void HeadRegistration::Watch() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (auto link = link_) {
      lock.unlock();
      link->AwaitClosed();  // the head went, or ~HeadRegistration closed it
      auto goodbye = link->goodbye();
      link.reset();
      if (node_.head_gone) node_.head_gone();
      lock.lock();
      if (stopping_) return;
      link_.reset();
      if (goodbye) {
        lock.unlock();
        return on_lost_("the head stopped (" + *goodbye + ")");
      }
    }
    std::fprintf(stderr, "lumen: lost the head at %s; registering again once a head serves it (up to %d s)\n",
                 address_.c_str(), static_cast<int>(kRejoinWithin.count()));
    std::string last_error = "no head serves it on this machine";
    auto deadline = std::chrono::steady_clock::now() + kRejoinWithin;
    while (!stopping_ && !link_ && std::chrono::steady_clock::now() < deadline) {
      // A retry a quarter second: a head restarting takes about a second.
      if (cv_.wait_for(lock, std::chrono::milliseconds(250), [&] { return stopping_; })) return;
      auto head = HeadNow();
      if (!head) continue;
      lock.unlock();
      std::shared_ptr<internal::JoinedNodeLink> link;
      bool refused = false;
      try {
        link = Register(*head, &refused);
      } catch (const std::exception& e) {
        last_error = e.what();
      }
      if (refused) return on_lost_("the head now serving " + address_ + " refused this node: " + last_error);
      lock.lock();
      if (!link) continue;
      link_ = std::move(link);
      std::fprintf(stderr, "lumen: registered again with the head at %s%s\n", address_.c_str(),
                   remote_head_ ? "" : (" (pid " + std::to_string(head->pid) + ")").c_str());
    }
    if (stopping_) return;
    if (!link_) {
      lock.unlock();
      return on_lost_("no head came back at " + address_ + " within " + std::to_string(kRejoinWithin.count()) +
                      " s (last: " + last_error + ")");
    }
  }
}

}  // namespace lumen::cli
