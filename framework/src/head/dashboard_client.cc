#include "head/dashboard_client.h"

#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace lumen::head {

namespace fs = std::filesystem;

HttpResult HttpCall(const std::string& base_url, const std::string& method, const std::string& path,
                    const std::string& body, int timeout_ms) {
  HttpResult out;
  httplib::Client client(base_url);
  if (!client.is_valid()) {
    out.error = "'" + base_url + "' is not an http address";
    return out;
  }
  auto timeout = std::chrono::milliseconds(timeout_ms);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  if (method != "GET" && method != "POST" && method != "DELETE" && method != "PUT") {
    out.error = "unsupported method " + method;
    return out;
  }
  const char* type = "application/json";
  auto call = [&]() -> httplib::Result {
    if (method == "GET") return client.Get(path);
    if (method == "POST") return client.Post(path, body.empty() ? std::string("{}") : body, type);
    if (method == "PUT") return client.Put(path, body, type);
    return client.Delete(path);
  };
  httplib::Result result = call();
  if (!result) {
    out.error = httplib::to_string(result.error());
    return out;
  }
  out.ok = true;
  out.status = result->status;
  out.body = result->body;
  out.content_type = result->get_header_value("Content-Type");
  return out;
}

std::string NormalizeDashboardAddress(const std::string& address) {
  std::string a = address;
  while (!a.empty() && (a.back() == '/' || a.back() == '\n' || a.back() == ' ')) a.pop_back();
  if (a.empty()) return "";
  if (a.rfind("https://", 0) == 0) return "";  // the dashboard serves plain HTTP on loopback
  if (a.rfind("http://", 0) != 0) a = "http://" + a;
  std::string rest = a.substr(7);
  size_t colon = rest.rfind(':');
  if (rest.empty() || rest.find('/') != std::string::npos) return "";
  if (colon != std::string::npos) {
    std::string port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return "";
  }
  return a;
}

std::vector<RunningDashboard> FindRunningDashboards(const std::string& root) {
  std::vector<std::pair<fs::file_time_type, RunningDashboard>> found;
  std::error_code ec;
  for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.rfind("lumen-", 0) != 0) continue;
    // lumen-<pid>-<random>: a session of that driver, live if the pid is.
    size_t dash = name.find('-', 6);
    std::string pid_text = name.substr(6, dash == std::string::npos ? std::string::npos : dash - 6);
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    int64_t pid = std::strtoll(pid_text.c_str(), nullptr, 10);
    if (pid <= 0 || (kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM)) continue;
    fs::path file = it->path() / "dashboard.url";
    std::error_code file_ec;
    auto mtime = fs::last_write_time(file, file_ec);
    if (file_ec) continue;
    std::ifstream in(file);
    std::string line;
    if (!std::getline(in, line)) continue;
    std::string url = NormalizeDashboardAddress(line);
    if (url.empty()) continue;
    found.push_back({mtime, {url, it->path().string(), pid}});
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<RunningDashboard> out;
  for (auto& [time, d] : found) out.push_back(std::move(d));
  return out;
}

bool ResolveDashboard(const std::string& address, std::string* url, std::string* reason, const std::string& root) {
  auto from = [&](const std::string& given, const std::string& where) {
    *url = NormalizeDashboardAddress(given);
    if (url->empty()) *reason = where + " '" + given + "' is not an address (host:port or http://host:port)";
    return !url->empty();
  };
  if (!address.empty()) return from(address, "--address");
  if (const char* env = std::getenv("LUMEN_DASHBOARD"); env && *env) return from(env, "LUMEN_DASHBOARD");
  std::vector<RunningDashboard> running = FindRunningDashboards(root);
  if (running.empty()) {
    *reason = "no running lumen session found (no " + root +
              "/lumen-<pid>-*/dashboard.url of a live process); start a driver or a head, or give "
              "--address host:port or LUMEN_DASHBOARD";
    return false;
  }
  *url = running.front().url;
  return true;
}

}  // namespace lumen::head
