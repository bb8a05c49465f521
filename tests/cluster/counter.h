// The remote functions both sides of the cluster tests know: the test
// binary and the joining driver it starts (each a job whose workers run its
// own binary, so a call crosses from one job's code to the other's by name).
#pragma once

#include <unistd.h>

#include <vector>

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
// A worker's parent is its node's daemon: where the task ran.
inline int NodePid() { return static_cast<int>(::getppid()); }
inline int NodePidAfter(int ms) {
  ::usleep(static_cast<useconds_t>(ms) * 1000);
  return NodePid();
}
inline double Sum(std::vector<double> v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}
inline std::vector<double> Halves(int n) { return std::vector<double>(static_cast<size_t>(n), 0.5); }

LUMEN_REMOTE(Square, WorkerPid, NodePid, NodePidAfter, Sum, Halves, Counter::Create, &Counter::Add, &Counter::Pid);
