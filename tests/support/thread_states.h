// The scheduler's state of each thread of a process, from
// /proc/PID/task/*/stat: 'R', 'S', 'T' (stopped), 'Z' (zombie), ... Empty
// if the process is gone. What tests check a daemon's or a server's
// liveness with.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace lumen::testing {

inline std::vector<char> ThreadStates(pid_t pid) {
  std::vector<char> states;
  std::error_code ec;
  for (auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "stat");
    std::string line;
    std::getline(in, line);
    auto close = line.rfind(')');  // the command's name may hold anything: the state follows its last ')'
    if (close != std::string::npos && close + 2 < line.size()) states.push_back(line[close + 2]);
  }
  return states;
}

}  // namespace lumen::testing
