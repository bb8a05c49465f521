// A driver's session on the machine: private files, and nothing left behind
// when the driver is signalled or killed (each failed before its fix: the
// session dir stayed, mode 0755 under the default umask).
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "lumen/api.h"

namespace {

namespace fs = std::filesystem;

// The helper driver's task, here too: a rebuild re-runs it in this binary's workers.
double SumOfDoubles(std::vector<double> v) { return std::accumulate(v.begin(), v.end(), 0.0); }
LUMEN_REMOTE(SumOfDoubles);

// The helper driver, running; its session dir and worker pids.
struct Driver {
  pid_t pid = -1;
  FILE* out = nullptr;
  int stdin_fd = -1;
  std::string session_dir;
  std::vector<pid_t> workers;
  std::vector<std::string> ids;

  // With a storage dir, the driver also prints the ids it flushed (`ids`).
  static Driver Start(const std::string& storage_dir = "") {
    int out_pipe[2], in_pipe[2];
    EXPECT_EQ(::pipe(out_pipe), 0);
    EXPECT_EQ(::pipe(in_pipe), 0);
    Driver d;
    d.pid = ::fork();
    if (d.pid == 0) {
      ::dup2(out_pipe[1], 1);
      ::dup2(in_pipe[0], 0);
      ::close(out_pipe[0]);
      ::close(in_pipe[1]);
      if (storage_dir.empty()) ::execl(LUMEN_SESSION_DRIVER, LUMEN_SESSION_DRIVER, nullptr);
      else ::execl(LUMEN_SESSION_DRIVER, LUMEN_SESSION_DRIVER, storage_dir.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(in_pipe[0]);
    d.out = ::fdopen(out_pipe[0], "r");
    d.stdin_fd = in_pipe[1];
    char line[4096] = {};
    if (std::fgets(line, sizeof line, d.out)) {
      std::istringstream in(line);
      in >> d.session_dir;
      for (pid_t w; in >> w;) d.workers.push_back(w);
    }
    if (!storage_dir.empty() && std::fgets(line, sizeof line, d.out)) {
      std::istringstream in(line);
      for (std::string id; in >> id;) d.ids.push_back(id);
    }
    return d;
  }
  int Wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::fclose(out);
    ::close(stdin_fd);
    return status;
  }
};

bool GoneWithin(pid_t pid, std::chrono::seconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::kill(pid, 0) != 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(SessionTest, SigtermCleansUpAndTheDriverDiesOfIt) {
  Driver d = Driver::Start();
  ASSERT_FALSE(d.session_dir.empty());
  ASSERT_TRUE(fs::exists(d.session_dir));
  ASSERT_EQ(::kill(d.pid, SIGTERM), 0);
  int status = d.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "status " << status;
  EXPECT_FALSE(fs::exists(d.session_dir));
  EXPECT_FALSE(fs::exists(fs::path("/dev/shm") / fs::path(d.session_dir).filename()));
  for (pid_t w : d.workers) EXPECT_TRUE(GoneWithin(w, std::chrono::seconds(10))) << "worker " << w;
}

TEST(SessionTest, WhatAKilledDriverLeftIsRemovedByTheNextInit) {
  Driver d = Driver::Start();
  ASSERT_FALSE(d.session_dir.empty());
  ASSERT_EQ(::kill(d.pid, SIGKILL), 0);
  d.Wait();
  for (pid_t w : d.workers) EXPECT_TRUE(GoneWithin(w, std::chrono::seconds(10))) << "worker " << w;
  // SIGKILL leaves no chance to clean up: an Init (this one, or a test's
  // running beside it) removes what the dead driver left.
  lumen::Init();
  EXPECT_FALSE(fs::exists(d.session_dir));
  EXPECT_FALSE(fs::exists(fs::path("/dev/shm") / fs::path(d.session_dir).filename()));
  lumen::Shutdown();
}

// Acknowledged means durable: what the driver flushed (a large Put, copied
// behind it to the storage dir, and a task's result) is got back by id by
// the next driver after a SIGKILL, the task re-run over the restored Put.
TEST(SessionTest, WhatAKilledDriverFlushedComesBackById) {
  std::string dir = (fs::temp_directory_path() / ("lumen-killed-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  Driver d = Driver::Start(dir);
  ASSERT_EQ(d.ids.size(), 2u) << "the driver did not report what it flushed";
  ASSERT_EQ(::kill(d.pid, SIGKILL), 0);
  d.Wait();
  for (pid_t w : d.workers) EXPECT_TRUE(GoneWithin(w, std::chrono::seconds(10))) << "worker " << w;
  lumen::Config config;
  config.num_cpus = 1;
  config.storage_dir = dir;
  lumen::Init(config);
  EXPECT_EQ(*lumen::Get(lumen::ObjectRef<double>::FromID(d.ids[1]), 30000), 1.5 * (1 << 18));
  EXPECT_EQ(*lumen::Get(lumen::ObjectRef<std::vector<double>>::FromID(d.ids[0]), 30000),
            std::vector<double>(size_t{1} << 18, 1.5));
  lumen::Shutdown();
  fs::remove_all(dir);
}

}  // namespace
