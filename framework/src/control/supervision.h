// Supervision of worker processes through CAF.
//
// The node manager runs a CAF actor system with the node's supervisor (the
// cluster's head, with its directory, joins it later). Each worker process
// runs a small actor system of its own, connects to the supervisor over
// CAF's network layer (middleman, TCP on 127.0.0.1) and registers an actor that stands for the process; the
// supervisor monitors it. When the process dies, CAF delivers a down message
// (reason remote_link_unreachable, 1-3 ms after a kill -9) and the supervisor
// tells the node manager, which retries the worker's tasks and replaces it.
//
// Who may connect. Any local user can reach a loopback port, and BASP, CAF's
// protocol, trusts its peers: it sets aside whatever payload size a header
// claims (4 GiB for one 32-byte message) and takes a register message from
// anyone for a worker's death warrant. So the port speaks mutual TLS
// (caf::openssl) and BASP starts only after the handshake: each session makes
// a key and a self-signed certificate at start (session_credentials.h), which
// both sides present and trust alone (caf::openssl sets SSL_VERIFY_PEER |
// SSL_VERIFY_FAIL_IF_NO_PEER_CERT once a certificate is configured). A peer
// without the session's key fails the handshake, and its bytes never reach
// BASP; a failed handshake only closes that connection. The key file (0600,
// in the session directory) is what proves a worker was spawned by the
// runtime; workers get its path in their environment. Within the session,
// each worker number may register once (first come), so even a worker cannot
// have another declared dead. What is left: a local peer can hold idle
// connections open (descriptors, not memory), as on any listening port.
//
// Liveness. A worker stopped (SIGSTOP), wedged or cut off sends nothing, and
// TCP alone never says so. Both sides send a BASP heartbeat every tenth of
// the liveness timeout (from the middleman's own thread, so a worker busy in
// user code still beats); the supervisor drops a worker silent for longer
// than the timeout (workers do not drop the supervisor: see SessionConfig)
// and then sees the worker down (reason connection_timeout), and
// the node manager kills the process and retries its tasks. A silent worker
// is thus declared dead between 1x and 1.1x the timeout after its last
// message (default 5 s; Config::worker_liveness_timeout_ms).
//
// The actors' protocols are written as types in supervision_protocol.h.
// CAF headers stay inside supervision.cc: they cost ~10 s per translation unit.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lumen::internal {

// The liveness timeout when Config::worker_liveness_timeout_ms is 0: env
// LUMEN_WORKER_LIVENESS_MS, else 5000 ms.
int64_t DefaultLivenessTimeoutMs();

class Supervision {
 public:
  struct Options {
    std::string session_dir;            // the session's credentials are written here
    int64_t liveness_timeout_ms = 0;    // 0 = DefaultLivenessTimeoutMs()
  };
  // Called on a CAF thread with the worker's number and CAF's exit reason.
  using WorkerDown = std::function<void(int worker_number, const std::string& reason)>;

  // Makes the session's credentials, starts the actor system and
  // the supervisor, which listens on 127.0.0.1. Throws lumen::Error if the
  // credentials cannot be written or CAF cannot listen.
  static std::unique_ptr<Supervision> Start(const Options& options,
                                            WorkerDown on_worker_down);
  // Stops both actors (no more callbacks after it returns), then the system.
  virtual ~Supervision() = default;

  virtual uint16_t port() const = 0;
  // What a worker process needs in its environment ("NAME=value") to join:
  // the port, the credentials' paths, the liveness timeout.
  virtual std::vector<std::string> WorkerEnvironment() const = 0;
};

// In a worker process: registers this process with the supervisor named in
// its environment (Supervision::WorkerEnvironment) so that it is monitored.
// Keep the result alive for the life of the process. Returns nullptr (and
// says why in *error) if the supervisor cannot be reached or refuses.
std::shared_ptr<void> JoinSupervisor(int worker_number, std::string* error);

}  // namespace lumen::internal
