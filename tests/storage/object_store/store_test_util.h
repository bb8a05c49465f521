// Helpers shared by the object store tests: unique store names per test, and
// Shell, a store_shell process driven line by line and killed at will.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "lumen/storage/object_store.h"

extern char** environ;

namespace lumen::storage::testing {

// A dead Shell's stdin must fail a write, not kill the test binary.
inline const bool kSigpipeIgnored = (signal(SIGPIPE, SIG_IGN), true);

// Names no other test (or concurrent test binary) uses.
inline StoreConfig MakeConfig(size_t capacity_bytes) {
  static int counter = 0;
  const std::string tag = std::to_string(getpid()) + "-" + std::to_string(counter++);
  StoreConfig config;
  config.label = "lumen-test-" + tag;
  config.socket_path = "/tmp/lumen-test-" + tag + ".sock";
  config.capacity_bytes = capacity_bytes;
  config.spill_dir = (std::filesystem::temp_directory_path() / ("lumen-test-spill-" + tag)).string();
  return config;
}

inline std::unique_ptr<StoreServer> StartServer(const StoreConfig& config) {
  std::unique_ptr<StoreServer> server;
  Status s = StoreServer::Start(config, &server);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return server;
}

inline std::string Hex(const ObjectID& id) { return id.Hex(); }

// `n` bytes from a seeded generator: contents a test can check exactly.
inline std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(n);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  return bytes;
}

// How many entries `dir` holds (0 if it does not exist): spill files.
inline size_t FilesIn(const std::string& dir) {
  if (!std::filesystem::exists(dir)) return 0;
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

// Polls `done` until it holds or `timeout` passes; for conditions another
// process or thread makes true (e.g. the server noticing a death).
inline bool WaitFor(const std::function<bool()>& done,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

inline std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// A store_shell child process. Spawned, not forked: the test process has
// threads (the store server's), and a fork would copy their locks.
class Shell {
 public:
  explicit Shell(const std::vector<std::string>& args) {
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) abort();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    std::vector<std::string> argv_strings = {LUMEN_STORE_SHELL};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) abort();
    posix_spawn_file_actions_destroy(&actions);
    close(to_child[0]);
    close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
  }
  // A client of the store listening on `socket_path`, already connected.
  static std::unique_ptr<Shell> Client(const std::string& socket_path, bool connect = true) {
    auto shell = std::make_unique<Shell>(std::vector<std::string>{socket_path});
    if (connect) {
      EXPECT_EQ(shell->Call("connect"), "ok");
    }
    return shell;
  }
  ~Shell() {
    if (pid_ > 0) Kill();
    close(in_);
    close(out_);
  }
  Shell(const Shell&) = delete;
  Shell& operator=(const Shell&) = delete;

  void Send(const std::string& line) { WriteAll(line + "\n"); }
  void WriteAll(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = write(in_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }
  // The next answer line, or "timeout" / "eof".
  std::string ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "timeout";
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      ssize_t n = read(out_, chunk, sizeof chunk);
      if (n <= 0) return "eof";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  std::string Call(const std::string& line) {
    Send(line);
    return ReadLine();
  }
  // Reads exactly n raw bytes (pingpong mode).
  bool ReadBytes(char* out, size_t n) {
    size_t done = 0;
    while (done < n) {
      ssize_t r = read(out_, out + done, n - done);
      if (r <= 0) return false;
      done += static_cast<size_t>(r);
    }
    return true;
  }
  void Kill() {
    kill(pid_, SIGKILL);
    Wait();
  }
  // Waits for the process to end; returns its wait status.
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  std::string buffer_;
};

// The reply's status code as the number store_shell prints after "err".
inline std::string Err(StatusCode code) { return "err " + std::to_string(static_cast<int>(code)); }
inline bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace lumen::storage::testing
