#include "head/metrics.h"

#include <cstdio>
#include <map>
#include <vector>

namespace lumen::head {

namespace {

// Label values escape backslash, double quote and newline (the format's rule).
std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

class Writer {
 public:
  void Family(const std::string& name, const char* type, const char* help) {
    out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void Sample(const std::string& name, double value, const std::map<std::string, std::string>& labels = {}) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        out_ += (first ? "" : ",") + k + "=\"" + Escape(v) + "\"";
        first = false;
      }
      out_ += '}';
    }
    out_ += " " + Number(value) + "\n";
  }
  void One(const std::string& name, const char* type, const char* help, double value) {
    Family(name, type, help);
    Sample(name, value);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string PrometheusText(const ClusterSnapshot& s) {
  Writer w;
  // Tasks by state: the source's session totals, or what the snapshot holds.
  std::map<std::string, uint64_t> tasks = s.counters.tasks_by_state;
  if (tasks.empty()) {
    for (const TaskState& t : s.tasks) ++tasks[t.state];
  }
  for (const char* state : {"pending", "running", "finished", "failed"}) tasks.try_emplace(state, 0);
  w.Family("lumen_tasks", "gauge", "Tasks by state.");
  for (const auto& [state, n] : tasks) w.Sample("lumen_tasks", static_cast<double>(n), {{"state", state}});

  std::map<std::string, uint64_t> actors;
  for (const char* state : {"pending", "alive", "restarting", "dead"}) actors[state] = 0;
  for (const ActorState& a : s.actors) ++actors[a.state];
  w.Family("lumen_actors", "gauge", "Actors by state.");
  for (const auto& [state, n] : actors) w.Sample("lumen_actors", static_cast<double>(n), {{"state", state}});
  w.One("lumen_actor_restarts_total", "counter", "Actor restarts since the session began.",
        static_cast<double>(s.counters.actor_restarts));

  w.Family("lumen_nodes", "gauge", "Nodes by state.");
  std::map<std::string, uint64_t> nodes{{"alive", 0}, {"awaited", 0}, {"dead", 0}};
  for (const NodeState& n : s.nodes) ++nodes[n.state];
  for (const auto& [state, n] : nodes) w.Sample("lumen_nodes", static_cast<double>(n), {{"state", state}});
  // Per-node series of the live nodes only: a dead or awaited node's name may be alive again.
  std::vector<NodeState> live;
  for (const NodeState& n : s.nodes)
    if (n.state == "alive") live.push_back(n);

  w.Family("lumen_store_objects", "gauge", "Objects in each node's shared-memory store.");
  for (const NodeState& n : live) {
    w.Sample("lumen_store_objects", static_cast<double>(n.store_objects), {{"node", n.node_id}});
  }
  w.Family("lumen_store_used_bytes", "gauge", "Bytes in use in each node's store.");
  for (const NodeState& n : live) {
    w.Sample("lumen_store_used_bytes", static_cast<double>(n.store_used_bytes), {{"node", n.node_id}});
  }
  w.Family("lumen_store_capacity_bytes", "gauge", "Size of each node's store.");
  for (const NodeState& n : live) {
    w.Sample("lumen_store_capacity_bytes", static_cast<double>(n.store_capacity_bytes), {{"node", n.node_id}});
  }
  w.Family("lumen_resources_used", "gauge", "Resources held by running work, per node and resource.");
  for (const NodeState& n : live) {
    for (const auto& [name, v] : n.resources_used) w.Sample("lumen_resources_used", v, {{"node", n.node_id}, {"resource", name}});
  }
  w.Family("lumen_resources_total", "gauge", "Resources a node offers, per node and resource.");
  for (const NodeState& n : live) {
    for (const auto& [name, v] : n.resources_total) w.Sample("lumen_resources_total", v, {{"node", n.node_id}, {"resource", name}});
  }

  const ClusterCounters& c = s.counters;
  w.One("lumen_object_spills_total", "counter", "Objects spilled to disk.", static_cast<double>(c.object_spills));
  w.One("lumen_spilled_bytes_total", "counter", "Bytes spilled to disk.", static_cast<double>(c.spilled_bytes));
  w.One("lumen_object_rebuilds_total", "counter", "Objects rebuilt from lineage.", static_cast<double>(c.object_rebuilds));
  w.One("lumen_worker_deaths_total", "counter", "Worker processes that died unasked.", static_cast<double>(c.worker_deaths));
  w.One("lumen_lineage_appends_total", "counter", "Records appended to the lineage log.",
        static_cast<double>(c.lineage_appends));
  w.One("lumen_lineage_queue_depth", "gauge", "Lineage appends not yet durable.",
        static_cast<double>(c.lineage_queue_depth));
  return w.Take();
}

}  // namespace lumen::head
