// A driver's session on this machine: the private directory its sockets and
// files live in, what a driver that died without Shutdown left behind, and
// the signals that end a driver.
//
// A session dir is /tmp/lumen-<pid>-<random>, mode 0700 whatever the umask.
// A driver killed with SIGKILL cannot clean up: its workers die with it (they
// hold a parent-death signal), and the next Init on this machine removes the
// dirs (and any named segment) of sessions whose driver is gone.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace lumen::storage {
class LineageLog;
}

namespace lumen::internal {

// Creates /tmp/lumen-<id>, mode 0700; lumen::Error if it cannot.
std::string MakePrivateSessionDir(const std::string& id);
// chmod 0700 (a dir) or 0600 (a file), whatever the umask said.
void MakePrivate(const std::string& path);
// Calls `visit` with each session dir of this user on this machine (a dir
// /tmp/lumen-*, not a link, owned by this user), running or not.
void ForEachSessionDir(const std::function<void(const std::filesystem::path&)>& visit);
// Removes what drivers of this user that are no longer running left behind.
void RemoveDeadSessions();
// True while `pid` runs: a zombie (dead, not reaped yet; a daemon's parent
// is whoever adopted it) does not.
bool ProcessRunning(pid_t pid);
// Who holds a storage dir: NoteStorageHolder writes this process's pid into
// it; StorageHolder(dir) says, for an error message, which process holds it.
void NoteStorageHolder(const std::string& storage_dir);
std::string StorageHolder(const std::string& storage_dir);
// Lifts the soft limit on open files to the hard one: each actor holds
// descriptors in the driver.
void RaiseDescriptorLimit();

// While alive: SIGINT and SIGTERM (when the program left them at their
// default) make the driver flush its lineage log and remove its session dir,
// then die of the same signal. Workers die with the driver.
class SignalGuard {
 public:
  static std::unique_ptr<SignalGuard> Install(std::string session_dir, storage::LineageLog* lineage);
  virtual ~SignalGuard() = default;  // restores the previous handlers
};

}  // namespace lumen::internal
