// The lineage log on a disk that fills up: the process lives on, the log says
// it is degraded and refuses what it cannot write, Flush answers instead of
// hanging, and everything acknowledged before the disk filled stays on disk.
//
// The disk is a small tmpfs mounted for the test (needs root; skipped
// otherwise). Growing it afterwards with a remount keeps its files, which
// stands in for "an operator freed space".
#include <sys/mount.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "lumen/storage/lineage_log.h"
#include "temp_dir.h"
#include "test_records.h"

namespace lumen::storage {
namespace {

using testing::FullTask;
using testing::TempDir;

// A tmpfs of `size` mounted on a fresh directory; unmounted when it dies.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& size) {
    if (dir_.path().empty()) return;
    const std::string options = "size=" + size;
    if (mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) == 0) mounted_ = true;
  }
  ~SmallDisk() {
    if (mounted_ && umount(dir_.path().c_str()) != 0) umount2(dir_.path().c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  bool mounted() const { return mounted_; }
  std::string path() const { return dir_.path(); }
  // Grows (or shrinks) the disk in place; its files stay.
  bool Resize(const std::string& size) {
    const std::string options = "size=" + size;
    return mount("tmpfs", dir_.path().c_str(), "tmpfs", MS_REMOUNT, options.c_str()) == 0;
  }

 private:
  TempDir dir_;  // destroyed after the unmount, so it removes an empty directory
  bool mounted_ = false;
};

TEST(LineageLogFullDisk, RefusesAppendsWithoutDyingAndKeepsWhatWasAcknowledged) {
  SmallDisk disk("4m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << std::strerror(errno);
  const std::string dir = disk.path() + "/log";

  uint64_t acknowledged = 0;  // records 0 .. acknowledged-1 were acknowledged (seq = index + 1)
  Status failure;
  {
    std::unique_ptr<LineageLog> log;
    Status s = LineageLog::Open(dir, {}, &log);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ::testing::internal::CaptureStderr();
    // A task record is ~300 bytes; 100k of them are 30 MB, far over the disk.
    constexpr uint64_t kChunk = 500, kMax = 100000;
    for (uint64_t i = 0; i < kMax; i += kChunk) {
      uint64_t last = 0;
      for (uint64_t j = i; j < i + kChunk; ++j) last = log->Append(FullTask(j));
      if (!log->WaitDurable(last, 30000)) break;
      acknowledged = i + kChunk;
    }
    failure = log->LastError();
    ASSERT_FALSE(failure.ok()) << "30 MB of records fit on a 4 MiB disk?";
    EXPECT_GT(acknowledged, 0u) << "nothing was written before the disk filled";
    EXPECT_LT(acknowledged, kMax);
    EXPECT_NE(failure.message().find("space"), std::string::npos) << failure.ToString();

    // RocksDB retries on its own once space seems free; give that time to
    // happen (it used to abort the process about a second in).
    std::this_thread::sleep_for(std::chrono::seconds(3));

    // Degraded, not dead: new appends are refused with the error...
    const uint64_t seq = log->Append(FullTask(kMax + 1));
    EXPECT_FALSE(log->WaitDurable(seq, 5000));
    Status outcome;
    bool called = false;
    log->WhenDurable(seq, [&](const Status& st) {
      outcome = st;
      called = true;
    });
    EXPECT_TRUE(called);
    EXPECT_FALSE(outcome.ok());
    // ...and Flush answers: with no time limit it would hang forever otherwise.
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(log->Flush(-1));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    EXPECT_GE(log->DurableSeq(), acknowledged);

    // Said once on stderr, since most appends are fire-and-forget.
    const std::string err = ::testing::internal::GetCapturedStderr();
    size_t said = 0;
    for (size_t at = err.find("lineage is degraded"); at != std::string::npos;
         at = err.find("lineage is degraded", at + 1)) {
      ++said;
    }
    EXPECT_EQ(said, 1u) << err;
  }  // closing a log on a full disk must not abort either

  ASSERT_TRUE(disk.Resize("64m"));
  std::unique_ptr<LineageLog> log;
  Status s = LineageLog::Open(dir, {}, &log);
  ASSERT_TRUE(s.ok()) << s.ToString();
  uint64_t missing = 0;
  for (uint64_t i = 0; i < acknowledged; ++i) {
    auto task = log->GetTask(FullTask(i).id);
    if (!task || task->function != FullTask(i).function) ++missing;
  }
  EXPECT_EQ(missing, 0u) << "of " << acknowledged << " acknowledged records";
  // The log works again on a disk with room.
  EXPECT_TRUE(log->WaitDurable(log->Append(FullTask(0)), 30000)) << log->LastError().ToString();
}

}  // namespace
}  // namespace lumen::storage
