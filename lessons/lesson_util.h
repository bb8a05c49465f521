// What every lesson uses to show what happens: timings, section headers, and
// self-checks (a lesson that sees a broken promise prints it and exits 1).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "lumen/api.h"

namespace lesson {

using Clock = std::chrono::steady_clock;

inline double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

inline void Section(const char* title) { std::printf("\n== %s\n", title); }

// The lesson checks what it teaches: a broken promise makes it exit 1.
inline int g_failures = 0;
inline void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("  !! UNEXPECTED: %s\n", what.c_str());
    ++g_failures;
  }
}

// Starts the lesson's embedded cluster (lesson 01 shows these steps one by
// one); output goes out line by line so it interleaves with the workers'.
inline void StartCluster(int workers) {
  lumen::Config config;
  config.num_cpus = workers;
  lumen::Init(config);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
}

// The lesson's exit code: 0 if every check held.
inline int Finish(const char* lesson) {
  if (g_failures) {
    std::printf("\nLesson %s FAILED: %d unexpected results\n", lesson, g_failures);
    return 1;
  }
  std::printf("\nLesson %s complete.\n", lesson);
  return 0;
}

}  // namespace lesson
