#include "state_commands.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>

#include "head/dashboard_client.h"

namespace lumen::cli {

namespace {

using nlohmann::json;

// Percent-encodes a query value ('=' included, so filters survive any parser).
std::string Encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// GET path from the dashboard; prints why and returns false if it failed.
bool Fetch(const StateCommandOptions& o, const std::string& path, json* out, std::string* raw = nullptr) {
  std::string url, reason;
  if (!head::ResolveDashboard(o.address, &url, &reason)) {
    std::fprintf(stderr, "lumen: %s\n", reason.c_str());
    return false;
  }
  head::HttpResult r = head::HttpCall(url, "GET", path);
  if (!r.ok) {
    std::fprintf(stderr, "lumen: cannot reach the dashboard at %s: %s (is the driver or head still running?)\n",
                 url.c_str(), r.error.c_str());
    return false;
  }
  json body = json::parse(r.body, nullptr, false);
  if (r.status != 200) {
    std::string why = body.is_object() && body.contains("error") ? body["error"].get<std::string>() : r.body;
    std::fprintf(stderr, "lumen: the dashboard refused %s: %s\n", path.c_str(), why.c_str());
    return false;
  }
  if (body.is_discarded()) {
    std::fprintf(stderr, "lumen: %s answered %s with something that is not JSON\n", url.c_str(), path.c_str());
    return false;
  }
  if (raw) *raw = r.body;
  *out = std::move(body);
  return true;
}

std::string Text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>()))) {
    return std::to_string(static_cast<int64_t>(v.get<double>()));  // 4 CPUs, not 4.0
  }
  if (v.is_array()) {
    std::string s;
    for (const json& e : v) s += (s.empty() ? "" : ",") + Text(e);
    return s;
  }
  return v.dump();
}

std::string Bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int i = 0;
  while (v >= 1024 && i < 4) {
    v /= 1024;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, i ? "%.1f %s" : "%.0f %s", v, units[i]);
  return buf;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// When a dead node left, by this machine's clock (its daemons run here):
// "11:05:02 UTC (40 s ago)", and "(40 s ago, before the head restarted)"
// for one the head lists from its earlier run.
std::string LeftAt(uint64_t left_ms, bool earlier_run) {
  int64_t now = NowMs();
  std::time_t seconds = static_cast<std::time_t>(left_ms / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char buf[128];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d UTC (%lld s ago%s)", utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(std::max<int64_t>(0, now - static_cast<int64_t>(left_ms)) / 1000),
                earlier_run ? ", before the head restarted" : "");
  return buf;
}

// When an awaited node (a member before the head restarted, not back yet)
// is listed as dead, by this machine's clock: "listed dead in 12 s unless it
// registers again".
std::string DeadIn(uint64_t awaited_until_ms) {
  int64_t left = std::max<int64_t>(0, static_cast<int64_t>(awaited_until_ms) - NowMs());
  return "listed dead in " + std::to_string((left + 999) / 1000) + " s unless it registers again";
}

// "CPU 1/2, red 0/2": a node's resources, used of total.
std::string UsedOfTotal(const json& used, const json& total) {
  std::string out;
  for (auto& [k, v] : total.items()) out += (out.empty() ? "" : ", ") + k + " " + Text(used.value(k, json(0))) + "/" + Text(v);
  return out;
}

// The nodes as `lumen list nodes` shows them: resources used/total; for a
// dead one when it left (its cause is death_cause), for an awaited one when
// it is listed dead, and for either none of the figures of a live node.
json NodeRows(const json& nodes) {
  json rows = json::array();
  for (json n : nodes) {
    n["resources"] = UsedOfTotal(n["resources_used"], n["resources_total"]);
    std::string state = n.value("state", "");
    n["left"] = state == "dead"      ? LeftAt(n.value("left_ms", uint64_t{0}), n.value("earlier_run", false))
                : state == "awaited" ? DeadIn(n.value("awaited_until_ms", uint64_t{0}))
                                     : "";
    if (state != "alive")
      for (const char* figure : {"store_used_bytes", "store_capacity_bytes", "store_objects", "workers", "running_tasks"})
        n[figure] = "";
    rows.push_back(std::move(n));
  }
  return rows;
}

