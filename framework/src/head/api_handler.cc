#include "head/api_handler.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>

#include "head/derived_views.h"
#include "head/metrics.h"
#include "head/page_files.h"
#include "head/state_json.h"

namespace lumen::head {

using nlohmann::json;

namespace {

uint64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

// Names and log text come from user code: never let invalid UTF-8 throw.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpAnswer Json(const json& j, int status = 200) { return {status, "application/json", Dump(j)}; }
HttpAnswer Error(int status, const std::string& reason) { return Json({{"error", reason}}, status); }

// Rejects parameters the endpoint does not take, so a typo is not silently ignored.
bool OnlyParams(const QueryParams& params, const std::set<std::string>& allowed, std::string* reason) {
  for (const auto& [key, value] : params) {
    if (allowed.count(key)) continue;
    std::string names;
    for (const std::string& a : allowed) names += (names.empty() ? "" : ", ") + a;
    *reason = "unknown parameter '" + key + "'" + (names.empty() ? "" : "; this endpoint takes: " + names);
    return false;
  }
  for (const std::string& a : allowed) {
    if (a != "filter" && params.count(a) > 1) {
      *reason = "parameter '" + a + "' given more than once";
      return false;
    }
  }
  return true;
}

bool Count(const QueryParams& params, const std::string& name, size_t fallback, size_t max, size_t* out,
           std::string* reason) {
  auto it = params.find(name);
  if (it == params.end()) {
    *out = fallback;
    return true;
  }
  return ParseCount(name, it->second, max, out, reason);
}

template <typename Row>
std::vector<json> Rows(const std::vector<Row>& rows) {
  std::vector<json> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(ToJson(r));
  return out;
}

HttpAnswer List(const std::vector<json>& rows, const json& sample, const QueryParams& params) {
  std::string reason;
  if (!OnlyParams(params, {"filter", "limit", "offset"}, &reason)) return Error(400, reason);
  ListQuery query;
  auto [begin, end] = params.equal_range("filter");
  for (auto it = begin; it != end; ++it) {
    Filter f;
    if (!ParseFilter(it->second, &f, &reason)) return Error(400, reason);
    query.filters.push_back(std::move(f));
  }
  if (!Count(params, "limit", 100, ListQuery::kMaxLimit, &query.limit, &reason) ||
      !Count(params, "offset", 0, SIZE_MAX / 2, &query.offset, &reason)) {
    return Error(400, reason);
  }
  json out;
  if (!ApplyQuery(rows, sample, query, &out, &reason)) return Error(400, reason);
  return Json(out);
}

json Summary(const ClusterSnapshot& s) {
  json tasks = json::object();
  if (!s.counters.tasks_by_state.empty()) {
    tasks = s.counters.tasks_by_state;
  } else {
    for (const TaskState& t : s.tasks) tasks[t.state] = tasks.value(t.state, 0) + 1;
  }
  json actors = json::object();
  for (const ActorState& a : s.actors) actors[a.state] = actors.value(a.state, 0) + 1;
  ResourceMap total, used;
  uint64_t store_used = 0, store_capacity = 0;
  size_t alive = 0, awaited = 0;
  for (const NodeState& n : s.nodes) {  // the cluster's resources are its live nodes'
    if (n.state != "alive") {
      awaited += n.state == "awaited";
      continue;
    }
    ++alive;
    for (const auto& [k, v] : n.resources_total) total[k] += v;
    for (const auto& [k, v] : n.resources_used) used[k] += v;
    store_used += n.store_used_bytes;
    store_capacity += n.store_capacity_bytes;
  }
  return {{"nodes", alive}, {"nodes_awaited", awaited}, {"nodes_dead", s.nodes.size() - alive - awaited},
          {"tasks", tasks}, {"actors", actors}, {"objects", s.objects.size()},
          {"placement_groups", s.placement_groups.size()}, {"resources_total", total},
          {"resources_used", used}, {"store_used_bytes", store_used}, {"store_capacity_bytes", store_capacity}};
}

json Counters(const ClusterCounters& c) {
  return {{"actor_restarts", c.actor_restarts}, {"object_spills", c.object_spills},
          {"spilled_bytes", c.spilled_bytes}, {"object_rebuilds", c.object_rebuilds},
          {"worker_deaths", c.worker_deaths}, {"lineage_appends", c.lineage_appends},
          {"lineage_queue_depth", c.lineage_queue_depth}};
}

json Memory(const ClusterSnapshot& s, size_t limit) {
  json by_where = json::object();
  uint64_t pinned_bytes = 0, total_bytes = 0;
  for (const ObjectState& o : s.objects) {
    json& w = by_where[o.where.empty() ? "unknown" : o.where];
    if (w.is_null()) w = {{"count", 0}, {"bytes", 0}};
    w["count"] = w["count"].get<uint64_t>() + 1;
    w["bytes"] = w["bytes"].get<uint64_t>() + o.size_bytes;
    total_bytes += o.size_bytes;
    if (o.pinned) pinned_bytes += o.size_bytes;
  }
  std::vector<const ObjectState*> largest;
  for (const ObjectState& o : s.objects) largest.push_back(&o);
  std::stable_sort(largest.begin(), largest.end(),
                   [](const ObjectState* a, const ObjectState* b) { return a->size_bytes > b->size_bytes; });
  json objects = json::array();
  for (size_t i = 0; i < largest.size() && i < limit; ++i) objects.push_back(ToJson(*largest[i]));
  json nodes = json::array();
  for (const NodeState& n : s.nodes) {
    if (n.state != "alive") continue;  // its store went with it (or is not known again yet)
    nodes.push_back({{"node_id", n.node_id}, {"store_used_bytes", n.store_used_bytes},
                     {"store_capacity_bytes", n.store_capacity_bytes}, {"store_objects", n.store_objects},
                     {"spilled_bytes", n.spilled_bytes}});
  }
  return {{"nodes", nodes}, {"by_where", by_where}, {"object_count", s.objects.size()},
          {"total_bytes", total_bytes}, {"pinned_bytes", pinned_bytes},
          {"largest", objects}, {"largest_truncated", largest.size() > limit}};
}

bool IsHexId(const std::string& id) {
  return !id.empty() && id.size() <= 64 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The last `tail` bytes of the file at `path` (a path from the source, never from the request).
HttpAnswer LogTail(const WorkerLog& log, size_t tail) {
  std::ifstream in(log.path, std::ios::binary);
  if (!in) return Error(404, "the log of worker " + log.worker + " (" + log.path + ") cannot be read");
  in.seekg(0, std::ios::end);
  uint64_t size = static_cast<uint64_t>(in.tellg());
  uint64_t from = size > tail ? size - tail : 0;
  in.seekg(static_cast<std::streamoff>(from));
  std::string text(size - from, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  json out = ToJson(log);
  out.update({{"size", size}, {"offset", from}, {"truncated", from > 0}, {"text", text}});
  return Json(out);
}

}  // namespace

ApiHandler::ApiHandler(std::shared_ptr<StateSource> source, const DashboardOptions& options)
    : source_(std::move(source)), options_(options) {}

void ApiHandler::SetUrl(std::string url) {
  std::lock_guard lock(mu_);
  url_ = std::move(url);
}

std::shared_ptr<const ClusterSnapshot> ApiHandler::Snapshot() {
  std::lock_guard lock(mu_);
  uint64_t now = NowMs();
  if (cached_ && now - cached_at_ms_ < static_cast<uint64_t>(std::max(options_.snapshot_max_age_ms, 0))) {
    return cached_;
  }
  auto snapshot = std::make_shared<ClusterSnapshot>(source_->Snapshot());
  if (snapshot->taken_ms == 0) snapshot->taken_ms = now;
  // Newest first, so the first page of tasks is what is happening now.
  std::stable_sort(snapshot->tasks.begin(), snapshot->tasks.end(),
                   [](const TaskState& a, const TaskState& b) { return a.submit_ms > b.submit_ms; });
  // The nodes alive first (as the source lists them), then the awaited, then
  // the dead, the latest death first.
  std::stable_sort(snapshot->nodes.begin(), snapshot->nodes.end(), [](const NodeState& a, const NodeState& b) {
    auto rank = [](const NodeState& n) { return n.state == "dead" ? 2 : n.state == "awaited" ? 1 : 0; };
    return rank(a) != rank(b) ? rank(a) < rank(b) : rank(a) == 2 && a.left_ms > b.left_ms;
  });
  cached_ = snapshot;
  cached_at_ms_ = now;
  return cached_;
}

HttpAnswer ApiHandler::Get(const std::string& path, const QueryParams& params) {
  if (const PageFile* file = FindPageFile(path)) {
    return {200, file->content_type, std::string(file->data, file->size)};
  }
  std::string reason;
  auto none = [&] { return OnlyParams(params, {}, &reason); };
  if (path == "/metrics") {
    if (!none()) return Error(400, reason);
    return {200, "text/plain; version=0.0.4; charset=utf-8", PrometheusText(*Snapshot())};
  }
  if (path.rfind("/api/", 0) != 0) return Error(404, "no page or endpoint at '" + path + "'");
  const std::string rest = path.substr(5);
  if (rest == "cluster") {
    if (!none()) return Error(400, reason);
    auto s = Snapshot();
    std::string url;
    {
      std::lock_guard lock(mu_);
      url = url_;
    }
    return Json({{"session", s->session}, {"taken_ms", s->taken_ms}, {"dashboard_url", url},
                 {"nodes", Rows(s->nodes)}, {"summary", Summary(*s)}, {"counters", Counters(s->counters)}});
  }
  if (rest == "nodes") return List(Rows(Snapshot()->nodes), ToJson(NodeState{}), params);
  if (rest == "tasks") return List(Rows(Snapshot()->tasks), ToJson(TaskState{}), params);
  if (rest == "actors") return List(Rows(Snapshot()->actors), ToJson(ActorState{}), params);
  if (rest == "objects") return List(Rows(Snapshot()->objects), ToJson(ObjectState{}), params);
  if (rest == "placement_groups") {
    return List(Rows(Snapshot()->placement_groups), ToJson(PlacementGroupState{}), params);
  }
  if (rest == "logs") return List(Rows(Snapshot()->logs), ToJson(WorkerLog{}), params);
  if (rest == "memory") {
    size_t limit = 0;
    if (!OnlyParams(params, {"limit"}, &reason) || !Count(params, "limit", 100, ListQuery::kMaxLimit, &limit, &reason)) {
      return Error(400, reason);
    }
    return Json(Memory(*Snapshot(), limit));
  }
  if (rest == "timeline") {
    size_t limit = 0;
    if (!OnlyParams(params, {"limit"}, &reason) || !Count(params, "limit", 1000, 100000, &limit, &reason)) {
      return Error(400, reason);
    }
    return Json(ChromeTrace(*Snapshot(), limit, NowMs()));
  }
  if (rest.rfind("objects/", 0) == 0 && rest.size() > 16 && rest.ends_with("/lineage")) {
    std::string id = rest.substr(8, rest.size() - 8 - 8);
    if (!IsHexId(id)) return Error(400, "'" + id + "' is not an object id (lowercase hex)");
    size_t depth = 0;
    if (!OnlyParams(params, {"depth"}, &reason) || !Count(params, "depth", 8, 64, &depth, &reason)) {
      return Error(400, reason);
    }
    auto s = Snapshot();
    LineageBounds bounds;
    bounds.max_depth = static_cast<int>(depth);
    std::optional<json> graph;
    {
      std::lock_guard lock(mu_);  // one call into the source at a time
      graph = LineageGraph(*source_, *s, id, bounds);
    }
    if (!graph) return Error(404, "object " + id + " is not known to this cluster or its lineage log");
    return Json(*graph);
  }
  if (rest.rfind("logs/", 0) == 0) {
    std::string key = rest.substr(5);
    size_t tail = 0;
    if (!OnlyParams(params, {"tail_bytes"}, &reason) ||
        !Count(params, "tail_bytes", 64 << 10, options_.max_log_bytes, &tail, &reason)) {
      return Error(400, reason);
    }
    auto s = Snapshot();
    for (const WorkerLog& log : s->logs) {
      if (log.worker == key || (log.pid && std::to_string(log.pid) == key) ||
          (!log.actor_id.empty() && log.actor_id == key)) {
        return LogTail(log, tail);
      }
    }
    // An actor's name finds the log of the worker that hosts it.
    for (const ActorState& a : s->actors) {
      if (a.name != key) continue;
      for (const WorkerLog& log : s->logs) {
        if (log.actor_id == a.actor_id) return LogTail(log, tail);
      }
    }
    return Error(404, "no worker, pid or actor '" + key + "' has a log (see /api/logs)");
  }
  return Error(404, "no endpoint '" + path + "' (see /api/cluster, /api/tasks, ...)");
}

}  // namespace lumen::head
