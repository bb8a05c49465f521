#include "runtime/poll_until.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace lumen::internal {

PollResult PollUntil(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  using Clock = std::chrono::steady_clock;
  for (;;) {
    int timeout_ms = -1;
    if (deadline != Clock::time_point::max()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      timeout_ms = static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
    }
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, timeout_ms);
    if (n > 0) return PollResult::kReady;
    if (n == 0 && timeout_ms == 0) return PollResult::kTimedOut;
    if (n < 0 && errno != EINTR) return PollResult::kFailed;
  }
}

}  // namespace lumen::internal
