// A StateSource the tests set by hand: the dashboard's tests run against it
// instead of a cluster (the node is wired to the real one separately). Also a
// sample cluster with known counts, and a temp dir that cleans up.
#pragma once

#include "../storage/lineage/temp_dir.h"
#include "head/dashboard_server.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "head/cluster_state.h"

namespace lumen::head::testing {

class FakeStateSource : public StateSource {
 public:
  ClusterSnapshot Snapshot() override {
    ++snapshots;
    std::lock_guard lock(mu_);
    return snapshot_;
  }
  std::optional<LineageStep> Lineage(const std::string& id) override {
    std::lock_guard lock(mu_);
    auto it = lineage_.find(id);
    if (it == lineage_.end()) return std::nullopt;
    return it->second;
  }
  void Set(ClusterSnapshot s) {
    std::lock_guard lock(mu_);
    snapshot_ = std::move(s);
  }
  void SetLineage(const LineageStep& step) {
    std::lock_guard lock(mu_);
    lineage_[step.object_id] = step;
  }
  std::atomic<int> snapshots{0};

 private:
  std::mutex mu_;
  ClusterSnapshot snapshot_;
  std::map<std::string, LineageStep> lineage_;
};

// 40 hex digits: an object id; 32: a task id (ids are opaque to the dashboard).
inline std::string Hex(char c, int n, int size) {
  std::string digits = std::to_string(n);
  return std::string(static_cast<size_t>(size) - digits.size(), c) + digits;
}
inline std::string ObjectId(int n) { return Hex('a', n, 40); }
inline std::string TaskId(int n) { return Hex('b', n, 32); }

// Two nodes; 250 tasks (every 10th failed, every 25th running, the rest
// finished); three actors (one restarting after a kill); 12 objects where
// object i was made by task i from object i-1 (object 0 was a put).
inline ClusterSnapshot SampleCluster() {
  ClusterSnapshot s;
  s.session = "lumen-1-test";
  for (int n = 0; n < 2; ++n) {
    NodeState node;
    node.node_id = "node" + std::to_string(n);
    node.address = "127.0.0.1:" + std::to_string(7000 + n);
    node.is_head = n == 0;
    node.resources_total = {{"CPU", 4}};
    node.resources_used = {{"CPU", static_cast<double>(n + 1)}};
    node.store_used_bytes = 1000 * (n + 1);
    node.store_capacity_bytes = 1 << 20;
    node.store_objects = 6;
    node.workers = 4;
    s.nodes.push_back(node);
  }
  for (int i = 0; i < 250; ++i) {
    TaskState t;
    t.task_id = TaskId(i);
    t.function = i % 2 ? "Plus" : "Square";
    t.state = i % 10 == 0 ? "failed" : i % 25 == 1 ? "running" : "finished";
    t.node_id = "node" + std::to_string(i % 2);
    t.worker = i % 4;
    t.worker_pid = 1000 + i % 4;
    t.submit_ms = 1'700'000'000'000 + static_cast<uint64_t>(i) * 10;
    t.start_ms = t.submit_ms + 2;
    if (t.state != "running") t.end_ms = t.start_ms + 5;
    if (t.state == "failed") t.error = "TaskError: boom " + std::to_string(i);
    s.tasks.push_back(t);
  }
  const char* actor_states[] = {"alive", "restarting", "dead"};
  for (int a = 0; a < 3; ++a) {
    ActorState actor;
    actor.actor_id = Hex('c', a, 32);
    actor.class_name = "Counter";
    actor.name = "counter" + std::to_string(a);
    actor.state = actor_states[a];
    actor.restarts = a;
    actor.max_restarts = 1;
    actor.death_cause = a ? "worker process killed (SIGKILL)" : "";
    actor.node_id = "node0";
    actor.pid = 2000 + a;
    s.actors.push_back(actor);
  }
  for (int i = 0; i < 12; ++i) {
    ObjectState o;
    o.object_id = ObjectId(i);
    o.size_bytes = static_cast<uint64_t>(100 * (i + 1));
    o.where = i % 3 == 0 ? "inline" : i % 3 == 1 ? "store" : "spilled";
    o.node_id = "node0";
    o.pinned = i % 2 == 0;
    o.ref_count = 1;
    o.ref_holders = {"driver"};
    o.task_id = i ? TaskId(i) : "";
    s.objects.push_back(o);
  }
  PlacementGroupState pg;
  pg.placement_group_id = Hex('d', 1, 32);
  pg.name = "pg";
  pg.strategy = "PACK";
  pg.state = "created";
  pg.bundles = {{{{"CPU", 1}}, "node0"}, {{{"CPU", 1}}, "node1"}};
  s.placement_groups.push_back(pg);
  s.counters.actor_restarts = 3;
  s.counters.object_rebuilds = 2;
  s.counters.worker_deaths = 4;
  s.counters.lineage_appends = 900;
  s.counters.lineage_queue_depth = 7;
  return s;
}

// A node that left: as the head lists it (what it had, nothing used, no store).
inline NodeState DeadNode(const std::string& name, uint64_t left_ms, const std::string& cause) {
  NodeState n;
  n.node_id = name;
  n.address = "/tmp/" + name + "/node.sock";
  n.state = "dead";
  n.resources_total = {{"CPU", 2}, {name, 1}};
  n.joined_ms = left_ms - 60'000;
  n.left_ms = left_ms;
  n.death_cause = cause;
  return n;
}

// A member before the head restarted, not back yet: listed dead at `until_ms` unless it registers again.
inline NodeState AwaitedNode(const std::string& name, uint64_t until_ms) {
  NodeState n = DeadNode(name, until_ms, "");
  n.state = "awaited";
  n.left_ms = 0;
  n.earlier_run = true;
  n.awaited_until_ms = until_ms;
  return n;
}

// Object i made by task i from object i-1; object 0 a put.
inline void SampleLineage(FakeStateSource& source, int objects) {
  for (int i = 0; i < objects; ++i) {
    LineageStep step;
    step.object_id = ObjectId(i);
    if (i == 0) {
      step.kind = "put";
    } else {
      step.task_id = TaskId(i);
      step.function = i % 2 ? "Plus" : "Square";
      step.arg_object_ids = {ObjectId(i - 1)};
      step.inline_args = 1;
    }
    source.SetLineage(step);
  }
}

// A fresh directory under $TMPDIR, removed with what it holds.
using TempDir = storage::testing::TempDir;

// A dashboard over `source` on any free port, serving each request afresh.
inline std::unique_ptr<DashboardServer> StartFakeDashboard(std::shared_ptr<StateSource> source, std::string* error) {
  DashboardOptions options;
  options.port = 0;  // any free port: tests run side by side
  options.snapshot_max_age_ms = 0;
  return DashboardServer::Start(std::move(source), options, error);
}

}  // namespace lumen::head::testing
