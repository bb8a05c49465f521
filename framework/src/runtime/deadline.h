// Timeouts given in milliseconds as absolute deadlines. A negative timeout
// means none; a huge one (up to INT64_MAX ms) saturates instead of
// overflowing into the past.
#pragma once

#include <chrono>
#include <cstdint>

namespace lumen::internal {

inline std::chrono::steady_clock::time_point DeadlineAfter(int64_t timeout_ms) {
  using Clock = std::chrono::steady_clock;
  if (timeout_ms < 0) return Clock::time_point::max();
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - Clock::now());
  if (timeout_ms >= left.count()) return Clock::time_point::max();
  return Clock::now() + std::chrono::milliseconds(timeout_ms);
}

// Wall-clock time in ms since the epoch, for records.
inline uint64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace lumen::internal
