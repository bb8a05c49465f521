#include "node/put_copies.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unordered_set>

#include "lumen/errors.h"
#include "lumen/storage/lineage_log.h"

namespace lumen::internal {

namespace {
Status IoError(const std::string& what, const std::string& path) {
  return {StatusCode::kIOError, what + " " + path + ": " + std::strerror(errno)};
}
}  // namespace

PutCopies::PutCopies(std::string dir, std::shared_ptr<storage::ObjectStore> store, Done done)
    : dir_(std::move(dir)), store_(std::move(store)), done_(std::move(done)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec || ::chmod(dir_.c_str(), 0700) != 0)
    throw Error("lumen::Init: cannot make the directory for durable Put copies " + dir_ + ": " +
                (ec ? ec.message() : std::strerror(errno)));
  thread_ = std::thread([this] { Run(); });
}

PutCopies::~PutCopies() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PutCopies::Copy(const ObjectID& id) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back({Job::kCopy, id, {}});
    ++copies_queued_;
  }
  wake_.notify_one();
}

void PutCopies::Restore(const ObjectID& id) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back({Job::kRestore, id, {}});
  }
  wake_.notify_one();
}

void PutCopies::Remove(const ObjectID& id, std::function<bool()> first) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back({Job::kRemove, id, std::move(first)});
  }
  wake_.notify_one();
}

bool PutCopies::Has(const ObjectID& id) const {
  struct stat st;
  return ::stat(PathOf(id).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool PutCopies::Flush(int64_t timeout_ms) {
  std::unique_lock lock(mu_);
  uint64_t target = copies_queued_;
  bool done = written_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                [&] { return copies_ended_ >= target; });
  return done && last_error_.ok();
}

Status PutCopies::LastError() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

std::string PutCopies::PathOf(const ObjectID& id) const { return dir_ + "/" + id.Hex(); }

Status PutCopies::WriteCopy(const ObjectID& id) {
  storage::ObjectBuffer buf;
  Status s = store_->Get(id, &buf);
  if (!s.ok()) return {s.code(), "the object was not in the store to copy: " + s.message()};
  std::string path = PathOf(id), tmp = path + ".partial";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) s = IoError("cannot create", tmp);
  for (size_t done = 0; s.ok() && done < buf.size;) {
    ssize_t n = ::write(fd, buf.data + done, buf.size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) s = IoError("cannot write", tmp);
    else done += static_cast<size_t>(n);
  }
  (void)store_->Release(id);
  if (fd >= 0 && ::close(fd) != 0 && s.ok()) s = IoError("cannot write", tmp);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = IoError("cannot rename into place", path);
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

Status PutCopies::ReadCopy(const ObjectID& id, uint64_t* size) {
  std::string path = PathOf(id);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open the durable copy", path);
  struct stat st;
  Status s = ::fstat(fd, &st) == 0 ? Status::OK() : IoError("cannot stat", path);
  uint8_t* data = nullptr;
  if (s.ok()) s = store_->Create(id, static_cast<size_t>(st.st_size), /*reconstructable=*/false, &data);
  if (s.code() == StatusCode::kAlreadyExists) s = Status::OK(), data = nullptr;  // back already
  for (size_t done = 0; s.ok() && data && done < static_cast<size_t>(st.st_size);) {
    ssize_t n = ::read(fd, data + done, static_cast<size_t>(st.st_size) - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) s = n == 0 ? Status(StatusCode::kIOError, "the durable copy " + path + " is shorter than it was")
                           : IoError("cannot read", path);
    else done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (data && s.ok()) s = store_->Seal(id);
  else if (data) (void)store_->Abort(id);
  *size = s.ok() ? static_cast<uint64_t>(st.st_size) : 0;
  return s;
}

size_t PutCopies::Sweep(const std::string& dir, const std::function<bool(const ObjectID&)>& keep,
                        uint64_t* bytes) {
  size_t removed = 0;
  *bytes = 0;
  std::error_code ec;
  for (const auto& file : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = file.path().filename().string();
    ObjectID id;
    if (ObjectID::FromHex(name, &id) && keep(id)) continue;  // ".partial" ones do not parse
    uint64_t size = file.file_size(ec);
    if (std::filesystem::remove(file.path(), ec)) ++removed, *bytes += ec ? 0 : size;
  }
  return removed;
}

std::function<bool(const ObjectID&)> PutCopies::NeededBy(storage::LineageLog& log) {
  auto named = std::make_shared<std::unordered_set<ObjectID>>();
  for (const storage::ActorRecord& actor : log.AllActors())
    if (actor.state != storage::ActorState::kDead && !actor.checkpoint.IsNil()) named->insert(actor.checkpoint);
  return [&log, named](const ObjectID& id) {
    // Named: kept even if retention removed its object record (its task's,
    // of a live actor, stays), since its actor is restored from it.
    if (named->count(id)) return true;
    std::optional<storage::ObjectRecord> object = log.GetObject(id);
    if (!object) return false;
    std::optional<storage::TaskRecord> made_by = log.GetTask(object->created_by);
    return !made_by || made_by->actor.IsNil() || made_by->actor_creation;  // else: a state its actor dropped
  };
}

void PutCopies::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, and everything queued is done
    Queued queued = std::move(jobs_.front());
    jobs_.pop_front();
    const Job job = queued.job;
    const ObjectID id = queued.id;
    lock.unlock();
    if (job == Job::kRemove) {
      if (!queued.first || queued.first()) ::unlink(PathOf(id).c_str());
      lock.lock();
      continue;
    }
    uint64_t size = 0;
    Status s = job == Job::kCopy ? WriteCopy(id) : ReadCopy(id, &size);
    done_(job, id, s, size);
    lock.lock();
    if (job == Job::kCopy) {
      ++copies_ended_;
      if (!s.ok() && last_error_.ok())
        last_error_ = {s.code(), "the durable copy of Put " + id.Hex() + " was not written: " + s.message()};
      written_.notify_all();
    }
  }
}

}  // namespace lumen::internal
