// Durability with a real process: lineage_writer appends and reports what was
// acknowledged; the test kills it with SIGKILL (or lets its writes fail) and
// checks that every acknowledged record is intact in the reopened log.
// Synchronised on the writer's pipe, never on sleeps.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "lumen/storage/lineage_log.h"
#include "temp_dir.h"
#include "test_records.h"

namespace lumen::storage {
namespace {

using testing::FullActor;
using testing::FullObject;
using testing::FullTask;
using testing::TempDir;

// A lineage_writer child with its stdout on a pipe to us.
class WriterProcess {
 public:
  explicit WriterProcess(std::vector<std::string> args) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    args.insert(args.begin(), LINEAGE_WRITER_PATH);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls until exec: this process has threads.
      dup2(fds[1], STDOUT_FILENO);  // dup2 clears CLOEXEC on the copy
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }
  ~WriterProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
    if (out_ >= 0) close(out_);
  }

  bool started() const { return pid_ > 0 && out_ >= 0; }

  // The next line the writer prints, or nullopt at EOF or after `timeout`.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      ssize_t n = read(out_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  void Kill() { kill(pid_, SIGKILL); }

  // Reaps the child; its wait status.
  int Wait() {
    int status = 0;
    if (pid_ > 0) waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
};

uint64_t AckedCount(const std::string& line) {
  return line.rfind("acked ", 0) == 0 ? std::stoull(line.substr(6)) : 0;
}

// Every record the writer makes for indices [0, acked) is in the log, exactly.
void ExpectIntact(const std::string& dir, uint64_t acked) {
  std::unique_ptr<LineageLog> log;
  Status s = LineageLog::Open(dir, {}, &log);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (uint64_t i = 0; i < acked; ++i) {
    auto task = log->GetTask(testing::TaskIdFor(i));
    ASSERT_TRUE(task) << "acknowledged task " << i << " of " << acked << " lost";
    TaskRecord want = FullTask(i);
    ASSERT_EQ(task->function, want.function);
    ASSERT_EQ(task->args.size(), want.args.size());
    ASSERT_EQ(task->args[0].value, want.args[0].value);
    ASSERT_EQ(task->args[1].ref, want.args[1].ref);
    ASSERT_EQ(task->resources, want.resources);
    ASSERT_EQ(task->submitted_ms, want.submitted_ms);
    auto object = log->GetObject(FullObject(i).id);
    ASSERT_TRUE(object) << "acknowledged object " << i << " lost";
    ASSERT_EQ(object->size, FullObject(i).size);
    ASSERT_EQ(object->node, FullObject(i).node);
    if (i % 10 == 0) {
      auto actor = log->GetActor(testing::ActorIdFor(i));
      ASSERT_TRUE(actor) << "acknowledged actor " << i << " lost";
      ASSERT_EQ(actor->name, FullActor(i).name);
    }
  }
}

TEST(LineageDurability, AcknowledgedRecordsSurviveKill9OfTheWriter) {
  constexpr uint64_t kWanted = 50000;
  TempDir dir;
  uint64_t acked = 0;
  {
    WriterProcess writer({dir.path(), "0"});  // 0: append until killed
    ASSERT_TRUE(writer.started());
    while (acked < kWanted) {
      auto line = writer.ReadLine(std::chrono::seconds(30));
      ASSERT_TRUE(line) << "writer went silent after acking " << acked;
      ASSERT_EQ(line->rfind("acked ", 0), 0u) << *line;
      acked = AckedCount(*line);
    }
    // It is mid-append right now: the next round is queued or being written.
    writer.Kill();
    int status = writer.Wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  ExpectIntact(dir.path(), acked);
}

TEST(LineageDurability, AWriteErrorIsReportedAndWhatWasAckedSurvives) {
  TempDir dir;
  // 2 MiB: RocksDB's files fit when opening, the log's WAL soon does not.
  WriterProcess writer({dir.path(), "0", std::to_string(2 << 20)});
  ASSERT_TRUE(writer.started());
  uint64_t acked = 0;
  std::string error;
  for (;;) {
    auto line = writer.ReadLine(std::chrono::seconds(60));
    ASSERT_TRUE(line) << "writer went silent after acking " << acked;
    if (line->rfind("error ", 0) == 0) {
      error = line->substr(6);
      break;
    }
    acked = AckedCount(*line);
  }
  int status = writer.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
  EXPECT_NE(error.find("lineage log"), std::string::npos) << error;
  EXPECT_GT(acked, 0u);
  ExpectIntact(dir.path(), acked);
}

}  // namespace
}  // namespace lumen::storage
