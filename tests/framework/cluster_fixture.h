// A two-worker embedded cluster shared by the tests of one suite.
#pragma once

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
