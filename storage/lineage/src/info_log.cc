#include "info_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <rocksdb/env.h>

#include <sys/time.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace lumen::storage::lineage {

namespace {

class StdioLogger final : public rocksdb::Logger {
 public:
  explicit StdioLogger(std::FILE* file) : file_(file) {}
  ~StdioLogger() override {
    if (file_ != nullptr) std::fclose(file_);
  }

  using rocksdb::Logger::Logv;
  // Errors (ENOSPC above all) are ignored on purpose: see the header.
  void Logv(const char* format, va_list ap) override {
    if (file_ == nullptr) return;
    timeval now;
    gettimeofday(&now, nullptr);
    tm t;
    localtime_r(&now.tv_sec, &t);
    flockfile(file_);  // one line at a time across threads
    std::fprintf(file_, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ", t.tm_year + 1900, t.tm_mon + 1,
                 t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, static_cast<long>(now.tv_usec));
    std::vfprintf(file_, format, ap);
    std::fputc('\n', file_);
    std::fflush(file_);
    funlockfile(file_);
  }

 private:
  std::FILE* const file_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> OpenInfoLog(const std::string& path) {
  // One generation of history, as a crashed run's diagnostics may matter.
  std::rename(path.c_str(), (path + ".old").c_str());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);  // the owner's alone
  return std::make_shared<StdioLogger>(fd < 0 ? nullptr : ::fdopen(fd, "w"));
}

}  // namespace lumen::storage::lineage
