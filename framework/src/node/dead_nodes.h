// The nodes that left the head's cluster: when and why each left, the last
// `capacity` of them (the oldest deaths go first), for the dashboard and
// `lumen status`.
//
// With a file (in the head's storage dir) the list is kept there as well,
// rewritten whole on each death (a temporary file, synced, then renamed
// over the old one: a reader sees the old list or the new one, never a
// mix), so a head restarted on that dir still lists the nodes that died
// before; those are marked `earlier_run`. Deaths are rare, so writing the
// whole list (at most `capacity` short entries) each time is cheap.
//
// Not thread-safe: the node manager calls it under its lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>

namespace lumen::internal {

class DeadNodes {
 public:
  struct Node {
    std::string name;
    std::string address;                      // where it served
    std::map<std::string, double> resources;  // what it had
    uint64_t joined_ms = 0;                   // unix ms
    uint64_t left_ms = 0;                     // unix ms
    std::string why;
    int peer = -1;             // its id among this run's peers; -1 for one of an earlier run
    bool earlier_run = false;  // it left before this head (re)started on the file
  };
  static constexpr size_t kCapacity = 100;

  // `file`: where the list is kept, "" for memory only. What an earlier
  // run kept there is read now (marked earlier_run); a file that cannot be
  // read is reported by load_error() and replaced at the next death.
  explicit DeadNodes(std::string file = "", size_t capacity = kCapacity);
  DeadNodes(const DeadNodes&) = delete;
  DeadNodes& operator=(const DeadNodes&) = delete;

  // Lists `node` as the latest death, drops the oldest beyond the capacity
  // and rewrites the file. Returns "" or why the file could not be
  // written (the list in memory holds the node all the same).
  std::string Add(Node node);

  // Oldest death first.
  const std::deque<Node>& All() const { return nodes_; }
  // The name of this run's peer `peer` if it is still listed, else "".
  std::string NameOf(int peer) const;
  // Why the earlier run's file could not be read; "" if it was, or there was none.
  const std::string& load_error() const { return load_error_; }

 private:
  std::string Load();
  std::string Save() const;

  std::string file_;
  size_t capacity_;
  std::deque<Node> nodes_;
  std::string load_error_;
};

}  // namespace lumen::internal
