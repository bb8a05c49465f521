// What the harness needs to know about processes, read from /proc: whether a
// pid is still a live child of ours (so that a signal can never hit an
// unrelated process that reused a dead worker's pid), and which children are
// left after Shutdown.
#pragma once

#include <sys/types.h>

#include <vector>

namespace chaos {

enum class ProcessState { kGone, kZombie, kStopped, kRunning };

ProcessState StateOf(pid_t pid);
// 0 when the process is gone.
pid_t ParentOf(pid_t pid);
// Children of `parent`, zombies included.
std::vector<pid_t> ChildrenOf(pid_t parent);
// Children of this process, zombies included.
std::vector<pid_t> OurChildren();
// True when `pid` is a child of ours that has not exited.
bool IsLiveChild(pid_t pid);

}  // namespace chaos
