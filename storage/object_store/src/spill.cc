#include "spill.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace lumen::storage {

namespace {
Status IOError(const std::string& what, const std::string& path, int err) {
  return {StatusCode::kIOError, what + " '" + path + "': " + std::strerror(err)};
}
}  // namespace

Status EnsureSpillDir(const std::string& dir, bool* created) {
  std::error_code ec;
  *created = std::filesystem::create_directories(dir, ec);
  if (ec) return {StatusCode::kIOError, "cannot create spill dir '" + dir + "': " + ec.message()};
  if (*created) std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);  // spilled objects: the owner's alone
  return Status::OK();
}

Status WriteSpillFile(const std::string& path, const uint8_t* data, size_t size) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IOError("cannot create spill file", path, errno);
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : ENOSPC;
      close(fd);
      unlink(path.c_str());
      return IOError("cannot write spill file", path, err);
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) != 0) {
    int err = errno;
    unlink(path.c_str());
    return IOError("cannot close spill file", path, err);
  }
  return Status::OK();
}

Status ReadSpillFile(const std::string& path, uint8_t* data, size_t size) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IOError("cannot open spill file", path, errno);
  size_t done = 0;
  while (done < size) {
    ssize_t n = read(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      close(fd);
      return n == 0 ? Status(StatusCode::kIOError, "spill file '" + path + "' is truncated")
                    : IOError("cannot read spill file", path, err);
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  return Status::OK();
}

Status OpenSpillFile(const std::string& path, int* fd) {
  *fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  return *fd >= 0 ? Status::OK() : IOError("cannot open spill file", path, errno);
}

Status CreateSpillFile(const std::string& path, uint64_t size, int* fd) {
  *fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (*fd < 0) return IOError("cannot create spill file", path, errno);
  // Blocks allocated now: a full disk fails here, not as a SIGBUS in the writer.
  int err = size == 0 ? 0 : posix_fallocate(*fd, 0, static_cast<off_t>(size));
  if (err == 0) return Status::OK();
  close(*fd);
  *fd = -1;
  unlink(path.c_str());
  return IOError("cannot size spill file", path, err);
}

void RemoveSpillFile(const std::string& path) { unlink(path.c_str()); }

}  // namespace lumen::storage
