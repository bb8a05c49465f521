#include "node/latest_file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>

#include "runtime/write_all.h"

namespace lumen::internal {

namespace {
std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}
}  // namespace

struct LatestFileWriter::State {
  std::string file;
  std::function<void(const std::string&)> on_error;
  std::mutex mu;  // guards what follows
  std::condition_variable cv;
  std::optional<std::string> pending;  // the latest text given, not yet being written
  uint64_t given = 0;                  // how many texts were given
  uint64_t written = 0;                // the latest of them whose write ended
  std::string error;                   // how that write ended
  bool stopping = false;
};

LatestFileWriter::LatestFileWriter(std::string file, std::function<void(const std::string&)> on_error)
    : state_(std::make_shared<State>()) {
  state_->file = std::move(file);
  state_->on_error = std::move(on_error);
  thread_ = std::thread(Run, state_);
}

LatestFileWriter::~LatestFileWriter() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
  }
  state_->cv.notify_all();
  std::string error = Flush(kFinalWriteBound);
  bool done;
  {
    std::lock_guard lock(state_->mu);
    done = state_->written == state_->given;
  }
  if (done) {
    thread_.join();
    return;
  }
  std::fprintf(stderr, "lumen: %s may not hold the latest state: %s\n", state_->file.c_str(), error.c_str());
  thread_.detach();  // it holds state_ and ends once its write does
}

void LatestFileWriter::Write(std::string text) {
  {
    std::lock_guard lock(state_->mu);
    state_->pending = std::move(text);
    ++state_->given;
  }
  state_->cv.notify_all();
}

std::string LatestFileWriter::Flush(std::chrono::milliseconds bound) {
  std::unique_lock lock(state_->mu);
  uint64_t latest = state_->given;
  if (!state_->cv.wait_for(lock, bound, [&] { return state_->written >= latest; }))
    return "its write is not done within " + std::to_string(bound.count()) + " ms";
  return state_->error;
}

void LatestFileWriter::Run(std::shared_ptr<State> s) {
  std::string reported;  // the error last told on_error, "" for none
  std::unique_lock lock(s->mu);
  for (;;) {
    s->cv.wait(lock, [&] { return s->pending || s->stopping; });
    if (!s->pending) return;  // stopping, and all written
    std::string text = std::move(*s->pending);
    s->pending.reset();
    uint64_t number = s->given;
    lock.unlock();
    std::string error = WriteAtomically(s->file, text);
    if (error != reported && s->on_error) s->on_error(error);
    reported = error;
    lock.lock();
    s->written = number;
    s->error = error;
    s->cv.notify_all();
  }
}

std::string LatestFileWriter::WriteAtomically(const std::string& file, const std::string& text) {
  std::string tmp = file + ".partial";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", tmp);
  std::string error;
  if (!WriteAll(fd, text)) error = Errno("cannot write", tmp);
  else if (::fsync(fd) != 0) error = Errno("cannot sync", tmp);
  if (::close(fd) != 0 && error.empty()) error = Errno("cannot write", tmp);
  if (error.empty() && ::rename(tmp.c_str(), file.c_str()) != 0) error = Errno("cannot rename into place", file);
  if (!error.empty()) {
    ::unlink(tmp.c_str());
    return error;
  }
  // The rename itself outlives a crash once the directory is synced.
  std::string dir = std::filesystem::path(file).parent_path().string();
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  return "";
}

}  // namespace lumen::internal
