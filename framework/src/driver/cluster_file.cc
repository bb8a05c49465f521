#include "driver/cluster_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lumen/errors.h"
#include "driver/session.h"

namespace lumen::internal {

namespace fs = std::filesystem;

namespace {

// Writes `text` to `path` with mode 0600, whole or not at all.
void WritePrivateFile(const std::string& path, const std::string& text) {
  std::string tmp = path + ".partial";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw Error("cannot write " + tmp + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) throw Error("cannot write " + path + ": " + std::strerror(errno));
}

std::optional<ClusterFile> ReadClusterFile(const fs::path& session_dir) {
  std::ifstream in(session_dir / "cluster");
  if (!in) return std::nullopt;
  ClusterFile file;
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "address") file.address = value;
    else if (key == "role") file.role = value;
    else if (key == "pid") file.pid = static_cast<pid_t>(std::atol(value.c_str()));
    else if (key == "node_socket") file.node_socket = value;
    else if (key == "store_socket") file.store_socket = value;
    else if (key == "dashboard_url") file.dashboard_url = value;
  }
  file.session_dir = session_dir.string();
  if (file.address.empty() || file.pid <= 0) return std::nullopt;
  return file;
}

// "127.0.0.1:7070" -> {"127.0.0.1", "7070"}; a missing host is "".
std::pair<std::string, std::string> Split(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return {address, ""};
  return {address.substr(0, colon), address.substr(colon + 1)};
}

bool IsLoopback(const std::string& host) { return host.empty() || host == "localhost" || host.rfind("127.", 0) == 0; }

}  // namespace

void WriteClusterFile(const ClusterFile& file) {
  std::ostringstream text;
  text << "address=" << file.address << "\nrole=" << file.role << "\npid=" << file.pid << "\nnode_socket=" << file.node_socket
       << "\nstore_socket=" << file.store_socket << "\ndashboard_url=" << file.dashboard_url << "\n";
  WritePrivateFile(file.session_dir + "/cluster", text.str());
}

std::vector<ClusterFile> ClustersOnThisMachine() {
  std::vector<std::pair<fs::file_time_type, ClusterFile>> found;
  ForEachSessionDir([&](const fs::path& dir) {
    auto file = ReadClusterFile(dir);
    if (!file || !ProcessRunning(file->pid)) return;
    std::error_code time_ec;
    found.emplace_back(fs::last_write_time(dir / "cluster", time_ec), *file);
  });
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ClusterFile> out;
  for (auto& [time, file] : found) out.push_back(std::move(file));
  return out;
}

bool SameAddress(const std::string& a, const std::string& b) {
  auto [host_a, port_a] = Split(a);
  auto [host_b, port_b] = Split(b);
  return a == b || (port_a == port_b && IsLoopback(host_a) && IsLoopback(host_b));
}

std::optional<ClusterFile> FindCluster(const std::string& address) {
  for (ClusterFile& file : ClustersOnThisMachine())
    if (file.role == "head" && SameAddress(file.address, address)) return file;
  return std::nullopt;
}

std::string SecretPath(const std::string& session_dir) { return session_dir + "/cluster.secret"; }

void WriteClusterSecret(const std::string& session_dir, const std::string& secret) {
  WritePrivateFile(SecretPath(session_dir), secret + "\n");
}

std::string ReadClusterSecret(const std::string& session_dir) {
  std::ifstream in(SecretPath(session_dir));
  std::string secret;
  in >> secret;
  return secret;
}

}  // namespace lumen::internal
