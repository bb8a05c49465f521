// What passes between the harness and a child driver (child_driver.h)
// besides the child's run log events (run_log.h), both sides:
//   child -> harness, fd 3:  "started SESSION_DIR" once its Init returned;
//                             "extra TEXT" (the workload's table cell) at its end
//   harness -> child, fd 4:  "finish": the faults are over; end after one more round
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "child_driver.h"
#include "run_log.h"

namespace chaos {

// ---- the harness's side ----

struct ChildReport {
  std::string session_dir;  // set once it said "started"
  std::string extra;
};

// Reads `child`'s lines until `deadline`, its end, or (with `until_started`)
// its "started" line. `take`, if given, sees every event line first and
// keeps those it returns true for; the others are replayed into `log`
// (faults index into `schedule`). A line that is no event fails the run.
void FollowChild(ChildDriver& child, RunLog& log, const std::vector<Fault>& schedule, Clock::time_point deadline,
                 ChildReport* report, bool until_started,
                 const std::function<bool(const std::string& line)>& take = nullptr);

// ---- the child's side ----

// Mirrors `log` to `report_fd` from now on; a harness that is gone ends
// this process (exit 4). The fd is made close-on-exec first: workers must
// not hold the pipe open.
void ReportTo(RunLog& log, int report_fd);
// One line straight to the harness (before other threads report, or after).
void TellHarness(int report_fd, const std::string& line);

// What the harness said on `fd` (close-on-exec from here), read without blocking.
class HarnessCommands {
 public:
  explicit HarnessCommands(int fd);
  // True once the harness said "finish" (or is gone).
  bool Finished();

 private:
  int fd_;
  std::string buffer_;
  bool finished_ = false;
};

}  // namespace chaos