// Rows as aligned columns; long cells are cut so a table stays readable
// (the last column, often a cause or an error, less).
void PrintTable(const std::vector<std::string>& columns, const json& rows) {
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> width;
  for (const std::string& c : columns) width.push_back(c.size());
  for (const json& row : rows) {
    std::vector<std::string> line;
    for (size_t i = 0; i < columns.size(); ++i) {
      std::string cell = Text(row.value(columns[i], json()));
      size_t max = i + 1 == columns.size() ? 120 : 60;
      if (cell.size() > max) cell = cell.substr(0, max - 3) + "...";
      width[i] = std::max(width[i], cell.size());
      line.push_back(cell);
    }
    cells.push_back(std::move(line));
  }
  auto print = [&](const std::vector<std::string>& line) {
    std::string out;
    for (size_t i = 0; i < line.size(); ++i) {
      out += line[i];
      if (i + 1 < line.size()) out += std::string(width[i] - line[i].size() + 2, ' ');
    }
    std::printf("%s\n", out.c_str());
  };
  std::vector<std::string> header;
  for (const std::string& c : columns) {
    std::string h = c;
    for (char& ch : h) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    header.push_back(h);
  }
  print(header);
  for (const auto& line : cells) print(line);
}

const std::map<std::string, std::pair<std::string, std::vector<std::string>>>& Kinds() {
  static const std::map<std::string, std::pair<std::string, std::vector<std::string>>> kinds = {
      {"tasks", {"tasks", {"task_id", "function", "state", "node_id", "worker", "worker_pid", "attempt",
                           "duration_ms", "error"}}},
      {"actors", {"actors", {"actor_id", "class_name", "name", "state", "restarts", "death_cause", "node_id",
                             "pid"}}},
      {"objects", {"objects", {"object_id", "size_bytes", "where", "pinned", "state", "rebuilt", "ref_count",
                               "task_id"}}},
      {"nodes", {"nodes", {"node_id", "state", "address", "resources", "store_used_bytes", "store_capacity_bytes",
                           "store_objects", "workers", "running_tasks", "left", "death_cause"}}},
      {"placement-groups", {"placement_groups", {"placement_group_id", "name", "strategy", "state",
                                                 "bundle_count"}}},
  };
  return kinds;
}

int Status(const StateCommandOptions& o) {
  json c;
  if (!Fetch(o, "/api/cluster", &c)) return 1;
  if (o.json) {
    std::printf("%s\n", c.dump(2).c_str());
    return 0;
  }
  const json& s = c["summary"];
  auto counts = [](const json& m) {
    std::string out;
    for (auto& [k, v] : m.items()) out += (out.empty() ? "" : ", ") + std::to_string(v.get<int64_t>()) + " " + k;
    return out.empty() ? std::string("none") : out;
  };
  int64_t awaited = s.value("nodes_awaited", int64_t{0});
  std::string nodes = Text(s["nodes"]) + " alive, " + (awaited ? std::to_string(awaited) + " awaited, " : "") +
                      Text(s.value("nodes_dead", json(0))) + " dead";
  std::printf("session    %s\ndashboard  %s\nnodes      %s\n", Text(c["session"]).c_str(),
              Text(c["dashboard_url"]).c_str(), nodes.c_str());
  for (const json& n : c["nodes"]) {  // the head lists the awaited before the dead
    std::string state = n.value("state", "");
    if (state == "awaited")
      std::printf("  awaited  %s, a member before the head restarted: %s\n", Text(n["node_id"]).c_str(),
                  DeadIn(n.value("awaited_until_ms", uint64_t{0})).c_str());
    if (state == "dead")
      std::printf("  dead     %s, left %s: %s\n", Text(n["node_id"]).c_str(),
                  LeftAt(n.value("left_ms", uint64_t{0}), n.value("earlier_run", false)).c_str(),
                  Text(n["death_cause"]).c_str());
  }
  std::printf("resources  %s (used/total, of the live nodes)\n",
              UsedOfTotal(s["resources_used"], s["resources_total"]).c_str());
  std::printf("store      %s of %s\n", Bytes(s["store_used_bytes"].get<uint64_t>()).c_str(),
              Bytes(s["store_capacity_bytes"].get<uint64_t>()).c_str());
  std::printf("tasks      %s\nactors     %s\nobjects    %s\n", counts(s["tasks"]).c_str(), counts(s["actors"]).c_str(),
              Text(s["objects"]).c_str());
  const json& k = c["counters"];
  std::printf("since start: %s worker deaths, %s actor restarts, %s rebuilds, %s spills, %s lineage appends\n",
              Text(k["worker_deaths"]).c_str(), Text(k["actor_restarts"]).c_str(), Text(k["object_rebuilds"]).c_str(),
              Text(k["object_spills"]).c_str(), Text(k["lineage_appends"]).c_str());
  return 0;
}

