// What the harness's watchdog ends before it exits on a hang: the processes
// and temp dirs of the run under way. Their owners register an action for
// as long as they own them (a child driver: kill it; a temp dir: remove it;
// the daemons of a local cluster: kill them and remove their sessions).
//
// Thread safety: any thread. AbandonRun holds the registry's lock while the
// actions run, so an owner going away at the same moment waits for it.
#pragma once

#include <cstdint>
#include <functional>

namespace chaos {

class AbandonAction {
 public:
  explicit AbandonAction(std::function<void()> action);
  ~AbandonAction();  // unregisters
  AbandonAction(const AbandonAction&) = delete;
  AbandonAction& operator=(const AbandonAction&) = delete;

 private:
  uint64_t id_;
};

// Runs every action registered now, newest first (a dir's processes before the dir).
void AbandonRun();

}  // namespace chaos
