// A two-worker embedded cluster shared by the tests of one suite, and what
// tests of actors' deaths share.
#pragma once

#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "lumen/api.h"

class ClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    lumen::Config config;
    config.num_cpus = 2;
    lumen::Init(config);
  }
  static void TearDownTestSuite() { lumen::Shutdown(); }
};

// A driver's cluster on a storage dir for one scope (one CPU, no
// dashboard), shut down even when an assertion returns early.
class StorageDriver {
 public:
  StorageDriver(const std::string& storage_dir, const std::string& ns) {
    lumen::Config config;
    config.num_cpus = 1;
    config.storage_dir = storage_dir;
    config.ns = ns;
    config.include_dashboard = false;
    lumen::Init(config);
  }
  ~StorageDriver() { lumen::Shutdown(); }
  StorageDriver(const StorageDriver&) = delete;
  StorageDriver& operator=(const StorageDriver&) = delete;
};

// SIGKILLs `pid` and waits (bounded) until the node has seen the death.
inline void KillAndAwaitDeath(int pid) {
  uint64_t deaths = lumen::GetClusterInfo().worker_deaths_seen_by_caf;
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  for (int i = 0; i < 1000 && lumen::GetClusterInfo().worker_deaths_seen_by_caf == deaths; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}
