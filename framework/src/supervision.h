// Supervision of worker processes through CAF.
//
// The driver of an embedded cluster runs a CAF actor system with two actors:
// the head (the cluster directory: which nodes exist, their resources) and
// the node's supervisor. Each worker process runs a small actor system of its
// own, connects to the supervisor over CAF's network layer (middleman, TCP on
// loopback) and registers an actor that stands for the process; the
// supervisor monitors it. When the process dies, CAF delivers a down message
// (reason remote_link_unreachable, 1-3 ms after a kill -9) and the supervisor
// tells the node manager, which retries the worker's tasks and replaces it.
//
// CAF headers stay inside supervision.cc: they cost ~10 s per translation unit.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace lumen::internal {

class Supervision {
 public:
  struct NodeInfo {
    std::string name;
    int num_workers = 0;
    std::map<std::string, double> resources;
  };
  // Called on a CAF thread with the worker's number and CAF's exit reason.
  using WorkerDown = std::function<void(int worker_number, const std::string& reason)>;

  // Starts the actor system, the head and the supervisor, which listens on a
  // loopback port. Throws lumen::Error if CAF cannot listen.
  static std::unique_ptr<Supervision> Start(const NodeInfo& node, WorkerDown on_worker_down);
  // Stops both actors (no more callbacks after it returns), then the system.
  virtual ~Supervision() = default;

  virtual uint16_t port() const = 0;
  // The head's directory of nodes, e.g. for the CLI.
  virtual std::vector<NodeInfo> Nodes() = 0;
};

// In a worker process: registers this process with the supervisor on `port`
// so that it is monitored. Keep the result alive for the life of the process.
// Returns nullptr (and says why in *error) if the supervisor cannot be reached.
std::shared_ptr<void> JoinSupervisor(uint16_t port, int worker_number, std::string* error);

}  // namespace lumen::internal
