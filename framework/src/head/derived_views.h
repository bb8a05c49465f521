// Views the server derives from a snapshot rather than list: the timeline of
// recent tasks per worker (Chrome's trace format) and an object's lineage
// graph (the tasks and objects that made it, with their state now).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "head/cluster_state.h"

namespace lumen::head {

// {"traceEvents": [...], "displayTimeUnit": "ms"}: one complete event ("ph":
// "X", microseconds) per started task among the `limit` most recently
// started, pid = node, tid = worker, with "process_name"/"thread_name"
// metadata events; a running task lasts until `now_ms`. Loads in
// chrome://tracing and Perfetto.
nlohmann::json ChromeTrace(const ClusterSnapshot& snapshot, size_t limit, uint64_t now_ms);

struct LineageBounds {
  int max_depth = 8;        // tasks deep from the object asked for
  size_t max_nodes = 200;   // tasks + objects drawn
};

// The graph under `root_object_id`: {"root", "nodes": [{"id", "kind":
// "object"|"task", "depth", ...state}], "edges": [{"from", "to", "kind":
// "returns"|"argument"}], "truncated"}. Edges point from a task to what it
// returned and from an argument to the task that took it. nullopt if neither
// the source nor the snapshot knows the object.
std::optional<nlohmann::json> LineageGraph(StateSource& source, const ClusterSnapshot& snapshot,
                                           const std::string& root_object_id, const LineageBounds& bounds);

}  // namespace lumen::head
