#include "head/derived_views.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>

#include "head/state_json.h"

namespace lumen::head {

using nlohmann::json;

json ChromeTrace(const ClusterSnapshot& s, size_t limit, uint64_t now_ms) {
  std::vector<const TaskState*> started;
  for (const TaskState& t : s.tasks) {
    if (t.start_ms) started.push_back(&t);
  }
  std::sort(started.begin(), started.end(), [](const TaskState* a, const TaskState* b) {
    return a->start_ms > b->start_ms;
  });
  if (started.size() > limit) started.resize(limit);

  // pid: a node's position (trace viewers want integers); tid: the worker.
  std::map<std::string, int> node_pid;
  for (const NodeState& n : s.nodes) node_pid.emplace(n.node_id, static_cast<int>(node_pid.size()) + 1);
  json events = json::array();
  std::set<std::pair<int, int>> threads;
  for (const TaskState* t : started) {
    auto [it, added] = node_pid.emplace(t->node_id, static_cast<int>(node_pid.size()) + 1);
    int pid = it->second;
    uint64_t end = t->end_ms ? t->end_ms : std::max(now_ms, t->start_ms);
    std::string name = t->name.empty() ? t->function : t->name;
    events.push_back({{"name", name},
                      {"cat", t->actor_id.empty() ? "task" : "actor"},
                      {"ph", "X"},
                      {"ts", t->start_ms * 1000},
                      {"dur", (end - t->start_ms) * 1000},
                      {"pid", pid},
                      {"tid", t->worker},
                      {"args", {{"task_id", t->task_id}, {"state", t->state}, {"attempt", t->attempt},
                                {"worker_pid", t->worker_pid}, {"error", t->error}}}});
    if (threads.emplace(pid, t->worker).second) {
      std::string label = "worker " + std::to_string(t->worker);
      if (t->worker_pid) label += " (pid " + std::to_string(t->worker_pid) + ")";
      events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", pid}, {"tid", t->worker},
                        {"args", {{"name", label}}}});
    }
  }
  for (const auto& [node, pid] : node_pid) {
    events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", pid},
                      {"args", {{"name", "node " + (node.empty() ? std::string("?") : node)}}}});
  }
  return {{"traceEvents", events}, {"displayTimeUnit", "ms"}};
}

std::optional<json> LineageGraph(StateSource& source, const ClusterSnapshot& s, const std::string& root,
                                 const LineageBounds& bounds) {
  std::unordered_map<std::string, const ObjectState*> objects;
  for (const ObjectState& o : s.objects) objects[o.object_id] = &o;
  std::unordered_map<std::string, const TaskState*> tasks;  // the latest attempt of each
  for (const TaskState& t : s.tasks) {
    auto [it, added] = tasks.emplace(t.task_id, &t);
    if (!added && t.attempt > it->second->attempt) it->second = &t;
  }

  json nodes = json::array();
  json edges = json::array();
  std::set<std::string> seen;
  bool truncated = false;
  auto add_object = [&](const std::string& id, int depth, const std::optional<LineageStep>& step) {
    json node = {{"id", id}, {"kind", "object"}, {"depth", depth}};
    if (auto it = objects.find(id); it != objects.end()) {
      node.update(ToJson(*it->second));
    } else {
      node["state"] = "not_in_cluster";  // freed, or from an earlier run: the log still knows it
    }
    if (step) {
      node["made_by"] = step->kind;
      node["record"] = step->record;
    }
    nodes.push_back(std::move(node));
  };

  std::optional<LineageStep> root_step = source.Lineage(root);
  if (!root_step && !objects.count(root)) return std::nullopt;
  // Breadth first, so the depth a node is drawn at is its shortest distance.
  std::deque<std::pair<std::string, int>> queue{{root, 0}};
  std::map<std::string, std::optional<LineageStep>> steps{{root, root_step}};
  seen.insert(root);
  add_object(root, 0, root_step);
  while (!queue.empty()) {
    auto [object_id, depth] = queue.front();
    queue.pop_front();
    const std::optional<LineageStep>& step = steps[object_id];
    if (!step || step->task_id.empty()) continue;  // a put, or unknown: a leaf
    if (depth >= bounds.max_depth) {
      truncated = true;
      continue;
    }
    const std::string task_key = "task:" + step->task_id;
    edges.push_back({{"from", step->task_id}, {"to", object_id}, {"kind", "returns"}});
    if (!seen.insert(task_key).second) continue;  // a task returning several objects: drawn once
    if (nodes.size() >= bounds.max_nodes) {
      truncated = true;
      break;
    }
    json task = {{"id", step->task_id}, {"kind", "task"}, {"depth", depth + 1}, {"function", step->function},
                 {"name", step->name}, {"attempt", step->attempt}, {"inline_args", step->inline_args}};
    if (auto it = tasks.find(step->task_id); it != tasks.end()) {
      task.update(ToJson(*it->second));
    } else {
      task["state"] = "not_in_cluster";
    }
    nodes.push_back(std::move(task));
    for (const std::string& arg : step->arg_object_ids) {
      edges.push_back({{"from", arg}, {"to", step->task_id}, {"kind", "argument"}});
      if (!seen.insert(arg).second) continue;
      if (nodes.size() >= bounds.max_nodes) {
        truncated = true;
        continue;
      }
      steps[arg] = source.Lineage(arg);
      add_object(arg, depth + 1, steps[arg]);
      queue.emplace_back(arg, depth + 1);
    }
  }
  // An edge to a node that the bounds left out would dangle: drop it.
  std::set<std::string> drawn;
  for (const json& n : nodes) drawn.insert(n["id"].get<std::string>());
  json kept = json::array();
  for (json& e : edges) {
    if (drawn.count(e["from"].get<std::string>()) && drawn.count(e["to"].get<std::string>())) kept.push_back(std::move(e));
  }
  return json{{"root", root}, {"nodes", nodes}, {"edges", kept}, {"truncated", truncated},
              {"max_depth", bounds.max_depth}};
}

}  // namespace lumen::head
