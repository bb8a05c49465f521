#include "driver/session.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "lumen/errors.h"
#include "lumen/storage/lineage_log.h"

namespace lumen::internal {

namespace fs = std::filesystem;

std::string MakePrivateSessionDir(const std::string& id) {
  std::string dir = "/tmp/lumen-" + id;
  if (::mkdir(dir.c_str(), 0700) != 0)
    throw Error("lumen::Init: cannot create the session directory " + dir + ": " + std::strerror(errno));
  MakePrivate(dir);
  return dir;
}

void MakePrivate(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;
  ::chmod(path.c_str(), S_ISDIR(st.st_mode) ? 0700 : 0600);
}

void ForEachSessionDir(const std::function<void(const fs::path&)>& visit) {
  std::error_code ec;
  for (auto it = fs::directory_iterator("/tmp", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().filename().string().rfind("lumen-", 0) != 0) continue;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid()) continue;
    visit(it->path());
  }
}

void RemoveDeadSessions() {
  ForEachSessionDir([](const fs::path& dir) {
    std::string name = dir.filename().string();
    // lumen-<pid>-<random>: the pid of the driver that made it.
    char* end = nullptr;
    long pid = std::strtol(name.c_str() + 6, &end, 10);
    if (pid <= 0 || *end != '-') return;
    if (ProcessRunning(static_cast<pid_t>(pid))) return;  // its driver still runs
    std::error_code ignore;
    fs::remove_all(dir, ignore);
    fs::remove(fs::path("/dev/shm") / name, ignore);  // a named segment, if the store made one
  });
}

namespace {
// A /proc stat file's state letter ("pid (name) S ...": it follows the
// name's last ')'); '?' if unreadable.
char StateIn(const std::string& stat_path) {
  std::FILE* f = std::fopen(stat_path.c_str(), "re");
  if (!f) return '?';
  char line[512] = {};
  size_t n = std::fread(line, 1, sizeof line - 1, f);
  std::fclose(f);
  const char* close = nullptr;
  for (size_t i = 0; i < n; ++i)
    if (line[i] == ')') close = line + i;
  return close && close[1] != '\0' ? close[2] : '?';
}
}  // namespace

// Every thread counts: a killed process's first thread turns zombie while
// others still exit, holding its files (a lineage log's lock) until the last.
bool ProcessRunning(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::string proc = "/proc/" + std::to_string(pid);
  std::error_code ec;
  bool any = false;
  for (auto it = fs::directory_iterator(proc + "/task", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    any = true;
    char state = StateIn((it->path() / "stat").string());
    if (state != 'Z' && state != 'X' && state != '?') return true;
  }
  if (any) return false;
  char state = StateIn(proc + "/stat");  // no thread list to read: its first thread says
  return state != 'Z' && state != 'X';
}

void NoteStorageHolder(const std::string& storage_dir) {
  std::string path = storage_dir + "/DRIVER";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  std::string pid = std::to_string(::getpid()) + "\n";
  (void)!::write(fd, pid.data(), pid.size());
  ::close(fd);
}

std::string StorageHolder(const std::string& storage_dir) {
  FILE* f = std::fopen((storage_dir + "/DRIVER").c_str(), "re");
  if (!f) return "";
  long pid = 0;
  bool read = std::fscanf(f, "%ld", &pid) == 1;
  std::fclose(f);
  if (!read || pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) return "";
  return " (it is in use by the driver with pid " + std::to_string(pid) +
         "; one driver at a time may use a storage dir)";
}

void RaiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

namespace {

int g_signal_pipe[2] = {-1, -1};

void OnSignal(int signo) {
  unsigned char b = static_cast<unsigned char>(signo);
  (void)!::write(g_signal_pipe[1], &b, 1);
}

// One watcher thread turns a signal into cleanup outside the handler.
class PosixSignalGuard : public SignalGuard {
 public:
  PosixSignalGuard(std::string session_dir, storage::LineageLog* lineage)
      : session_dir_(std::move(session_dir)), lineage_(lineage) {
    if (::pipe2(g_signal_pipe, O_CLOEXEC) != 0) return;
    for (int i = 0; i < 2; ++i) {
      struct sigaction now {};
      sigaction(kSignals[i], nullptr, &previous_[i]);
      if (previous_[i].sa_handler != SIG_DFL) continue;  // the program handles it itself
      now.sa_handler = OnSignal;
      sigemptyset(&now.sa_mask);
      installed_[i] = sigaction(kSignals[i], &now, nullptr) == 0;
    }
    watcher_ = std::thread([this] { Watch(); });
  }
  ~PosixSignalGuard() override {
    for (int i = 0; i < 2; ++i)
      if (installed_[i]) sigaction(kSignals[i], &previous_[i], nullptr);
    if (watcher_.joinable()) {
      unsigned char stop = 0;
      (void)!::write(g_signal_pipe[1], &stop, 1);
      watcher_.join();
    }
    if (g_signal_pipe[0] >= 0) ::close(g_signal_pipe[0]);
    if (g_signal_pipe[1] >= 0) ::close(g_signal_pipe[1]);
    g_signal_pipe[0] = g_signal_pipe[1] = -1;
  }

 private:
  static constexpr int kSignals[2] = {SIGINT, SIGTERM};

  void Watch() {
    unsigned char signo = 0;
    while (::read(g_signal_pipe[0], &signo, 1) < 0 && errno == EINTR) {
    }
    if (signo == 0) return;  // Shutdown
    if (lineage_) lineage_->Flush(2000);  // what was acknowledged stays
    std::error_code ignore;
    fs::remove_all(session_dir_, ignore);
    fs::remove(fs::path("/dev/shm") / fs::path(session_dir_).filename(), ignore);  // a named segment
    ::signal(signo, SIG_DFL);  // die of it, as the sender asked
    ::raise(signo);
  }

  std::string session_dir_;
  storage::LineageLog* lineage_;
  struct sigaction previous_[2] {};
  bool installed_[2] = {false, false};
  std::thread watcher_;
};

}  // namespace

std::unique_ptr<SignalGuard> SignalGuard::Install(std::string session_dir, storage::LineageLog* lineage) {
  return std::make_unique<PosixSignalGuard>(std::move(session_dir), lineage);
}

}  // namespace lumen::internal
