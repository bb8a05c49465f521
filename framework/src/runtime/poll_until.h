// Waiting on one descriptor until a deadline (runtime/deadline.h): the one
// loop the tunnels, the store gateway and their connects share, so every
// such wait is bounded the same way and survives EINTR.
#pragma once

#include <chrono>

namespace lumen::internal {

enum class PollResult { kReady, kTimedOut, kFailed };  // kFailed: errno says why

// Until `fd` has one of `events` (POLLIN, POLLOUT) or an error or hang-up to
// report, or `deadline` passes; time_point::max() waits without a bound. A
// deadline already past still looks once (now(): is it ready now?).
PollResult PollUntil(int fd, short events, std::chrono::steady_clock::time_point deadline);

}  // namespace lumen::internal
