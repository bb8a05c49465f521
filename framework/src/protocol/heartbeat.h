// Liveness of the links to a node that outlive one request: a joined
// driver's and a registered node's (its registration with the head).
//
// The client sends Ping every tenth of the timeout; the node answers Pong at
// once, from its I/O loop. A client that hears nothing from the node for the
// timeout declares it dead: the link closes and every wait on it fails. The
// head declares a registered node dead when it has heard nothing from it for
// the timeout (PeerGone: what ran there runs again). So a node stopped
// (SIGSTOP), wedged or cut off is declared dead within 1.1x the timeout of
// its last frame: 10 to 11 s by default, LUMEN_NODE_LIVENESS_MS to change it.
// A stopped driver is not judged: its job waits for it (a debugger may hold it).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace lumen::internal {

inline constexpr const char* kNodeLivenessVar = "LUMEN_NODE_LIVENESS_MS";

inline int64_t NodeLivenessTimeoutMs() {
  const char* value = std::getenv(kNodeLivenessVar);
  int64_t ms = value ? std::atoll(value) : 0;
  return ms > 0 ? ms : 10000;
}

inline int64_t HeartbeatIntervalMs(int64_t timeout_ms) { return std::max<int64_t>(timeout_ms / 10, 1); }

}  // namespace lumen::internal
