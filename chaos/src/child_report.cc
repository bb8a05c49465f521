#include "child_report.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "runtime/write_all.h"

namespace chaos {
using lumen::internal::WriteAll;

void FollowChild(ChildDriver& child, RunLog& log, const std::vector<Fault>& schedule, Clock::time_point deadline,
                 ChildReport* report, bool until_started, const std::function<bool(const std::string&)>& take) {
  // The deadline is checked here too: a child that writes fast always has a line ready.
  while (!(until_started && !report->session_dir.empty()) && Clock::now() < deadline) {
    std::optional<std::string> line = child.ReadLine(deadline);
    if (!line) return;
    if (line->rfind("started ", 0) == 0) report->session_dir = line->substr(8);
    else if (line->rfind("extra ", 0) == 0) report->extra = line->substr(6);
    else if (take && take(*line)) continue;
    else if (!log.Replay(*line, schedule)) log.Fail("the child driver wrote a line that is no event: " + *line);
  }
}

void ReportTo(RunLog& log, int report_fd) {
  ::fcntl(report_fd, F_SETFD, FD_CLOEXEC);
  log.MirrorTo([report_fd](const std::string& line) {
    if (!WriteAll(report_fd, line)) std::_Exit(4);  // the harness is gone
  });
}

void TellHarness(int report_fd, const std::string& line) {
  if (!WriteAll(report_fd, line + "\n")) std::_Exit(4);
}

HarnessCommands::HarnessCommands(int fd) : fd_(fd) { ::fcntl(fd_, F_SETFD, FD_CLOEXEC); }

bool HarnessCommands::Finished() {
  while (!finished_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) break;
    char chunk[256];
    ssize_t got = ::read(fd_, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      finished_ = true;  // the harness is gone: its death signal ends us soon anyway
      break;
    }
    buffer_.append(chunk, static_cast<size_t>(got));
    finished_ = buffer_.find("finish\n") != std::string::npos;
  }
  return finished_;
}

}  // namespace chaos
