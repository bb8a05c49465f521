// The seam between a cluster and its dashboard: plain structs describing one
// snapshot of a cluster, and the StateSource that a node (or a test) fills.
// Nothing here knows the node's internals; the dashboard, its JSON API,
// /metrics and the CLI read only these.
//
// Promises the dashboard makes to a StateSource:
//   - Snapshot() and Lineage() may be called from any of the server's threads,
//     one at a time (the server serialises them), a few times a second at
//     most (snapshots are reused for DashboardOptions::snapshot_max_age_ms).
//   - It never writes through the source: the dashboard is read-only.
// What a source promises: each call returns promptly (it should copy, not
// wait on the cluster), and ids are lowercase hex as ObjectRef::ID() prints.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lumen::head {

// Resource name -> amount, e.g. {"CPU", 4}, {"GPU", 1}, {"memory", 1 << 30}.
using ResourceMap = std::map<std::string, double>;

// A dead node stays listed (its resources_total as it was, nothing used);
// one that registers again under its name is a new, alive entry beside it.
// An awaited node is a member of the cluster before the head restarted on
// its storage dir that has not registered again yet: listed as it was
// (nothing used, no store), until it does (then alive) or until
// awaited_until_ms (then dead).
struct NodeState {
  std::string node_id;
  std::string address;           // where it listens, e.g. "127.0.0.1:6380"
  std::string state = "alive";   // alive | awaited | dead
  bool is_head = false;
  ResourceMap resources_total;
  ResourceMap resources_used;
  uint64_t store_used_bytes = 0;
  uint64_t store_capacity_bytes = 0;
  uint64_t store_objects = 0;
  uint64_t spilled_bytes = 0;
  int workers = 0;               // live worker processes on the node (0 once dead)
  int running_tasks = 0;         // tasks running in them now (0 once dead)
  uint64_t joined_ms = 0;        // unix ms when it registered with the head; 0 for the head or unknown
  uint64_t left_ms = 0;          // dead: unix ms when the head saw it go
  std::string death_cause;       // dead: why (its connection closed, or declared dead after a silence)
  bool earlier_run = false;      // dead: it left before the head last (re)started on its storage dir; always if awaited
  uint64_t awaited_until_ms = 0; // awaited: unix ms when it is listed dead unless it registers again
};

struct TaskState {
  std::string task_id;
  std::string function;          // the registered function, or "Class::method" for an actor call
  std::string name;              // SetName, or empty
  std::string state;             // pending | running | finished | failed | cancelled
  std::string node_id;           // where it runs or ran; empty while pending
  int worker = -1;               // the worker's number on its node; -1 before it has one
  int64_t worker_pid = 0;
  int attempt = 0;               // 0 is the first run, 1 the first retry, ...
  std::string actor_id;          // for an actor call or creation; empty for a task
  uint64_t submit_ms = 0;        // unix ms; 0 if unknown
  uint64_t start_ms = 0;         // 0 until it starts
  uint64_t end_ms = 0;           // 0 until it ends
  std::string error;             // why it failed; empty otherwise
  bool rebuild = false;          // re-run to rebuild a lost object
};

struct ActorState {
  std::string actor_id;
  std::string class_name;
  std::string name;              // a named actor's name, or empty
  std::string ray_namespace;     // the namespace of a named actor
  std::string state;             // pending | alive | restarting | dead
  int restarts = 0;
  int max_restarts = 0;
  std::string death_cause;       // why it last died (kept while it restarts and after)
  std::string node_id;
  int64_t pid = 0;
  int worker = -1;
};

struct ObjectState {
  std::string object_id;
  uint64_t size_bytes = 0;
  std::string where;             // inline | store | spilled | lost
  std::string node_id;
  bool pinned = false;
  std::string state = "ready";   // pending | ready | lost | freed
  bool rebuilt = false;          // its bytes came back from lineage at least once
  int ref_count = 0;
  std::vector<std::string> ref_holders;  // who holds references: "driver", "worker 3", a task id
  std::string owner;             // the process that owns its metadata
  std::string task_id;           // the task that made it; empty for a Put
};

struct PlacementGroupBundle {
  ResourceMap resources;
  std::string node_id;           // empty until placed
};

struct PlacementGroupState {
  std::string placement_group_id;
  std::string name;
  std::string strategy;          // PACK | SPREAD | STRICT_PACK | STRICT_SPREAD
  std::string state;             // pending | created | removed
  std::vector<PlacementGroupBundle> bundles;
};

struct WorkerLog {
  std::string worker;            // the key `lumen logs` and /api/logs/<worker> take: "<node>:<number>" or "<number>"
  std::string node_id;
  int64_t pid = 0;
  std::string actor_id;          // the actor it hosts, if any
  std::string path;              // the file holding the worker's stdout and stderr
  bool alive = true;
};

// Counters that outlive the tasks and objects in a snapshot (a snapshot may
// hold only recent tasks), read by /metrics. Totals since the session began.
struct ClusterCounters {
  std::map<std::string, uint64_t> tasks_by_state;  // if empty, counted from Snapshot().tasks
  uint64_t actor_restarts = 0;
  uint64_t object_spills = 0;
  uint64_t spilled_bytes = 0;
  uint64_t object_rebuilds = 0;
  uint64_t worker_deaths = 0;
  uint64_t lineage_appends = 0;
  uint64_t lineage_queue_depth = 0;  // appends not yet durable, now
};

struct ClusterSnapshot {
  std::string session;           // the session's name, e.g. its dir's basename
  uint64_t taken_ms = 0;         // unix ms when it was taken (the server fills it if 0)
  std::vector<NodeState> nodes;
  std::vector<TaskState> tasks;  // recent tasks, any order (the API lists newest first)
  std::vector<ActorState> actors;
  std::vector<ObjectState> objects;
  std::vector<PlacementGroupState> placement_groups;
  std::vector<WorkerLog> logs;
  ClusterCounters counters;
};

// How one object was made: one step of its lineage. The dashboard walks these
// (bounded in depth and size) into the graph it draws, and takes the current
// state of each task and object from the snapshot.
struct LineageStep {
  std::string object_id;
  std::string kind = "task_return";   // task_return | put | unknown
  std::string task_id;                // empty for a put
  std::string function;
  std::string name;
  int attempt = 0;
  std::vector<std::string> arg_object_ids;  // the objects passed by reference, in order
  int inline_args = 0;                // arguments passed by value
  std::string record = "present";     // present | missing | removed_by_retention
};

class StateSource {
 public:
  virtual ~StateSource() = default;
  // The cluster now.
  virtual ClusterSnapshot Snapshot() = 0;
  // How `object_id_hex` was made; nullopt if nothing is known of it.
  virtual std::optional<LineageStep> Lineage(const std::string& object_id_hex) = 0;
};

}  // namespace lumen::head
