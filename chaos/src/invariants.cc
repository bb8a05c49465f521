#include "invariants.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include "processes.h"

namespace chaos {
namespace {

constexpr auto kGrace = std::chrono::milliseconds(2000);

}  // namespace

std::vector<std::string> NothingLeftBehind(const std::string& session_dir) {
  std::vector<std::string> broken;
  // Shutdown stops the workers before it returns; the grace only covers a
  // process already killed whose exit the kernel has not finished.
  auto deadline = std::chrono::steady_clock::now() + kGrace;
  std::vector<pid_t> alive, zombies;
  do {
    alive.clear();
    zombies.clear();
    for (pid_t pid : OurChildren()) (StateOf(pid) == ProcessState::kZombie ? zombies : alive).push_back(pid);
    if (alive.empty() && zombies.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  if (!alive.empty()) broken.push_back("after Shutdown, child processes still alive: " + PidList(alive));
  if (!zombies.empty()) broken.push_back("after Shutdown, child processes never reaped (zombies): " + PidList(zombies));
  std::error_code ec;
  if (!session_dir.empty() && std::filesystem::exists(session_dir, ec))
    broken.push_back("after Shutdown, the session dir is still there: " + session_dir);
  return broken;
}

}  // namespace chaos
