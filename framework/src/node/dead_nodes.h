// The nodes that left the head's cluster: when and why each left, the last
// `capacity` of them (the oldest deaths go first), for the dashboard and
// `lumen status`.
//
// With a file (in the head's storage dir) the list is kept there as well,
// with the cluster's live members, rewritten whole at each change of
// membership (latest_file_writer.h: atomically, off the caller's thread, so
// the node manager's lock never waits for the disk; the file holds the
// latest state shortly after each change, and before the head exits
// cleanly). A head restarted on that dir still lists the nodes that died
// before, marked `earlier_run`; and it waits `rejoin_wait` for the members
// of the earlier run (those alive when that head went) to register again:
// one that has not by then will not (protocol/rejoin.h), and is listed as
// dead too. Membership changes are rare, so writing the whole file (at most
// `capacity` short entries, and the members) each time is cheap.
//
// A member is known again by its name and its daemon's instance (the random
// id its daemon presents at each registration, cli/head_registration.h),
// never by its name alone: another daemon under an awaited member's name (a
// stranger, or that node's daemon restarted, which keeps nothing of the one
// before) is a new node, and the member stays awaited, then dead.
//
// Not thread-safe: the node manager calls it under its lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "node/latest_file_writer.h"

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
    std::string instance{};    // its daemon's (RegisterNodeMsg); "" if not known
  };
  // What a registration is to the earlier run's members awaited.
  enum class Rejoined {
    kNew,       // none of them has its name
    kBack,      // that member, back: awaited no more
    kNamesake,  // another daemon under an awaited member's name: a new node; the member stays awaited
  };
  static constexpr size_t kCapacity = 100;
  static constexpr const char* kNotBack = "did not register again after the head restarted";

  // `file`: where the list is kept, "" for memory only. What an earlier
  // run kept there is read now (marked earlier_run); a file that cannot be
  // read is reported by load_error() and replaced at the next change.
  explicit DeadNodes(std::string file = "", size_t capacity = kCapacity,
                     std::chrono::milliseconds rejoin_wait = std::chrono::minutes(1));
  DeadNodes(const DeadNodes&) = delete;
  DeadNodes& operator=(const DeadNodes&) = delete;

  // `member` (name, address, resources, joined_ms, peer, instance)
  // registered: a member of this run, and no longer awaited if it is one of
  // the earlier run's back (IsBack).
  Rejoined Joined(Node member);
  // Whether `registered` is the earlier run's `member` back: the same name
  // and the same instance. A member the file names without an instance
  // (written before heads recorded them) is known by its name alone.
  static bool IsBack(const Node& member, const Node& registered);
  // Lists `node` as the latest death (no longer a member), drops the oldest
  // beyond the capacity.
  void Add(Node node);
  // Once rejoin_wait has passed since this started: lists the earlier run's
  // members that did not register again as dead (kNotBack, left at `now_ms`).
  // Returns their names; cheap when there are none.
  std::vector<std::string> DeclareAbsent(uint64_t now_ms);
  // The cluster stops on purpose, this run's nodes with it: none of them is
  // a member to wait for after a restart. (The earlier run's members still
  // awaited stay so: they did not come back.)
  void ClusterStopped();
  // Waits (up to `bound`) for the file to hold the latest state; "" once
  // it does, else why not.
  std::string Flush(std::chrono::milliseconds bound = LatestFileWriter::kFinalWriteBound);

  // Oldest death first.
  const std::deque<Node>& All() const { return nodes_; }
  // The earlier run's members not registered again (yet).
  const std::vector<Node>& Awaited() const { return awaited_; }
  // When DeclareAbsent lists those still awaited as dead.
  std::chrono::steady_clock::time_point rejoin_deadline() const { return rejoin_deadline_; }
  // The name of this run's peer `peer` if it is still listed, else "".
  std::string NameOf(int peer) const;
  // Why the earlier run's file could not be read; "" if it was, or there was none.
  const std::string& load_error() const { return load_error_; }

 private:
  std::string Load();
  void Save();

  std::string file_;
  size_t capacity_;
  std::chrono::steady_clock::time_point rejoin_deadline_;
  std::deque<Node> nodes_;
  std::map<int, Node> members_;  // this run's, by peer id
  std::vector<Node> awaited_;
  std::string load_error_;
  std::unique_ptr<LatestFileWriter> writer_;  // with a file
};

}  // namespace lumen::internal
