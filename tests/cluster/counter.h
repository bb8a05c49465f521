// The remote functions both sides of the cluster tests know: the test
// binary and the joining driver it starts (each a job whose workers run its
// own binary, so a call crosses from one job's code to the other's by name).
#pragma once

#include <unistd.h>

#include "lumen/api.h"

class Counter {
 public:
  static Counter* Create(int start) { return new Counter(start); }
  int Add(int x) { return value_ += x; }
  int Pid() { return static_cast<int>(::getpid()); }

 private:
  explicit Counter(int start) : value_(start) {}
  int value_;
};

inline int Square(int x) { return x * x; }
inline int WorkerPid() { return static_cast<int>(::getpid()); }

LUMEN_REMOTE(Square, WorkerPid, Counter::Create, &Counter::Add, &Counter::Pid);
