// A second driver for the cluster tests: the joining_driver helper
// (helper/joining_driver.cc), started against a head daemon (head_daemon.h).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace lumen::testing {

// The joining driver helper, running: its line, and its stdin to end it.
struct SecondDriver {
  pid_t pid = -1;
  int stdin_fd = -1;
  std::string ns;
  pid_t actor_pid = -1, worker_pid = -1;

  // `env`: more of its environment, "NAME=value" each.
  static SecondDriver Start(const std::string& address, const std::vector<std::string>& env = {}) {
    int out[2], in[2];
    EXPECT_EQ(::pipe(out), 0);
    EXPECT_EQ(::pipe(in), 0);
    SecondDriver d;
    d.pid = ::fork();
    if (d.pid == 0) {
      ::dup2(out[1], 1);
      ::dup2(in[0], 0);
      ::setenv("LUMEN_ADDRESS", address.c_str(), 1);
      for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
      ::execl(LUMEN_JOINING_DRIVER, LUMEN_JOINING_DRIVER, nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(in[0]);
    d.stdin_fd = in[1];
    FILE* f = ::fdopen(out[0], "r");
    char line[512] = {};
    if (std::fgets(line, sizeof line, f)) {
      std::istringstream words(line);
      std::string ready;
      words >> ready >> d.ns >> d.actor_pid >> d.worker_pid;
    }
    std::fclose(f);
    return d;
  }
};

}  // namespace lumen::testing
