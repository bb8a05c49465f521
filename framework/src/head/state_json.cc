#include "head/state_json.h"

#include <cctype>

namespace lumen::head {

using nlohmann::json;

json ToJson(const NodeState& n) {
  return {{"node_id", n.node_id},
          {"address", n.address},
          {"state", n.state},
          {"is_head", n.is_head},
          {"resources_total", n.resources_total},
          {"resources_used", n.resources_used},
          {"store_used_bytes", n.store_used_bytes},
          {"store_capacity_bytes", n.store_capacity_bytes},
          {"store_objects", n.store_objects},
          {"spilled_bytes", n.spilled_bytes},
          {"workers", n.workers},
          {"running_tasks", n.running_tasks},
          {"joined_ms", n.joined_ms},
          {"left_ms", n.left_ms},
          {"death_cause", n.death_cause},
          {"earlier_run", n.earlier_run},
          {"awaited_until_ms", n.awaited_until_ms}};
}

json ToJson(const TaskState& t) {
  // Durations the page and CLI show: queued (submit to start) and ran (start
  // to end, or to now for a running task: the reader has taken_ms).
  json duration = nullptr;
  if (t.start_ms && t.end_ms >= t.start_ms) duration = t.end_ms - t.start_ms;
  return {{"task_id", t.task_id},
          {"function", t.function},
          {"name", t.name},
          {"state", t.state},
          {"node_id", t.node_id},
          {"worker", t.worker},
          {"worker_pid", t.worker_pid},
          {"attempt", t.attempt},
          {"actor_id", t.actor_id},
          {"submit_ms", t.submit_ms},
          {"start_ms", t.start_ms},
          {"end_ms", t.end_ms},
          {"duration_ms", duration},
          {"error", t.error},
          {"rebuild", t.rebuild}};
}

json ToJson(const ActorState& a) {
  return {{"actor_id", a.actor_id},
          {"class_name", a.class_name},
          {"name", a.name},
          {"namespace", a.ray_namespace},
          {"state", a.state},
          {"restarts", a.restarts},
          {"max_restarts", a.max_restarts},
          {"death_cause", a.death_cause},
          {"node_id", a.node_id},
          {"pid", a.pid},
          {"worker", a.worker}};
}

json ToJson(const ObjectState& o) {
  return {{"object_id", o.object_id},
          {"size_bytes", o.size_bytes},
          {"where", o.where},
          {"node_id", o.node_id},
          {"pinned", o.pinned},
          {"state", o.state},
          {"rebuilt", o.rebuilt},
          {"ref_count", o.ref_count},
          {"ref_holders", o.ref_holders},
          {"owner", o.owner},
          {"task_id", o.task_id}};
}

json ToJson(const PlacementGroupState& p) {
  json bundles = json::array();
  for (const PlacementGroupBundle& b : p.bundles) {
    bundles.push_back({{"resources", b.resources}, {"node_id", b.node_id}});
  }
  return {{"placement_group_id", p.placement_group_id},
          {"name", p.name},
          {"strategy", p.strategy},
          {"state", p.state},
          {"bundle_count", p.bundles.size()},
          {"bundles", bundles}};
}

json ToJson(const WorkerLog& l) {
  return {{"worker", l.worker}, {"node_id", l.node_id}, {"pid", l.pid},
          {"actor_id", l.actor_id}, {"path", l.path}, {"alive", l.alive}};
}

namespace {

bool IsFilterable(const json& value) { return !value.is_object() && !value.is_array(); }

std::string ScalarText(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();  // true/false, decimal numbers
}

bool Matches(const json& row, const Filter& f) {
  auto it = row.find(f.key);
  bool equal = it != row.end() && ScalarText(*it) == f.value;
  return equal != f.negate;
}

}  // namespace

bool ParseFilter(const std::string& text, Filter* out, std::string* reason) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    *reason = "filter '" + text + "' is not key=value or key!=value";
    return false;
  }
  Filter f;
  f.negate = text[eq - 1] == '!';
  f.key = text.substr(0, f.negate ? eq - 1 : eq);
  f.value = text.substr(eq + 1);
  if (f.key.empty()) {
    *reason = "filter '" + text + "' has no key";
    return false;
  }
  for (char c : f.key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
      *reason = "filter key '" + f.key + "' is not a field name";
      return false;
    }
  }
  *out = std::move(f);
  return true;
}

bool ParseCount(const std::string& name, const std::string& text, size_t max, size_t* out, std::string* reason) {
  if (text.empty() || text.size() > 12 || text.find_first_not_of("0123456789") != std::string::npos) {
    *reason = name + " '" + text + "' is not a non-negative integer";
    return false;
  }
  size_t value = std::stoull(text);
  if (value > max) {
    *reason = name + " " + text + " is more than " + std::to_string(max);
    return false;
  }
  *out = value;
  return true;
}

bool ApplyQuery(const std::vector<json>& rows, const json& sample, const ListQuery& query, json* out,
                std::string* reason) {
  for (const Filter& f : query.filters) {
    auto it = sample.find(f.key);
    if (it == sample.end() || !IsFilterable(*it)) {
      std::string keys;
      for (auto& [key, value] : sample.items()) {
        if (IsFilterable(value)) keys += (keys.empty() ? "" : ", ") + key;
      }
      *reason = "cannot filter on '" + f.key + "'; fields: " + keys;
      return false;
    }
  }
  // Filter everything first, so the total counts every match, not the page.
  json items = json::array();
  size_t matched = 0;
  for (const json& row : rows) {
    bool keep = true;
    for (const Filter& f : query.filters) keep = keep && Matches(row, f);
    if (!keep) continue;
    if (matched >= query.offset && items.size() < query.limit) items.push_back(row);
    ++matched;
  }
  *out = {{"total", matched},
          {"offset", query.offset},
          {"limit", query.limit},
          {"count", items.size()},
          {"truncated", query.offset + items.size() < matched},
          {"items", std::move(items)}};
  return true;
}

}  // namespace lumen::head
