#include "node/dead_nodes.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lumen::internal {

namespace {

using nlohmann::json;

// The file's format; a file of another version is not read (and replaced).
// "members" came later in version 1: a file without it has none; and
// their "instance" later still: a member without one is known by its name.
constexpr int kFormatVersion = 1;

json Entry(const DeadNodes::Node& n, bool dead) {
  json e = {{"name", n.name}, {"address", n.address}, {"resources", n.resources}, {"joined_ms", n.joined_ms}};
  if (!n.instance.empty()) e["instance"] = n.instance;
  if (dead) {
    e["left_ms"] = n.left_ms;
    e["why"] = n.why;
  }
  return e;
}

DeadNodes::Node FromEntry(const json& e, bool dead) {
  DeadNodes::Node n;
  n.name = e.at("name").get<std::string>();
  n.address = e.value("address", "");
  n.resources = e.value("resources", std::map<std::string, double>{});
  n.joined_ms = e.value("joined_ms", uint64_t{0});
  n.instance = e.value("instance", "");
  if (dead) {
    n.left_ms = e.at("left_ms").get<uint64_t>();
    n.why = e.value("why", "");
  }
  n.earlier_run = true;
  return n;
}

}  // namespace

DeadNodes::DeadNodes(std::string file, size_t capacity, std::chrono::milliseconds rejoin_wait)
    : file_(std::move(file)), capacity_(capacity), rejoin_deadline_(std::chrono::steady_clock::now() + rejoin_wait) {
  if (file_.empty()) return;
  load_error_ = Load();
  writer_ = std::make_unique<LatestFileWriter>(file_, [file = file_](const std::string& error) {
    if (error.empty()) std::fprintf(stderr, "lumen: %s is written again\n", file.c_str());
    else std::fprintf(stderr, "lumen: a restarted head will not list the cluster's nodes as they are now: %s\n",
                      error.c_str());
  });
}

DeadNodes::Rejoined DeadNodes::Joined(Node member) {
  Rejoined was = Rejoined::kNew;
  for (auto it = awaited_.begin(); it != awaited_.end(); ++it) {
    if (it->name != member.name) continue;
    was = Rejoined::kNamesake;
    if (!IsBack(*it, member)) continue;
    awaited_.erase(it);
    was = Rejoined::kBack;
    break;
  }
  int peer = member.peer;
  members_[peer] = std::move(member);
  Save();
  return was;
}

bool DeadNodes::IsBack(const Node& member, const Node& registered) {
  return member.name == registered.name && (member.instance.empty() || member.instance == registered.instance);
}

void DeadNodes::Add(Node node) {
  members_.erase(node.peer);
  nodes_.push_back(std::move(node));
  while (nodes_.size() > capacity_) nodes_.pop_front();
  Save();
}

std::vector<std::string> DeadNodes::DeclareAbsent(uint64_t now_ms) {
  std::vector<std::string> names;
  if (awaited_.empty() || std::chrono::steady_clock::now() < rejoin_deadline_) return names;
  for (Node& n : awaited_) {
    names.push_back(n.name);
    n.left_ms = now_ms;
    n.why = kNotBack;
    n.peer = -1;
    n.earlier_run = true;  // a member of the run before
    nodes_.push_back(std::move(n));
  }
  awaited_.clear();
  while (nodes_.size() > capacity_) nodes_.pop_front();
  Save();
  return names;
}

void DeadNodes::ClusterStopped() {
  if (members_.empty()) return;  // a head that failed to start keeps the earlier run's awaited
  members_.clear();
  Save();
}

std::string DeadNodes::Flush(std::chrono::milliseconds bound) { return writer_ ? writer_->Flush(bound) : ""; }

std::string DeadNodes::NameOf(int peer) const {
  for (const Node& n : nodes_)
    if (!n.earlier_run && n.peer == peer) return n.name;
  return "";
}

std::string DeadNodes::Load() {
  std::error_code ec;
  if (!std::filesystem::exists(file_, ec)) return "";  // no earlier run kept any here
  std::ifstream in(file_);
  if (!in) return "cannot read " + file_ + ": " + std::strerror(errno);
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("version", 0) != kFormatVersion || !j["dead_nodes"].is_array() ||
      (j.contains("members") && !j["members"].is_array()))
    return file_ + " is not a list of dead nodes (version " + std::to_string(kFormatVersion) + ")";
  try {
    for (const json& e : j["dead_nodes"]) nodes_.push_back(FromEntry(e, /*dead=*/true));
    if (j.contains("members"))
      for (const json& e : j["members"]) awaited_.push_back(FromEntry(e, /*dead=*/false));
  } catch (const json::exception& e) {
    nodes_.clear();
    awaited_.clear();
    return file_ + " holds a malformed entry: " + e.what();
  }
  while (nodes_.size() > capacity_) nodes_.pop_front();
  return "";
}

// The earlier run's members still awaited stay members in the file: a head
// restarted again before they came back waits for them again.
void DeadNodes::Save() {
  if (!writer_) return;
  json dead = json::array();
  for (const Node& n : nodes_) dead.push_back(Entry(n, /*dead=*/true));
  json members = json::array();
  for (const auto& [peer, n] : members_) members.push_back(Entry(n, /*dead=*/false));
  for (const Node& n : awaited_) members.push_back(Entry(n, /*dead=*/false));
  writer_->Write(json{{"version", kFormatVersion}, {"dead_nodes", std::move(dead)}, {"members", std::move(members)}}
                     .dump() +
                 "\n");
}

}  // namespace lumen::internal
