// What every lesson uses to show what happens: timings, section headers, and
// self-checks (a lesson that sees a broken promise prints it and exits 1).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

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

}  // namespace lesson
