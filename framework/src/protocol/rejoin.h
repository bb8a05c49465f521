// How long the nodes of a head that went look for it again, and how long a
// head restarted on its storage dir waits for them.
//
// A node whose head died (or went silent) registers again with whichever
// head serves the same address within kRejoinWithin of noticing, and stops
// if none does (cli/head_registration.h). So a restarted head that has not
// seen a node of its earlier run register again within kRejoinWithin, plus
// the time that node may take to notice (twice the liveness timeout), will
// not see it again: it lists it as awaited until then, and as dead after
// (node/dead_nodes.h). LUMEN_REJOIN_WAIT_MS sets the head's wait instead
// (read as the head starts; tests shorten it).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>

#include "protocol/heartbeat.h"

namespace lumen::internal {

inline constexpr auto kRejoinWithin = std::chrono::seconds(60);
inline constexpr const char* kRejoinWaitVar = "LUMEN_REJOIN_WAIT_MS";

inline std::chrono::milliseconds HeadRejoinWait() {
  const char* value = std::getenv(kRejoinWaitVar);
  int64_t ms = value ? std::atoll(value) : 0;
  if (ms > 0) return std::chrono::milliseconds(ms);
  return std::chrono::duration_cast<std::chrono::milliseconds>(kRejoinWithin) +
         std::chrono::milliseconds(2 * NodeLivenessTimeoutMs());
}

}  // namespace lumen::internal
