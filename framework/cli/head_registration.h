// A node daemon's membership of its head's cluster (`lumen start --address`).
//
// It registers with the head (RegisterNode over the head's node socket) and
// keeps that link's heartbeat (protocol/heartbeat.h), each beat saying how
// busy this node is (NodeLoadMsg). When the head goes:
//  - if it said goodbye (it stopped on purpose, `lumen stop`), this node
//    stops too;
//  - if it died or went silent, this node registers again with whichever
//    head serves the same address within kRejoinWithin, and stops if none
//    does, or if that head refuses it: a head restarted on its storage dir
//    (`lumen start --head --storage DIR`) keeps the cluster's secret there,
//    so it is the same cluster; another head is another cluster. Meanwhile
//    this node runs nothing new: its jobs ended with the links of the head
//    that went.
// "Stops" means `on_lost` is called once, with why (the daemon then
// SIGTERMs itself). A head of another host (its node_socket a tls://
// address) is registered with through a tunnel, and looked for again there.
//
// Each registration presents this daemon's instance: an id made at random
// as the registration starts, the same each time it registers again, so a
// head restarted on its storage dir knows the member coming back
// (node/dead_nodes.h) from another daemon that took its name. A daemon
// restarted is another instance: nothing of the one before (its store, its
// workers, its session) survives in it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "client/joined_node_link.h"
#include "driver/cluster_file.h"
#include "protocol/rejoin.h"

namespace lumen::cli {

using internal::kRejoinWithin;  // protocol/rejoin.h: a restarted head waits as long for its nodes

class HeadRegistration {
 public:
  struct Node {
    std::string name;
    std::string node_socket;
    std::string store_socket;
    std::map<std::string, double> resources;
    // Its figures now (workers, running tasks), sent as its heartbeat so
    // the head's dashboard shows them; called on the link's reader thread.
    std::function<internal::NodeLoadMsg()> load;
    // The head's requests about the bundles it places here, answered on
    // the link (JoinedNodeLink::Commands); and, once that head is gone,
    // every bundle given back (a head that comes back places them again).
    internal::JoinedNodeLink::Commands bundles;
    std::function<void()> head_gone;
  };
  // Registers once, presenting `secret` (the cluster's, which this node's
  // own socket also asks for); throws lumen::Error with the head's reason if
  // it refuses or does not answer.
  HeadRegistration(internal::ClusterFile head, std::string secret, Node node,
                   std::function<void(const std::string&)> on_lost);
  // Stops watching and closes the registration: the head sees this node leave.
  ~HeadRegistration();

 private:
  // The registered link; throws lumen::Error (*refused: the head said no).
  std::shared_ptr<internal::JoinedNodeLink> Register(const internal::ClusterFile& head, bool* refused) const;
  void Watch();

  // The head to register with again: this machine's that serves the address, or the remote one.
  std::optional<internal::ClusterFile> HeadNow() const;

  std::string address_;
  std::optional<internal::ClusterFile> remote_head_;
  std::string secret_;
  const std::string instance_;
  Node node_;
  std::function<void(const std::string&)> on_lost_;
  std::mutex mu_;  // guards link_, stopping_
  std::condition_variable cv_;
  std::shared_ptr<internal::JoinedNodeLink> link_;
  bool stopping_ = false;
  std::thread watcher_;
};

}  // namespace lumen::cli
