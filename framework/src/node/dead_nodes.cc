#include "node/dead_nodes.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/write_all.h"

namespace lumen::internal {

namespace {

using nlohmann::json;

// The file's format; a file of another version is not read (and replaced).
constexpr int kFormatVersion = 1;

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

DeadNodes::DeadNodes(std::string file, size_t capacity) : file_(std::move(file)), capacity_(capacity) {
  if (!file_.empty()) load_error_ = Load();
}

std::string DeadNodes::Add(Node node) {
  nodes_.push_back(std::move(node));
  while (nodes_.size() > capacity_) nodes_.pop_front();
  return Save();
}

std::string DeadNodes::NameOf(int peer) const {
  for (const Node& n : nodes_)
    if (!n.earlier_run && n.peer == peer) return n.name;
  return "";
}

std::string DeadNodes::Load() {
  std::error_code ec;
  if (!std::filesystem::exists(file_, ec)) return "";  // no earlier run kept any here
  std::ifstream in(file_);
  if (!in) return Errno("cannot read", file_);
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("version", 0) != kFormatVersion || !j["dead_nodes"].is_array())
    return file_ + " is not a list of dead nodes (version " + std::to_string(kFormatVersion) + ")";
  try {
    for (const json& e : j["dead_nodes"]) {
      Node n;
      n.name = e.at("name").get<std::string>();
      n.address = e.value("address", "");
      n.resources = e.value("resources", std::map<std::string, double>{});
      n.joined_ms = e.value("joined_ms", uint64_t{0});
      n.left_ms = e.at("left_ms").get<uint64_t>();
      n.why = e.value("why", "");
      n.earlier_run = true;
      nodes_.push_back(std::move(n));
    }
  } catch (const json::exception& e) {
    nodes_.clear();
    return file_ + " holds a malformed entry: " + e.what();
  }
  while (nodes_.size() > capacity_) nodes_.pop_front();
  return "";
}

std::string DeadNodes::Save() const {
  if (file_.empty()) return "";
  json list = json::array();
  for (const Node& n : nodes_)
    list.push_back({{"name", n.name},
                    {"address", n.address},
                    {"resources", n.resources},
                    {"joined_ms", n.joined_ms},
                    {"left_ms", n.left_ms},
                    {"why", n.why}});
  std::string text = json{{"version", kFormatVersion}, {"dead_nodes", std::move(list)}}.dump() + "\n";
  std::string tmp = file_ + ".partial";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", tmp);
  std::string error;
  if (!WriteAll(fd, text)) error = Errno("cannot write", tmp);
  else if (::fsync(fd) != 0) error = Errno("cannot sync", tmp);
  if (::close(fd) != 0 && error.empty()) error = Errno("cannot write", tmp);
  if (error.empty() && ::rename(tmp.c_str(), file_.c_str()) != 0) error = Errno("cannot rename into place", file_);
  if (!error.empty()) {
    ::unlink(tmp.c_str());
    return error;
  }
  // The rename itself outlives a crash once the directory is synced.
  std::string dir = std::filesystem::path(file_).parent_path().string();
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  return "";
}

}  // namespace lumen::internal