int List(const StateCommandOptions& o) {
  auto kind = Kinds().find(o.kind);
  if (kind == Kinds().end()) {
    std::fprintf(stderr, "lumen list: '%s' is not one of tasks, actors, objects, nodes, placement-groups\n",
                 o.kind.c_str());
    return 2;
  }
  std::string path = "/api/" + kind->second.first + "?limit=" + std::to_string(o.limit);
  for (const std::string& f : o.filters) path += "&filter=" + Encode(f);
  json page;
  std::string raw;
  if (!Fetch(o, path, &page, &raw)) return 1;
  if (o.json) {
    std::printf("%s\n", page.dump(2).c_str());
    return 0;
  }
  PrintTable(kind->second.second, o.kind == "nodes" ? NodeRows(page["items"]) : page["items"]);
  std::printf("(%s of %s", Text(page["count"]).c_str(), Text(page["total"]).c_str());
  std::printf(page["truncated"].get<bool>() ? "; --limit N for more)\n" : ")\n");
  return 0;
}

int Memory(const StateCommandOptions& o) {
  json m;
  if (!Fetch(o, "/api/memory?limit=" + std::to_string(o.limit), &m)) return 1;
  if (o.json) {
    std::printf("%s\n", m.dump(2).c_str());
    return 0;
  }
  std::printf("%s objects, %s, %s pinned\n", Text(m["object_count"]).c_str(),
              Bytes(m["total_bytes"].get<uint64_t>()).c_str(), Bytes(m["pinned_bytes"].get<uint64_t>()).c_str());
  for (auto& [where, v] : m["by_where"].items()) {
    std::printf("  %-8s %6s objects  %s\n", where.c_str(), Text(v["count"]).c_str(),
                Bytes(v["bytes"].get<uint64_t>()).c_str());
  }
  for (const json& n : m["nodes"]) {
    std::printf("store of %s: %s of %s, %s objects, %s spilled\n", Text(n["node_id"]).c_str(),
                Bytes(n["store_used_bytes"].get<uint64_t>()).c_str(),
                Bytes(n["store_capacity_bytes"].get<uint64_t>()).c_str(), Text(n["store_objects"]).c_str(),
                Bytes(n["spilled_bytes"].get<uint64_t>()).c_str());
  }
  std::printf("\nlargest objects:\n");
  PrintTable({"object_id", "size_bytes", "where", "pinned", "ref_count", "ref_holders", "state", "rebuilt"},
             m["largest"]);
  return 0;
}

int Timeline(const StateCommandOptions& o) {
  json trace;
  std::string raw;
  if (!Fetch(o, "/api/timeline?limit=" + std::to_string(o.limit), &trace, &raw)) return 1;
  std::ofstream out(o.output, std::ios::trunc);
  if (!(out << raw << "\n") || !out.flush()) {
    std::fprintf(stderr, "lumen timeline: cannot write '%s'\n", o.output.c_str());
    return 1;
  }
  size_t tasks = 0;
  for (const json& e : trace["traceEvents"]) tasks += e["ph"] == "X";
  std::printf("wrote %zu tasks to %s (open it in chrome://tracing or https://ui.perfetto.dev)\n", tasks,
              o.output.c_str());
  return 0;
}

