#include "processes.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace chaos {
namespace {

// The fields of /proc/PID/stat after the command name, which may itself
// hold spaces and parentheses: everything after the last ')'.
bool ReadStat(pid_t pid, char* state, pid_t* parent) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 1));
  return static_cast<bool>(rest >> *state >> *parent);
}

}  // namespace

ProcessState StateOf(pid_t pid) {
  char state = 0;
  pid_t parent = 0;
  if (!ReadStat(pid, &state, &parent)) return ProcessState::kGone;
  switch (state) {
    case 'Z':
    case 'X': return ProcessState::kZombie;
    case 'T':
    case 't': return ProcessState::kStopped;
    default: return ProcessState::kRunning;
  }
}

pid_t ParentOf(pid_t pid) {
  char state = 0;
  pid_t parent = 0;
  return ReadStat(pid, &state, &parent) ? parent : 0;
}

std::vector<pid_t> OurChildren() { return ChildrenOf(getpid()); }

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::atol(name.c_str()));
    if (ParentOf(pid) == parent) children.push_back(pid);
  }
  return children;
}

bool IsLiveChild(pid_t pid) {
  if (pid <= 0 || ParentOf(pid) != getpid()) return false;
  ProcessState state = StateOf(pid);
  return state == ProcessState::kRunning || state == ProcessState::kStopped;
}

}  // namespace chaos