int Logs(const StateCommandOptions& o) {
  json j;
  if (o.target.empty()) {
    if (!Fetch(o, "/api/logs?limit=10000", &j)) return 1;
    PrintTable({"worker", "node_id", "pid", "actor_id", "alive", "path"}, j["items"]);
    return 0;
  }
  if (!Fetch(o, "/api/logs/" + Encode(o.target) + "?tail_bytes=" + std::to_string(o.tail_bytes), &j)) return 1;
  if (j["truncated"].get<bool>()) {
    std::fprintf(stderr, "(the last %s of %s; --tail BYTES for more)\n", Bytes(j["size"].get<uint64_t>() - j["offset"].get<uint64_t>()).c_str(),
                 Text(j["path"]).c_str());
  }
  std::fwrite(j["text"].get<std::string>().data(), 1, j["text"].get<std::string>().size(), stdout);
  return 0;
}

void AddAddress(CLI::App* command, StateCommandOptions& o) {
  command->add_option("--address", o.address,
                      "the dashboard, host:port (default: $LUMEN_DASHBOARD, else the newest running session's)")
      ->type_name("HOST:PORT");
}

}  // namespace

StateCommands::StateCommands(CLI::App& app) {
  status_ = app.add_subcommand("status", "Summarise the running cluster: nodes, resources, tasks, actors, store");
  AddAddress(status_, options_);
  status_->add_flag("--json", options_.json, "print /api/cluster's JSON");

  list_ = app.add_subcommand("list", "List tasks, actors, objects, nodes or placement groups");
  list_->add_option("kind", options_.kind, "tasks | actors | objects | nodes | placement-groups")->required();
  list_->add_option("-f,--filter", options_.filters, "only rows whose FIELD equals (or with !=, differs from) VALUE; "
                    "repeat to require all")->type_name("FIELD=VALUE");
  list_->add_option("--limit", options_.limit, "show at most N rows (default 100; the total is always shown)")
      ->type_name("N")->check(CLI::Range(0, 10000));
  list_->add_flag("--json", options_.json, "print the API's JSON page");
  AddAddress(list_, options_);

  memory_ = app.add_subcommand("memory", "Object store use: bytes by where, per node, the largest objects");
  memory_->add_option("--limit", options_.limit, "list the N largest objects (default 100)")->type_name("N")
      ->check(CLI::Range(0, 10000));
  memory_->add_flag("--json", options_.json, "print /api/memory's JSON");
  AddAddress(memory_, options_);

  timeline_ = app.add_subcommand("timeline", "Write recent tasks per worker as a Chrome trace");
  timeline_->add_option("-o,--output", options_.output, "the trace file to write")->required()->type_name("FILE");
  timeline_->add_option("--limit", options_.limit, "the N most recently started tasks (default 1000)")
      ->type_name("N")->check(CLI::Range(1, 100000));
  AddAddress(timeline_, options_);
  timeline_->preparse_callback([this](size_t) { options_.limit = 1000; });

  logs_ = app.add_subcommand("logs", "List worker logs, or print the end of one");
  logs_->add_option("worker", options_.target, "a worker (as `lumen logs` lists it), its pid, or an actor's id or name");
  logs_->add_option("--tail", options_.tail_bytes, "print at most the last BYTES (default 65536)")
      ->type_name("BYTES")->check(CLI::Range(1, 1 << 20));
  AddAddress(logs_, options_);
}

bool StateCommands::IsCommand(const std::string& name) {
  return name == "status" || name == "list" || name == "memory" || name == "timeline" || name == "logs";
}

bool StateCommands::Parsed() const {
  return *status_ || *list_ || *memory_ || *timeline_ || *logs_;
}

int StateCommands::Run() {
  if (*status_) return Status(options_);
  if (*list_) return List(options_);
  if (*memory_) return Memory(options_);
  if (*timeline_) return Timeline(options_);
  return Logs(options_);
}

}  // namespace lumen::cli
