#include "head/dashboard_server.h"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "head/api_handler.h"

namespace lumen::head {

struct DashboardServer::Impl {
  DashboardOptions options;
  ApiHandler api;
  httplib::Server http;
  std::thread loop;
  int port = 0;
  std::string url;
  std::string url_file;  // empty when none was written
  bool stopped = false;
  std::atomic<bool> loop_ended{false};

  Impl(std::shared_ptr<StateSource> source, const DashboardOptions& o) : options(o), api(std::move(source), o) {}
};

namespace {

// httplib's default sets SO_REUSEPORT, which would let a second dashboard
// bind a port the first one holds; SO_REUSEADDR alone only allows rebinding
// past TIME_WAIT, so "taken" means taken.
void ExclusiveSocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

// The query string split at each '&' and at the FIRST '=' of each part:
// `filter=state=failed` is the filter "state=failed" (httplib's own parse
// splits at every '=' and would drop the value).
QueryParams ParseQuery(const std::string& target) {
  QueryParams params;
  size_t question = target.find('?');
  if (question == std::string::npos) return params;
  std::string query = target.substr(question + 1);
  size_t begin = 0;
  while (begin <= query.size()) {
    size_t end = query.find('&', begin);
    if (end == std::string::npos) end = query.size();
    std::string part = query.substr(begin, end - begin);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string key = part.substr(0, eq);
      std::string value = eq == std::string::npos ? "" : part.substr(eq + 1);
      params.emplace(httplib::detail::decode_url(key, true), httplib::detail::decode_url(value, true));
    }
    begin = end + 1;
  }
  return params;
}

void Answer(ApiHandler& api, const httplib::Request& req, httplib::Response& res) {
  QueryParams params = ParseQuery(req.target);
  HttpAnswer answer = api.Get(req.path, params);
  res.status = answer.status;
  res.set_content(std::move(answer.body), answer.content_type.c_str());
}

void SetRoutes(DashboardServer::Impl& impl) {
  httplib::Server& http = impl.http;
  ApiHandler& api = impl.api;
  // Read-only: every other method gets 405 and what it may do instead.
  auto refuse = [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content(R"({"error":"the dashboard is read-only: only GET and HEAD"})", "application/json");
  };
  http.Get(".*", [&api](const httplib::Request& req, httplib::Response& res) { Answer(api, req, res); });
  http.Post(".*", refuse);
  http.Put(".*", refuse);
  http.Patch(".*", refuse);
  http.Delete(".*", refuse);
  http.Options(".*", refuse);
  // The page loads nothing from elsewhere, and nothing may frame it.
  http.set_default_headers({{"Content-Security-Policy",
                             "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"},
                            {"X-Content-Type-Options", "nosniff"},
                            {"Cache-Control", "no-store"}});
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    res.status = 500;
    res.set_content(nlohmann::json{{"error", what}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
  });
  // httplib's own refusals (413, 414, 400) carry a JSON reason too.
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string reason = "bad request";
    if (res.status == 413) reason = "request body too large";
    if (res.status == 414) reason = "request line too long";
    if (res.status == 404) reason = "not found";
    res.set_content(nlohmann::json{{"error", reason}}.dump(), "application/json");
  });
}

bool WriteUrlFile(const std::string& dir, const std::string& url, std::string* path) {
  std::string final_path = dir + "/" + kDashboardUrlFile;
  std::string tmp = final_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    out << url << "\n";
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  std::filesystem::rename(tmp, final_path, ec);  // readers see the whole line or no file
  if (ec) return false;
  *path = final_path;
  return true;
}

}  // namespace

std::unique_ptr<DashboardServer> DashboardServer::Start(std::shared_ptr<StateSource> source,
                                                        const DashboardOptions& options, std::string* error) {
  if (options.port < 0 || options.port > 65535 || options.port_tries < 1) {
    *error = "dashboard port " + std::to_string(options.port) + " is not a port";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>(std::move(source), options);
  httplib::Server& http = impl->http;
  http.set_socket_options(ExclusiveSocketOptions);
  http.set_payload_max_length(4096);  // GETs carry no body worth reading
  http.set_read_timeout(std::chrono::milliseconds(options.read_timeout_ms));
  http.set_write_timeout(std::chrono::milliseconds(options.write_timeout_ms));
  http.set_keep_alive_timeout(std::max(1, options.read_timeout_ms / 1000));
  http.set_keep_alive_max_count(100);
  int threads = std::max(1, options.handler_threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  SetRoutes(*impl);

  int port = -1;
  if (options.port == 0) {
    port = http.bind_to_any_port(options.host);
  } else {
    for (int i = 0; i < options.port_tries && options.port + i <= 65535; ++i) {
      if (http.bind_to_port(options.host, options.port + i)) {
        port = options.port + i;
        break;
      }
    }
  }
  if (port <= 0) {
    *error = "cannot bind the dashboard on " + options.host + " port " + std::to_string(options.port) +
             (options.port ? " (nor the " + std::to_string(options.port_tries - 1) + " ports after it)" : "");
    return nullptr;
  }
  impl->port = port;
  bool any = options.host == "0.0.0.0" || options.host == "::" || options.host.empty();
  std::string host = any ? "127.0.0.1" : options.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  impl->url = "http://" + host + ":" + std::to_string(port);
  impl->api.SetUrl(impl->url);
  // The socket listens already (bind_to_port listens), so clients that
  // connect before the loop runs wait in the backlog instead of failing.
  impl->loop = std::thread([raw = impl.get()] {
    raw->http.listen_after_bind();
    raw->loop_ended = true;
  });
  // httplib's stop() does nothing until the loop has marked itself running,
  // so Stop() right after Start() would otherwise leave the loop running.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!impl->http.is_running() && !impl->loop_ended && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!impl->http.is_running()) {
    impl->http.stop();
    impl->loop.join();
    *error = "the dashboard's HTTP loop did not start";
    return nullptr;
  }
  if (!options.session_dir.empty() && !WriteUrlFile(options.session_dir, impl->url, &impl->url_file)) {
    std::fprintf(stderr, "lumen: cannot write %s/%s; `lumen` will need --address %s\n",
                 options.session_dir.c_str(), kDashboardUrlFile, impl->url.c_str());
  }
  if (options.announce) {
    std::string note = port != options.port && options.port ? " (port " + std::to_string(options.port) + " was taken)" : "";
    std::fprintf(stderr, "lumen: dashboard at %s%s\n", impl->url.c_str(), note.c_str());
  }
  return std::unique_ptr<DashboardServer>(new DashboardServer(std::move(impl)));
}

DashboardServer::DashboardServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DashboardServer::~DashboardServer() { Stop(); }

int DashboardServer::port() const { return impl_->port; }
std::string DashboardServer::url() const { return impl_->url; }

void DashboardServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (!impl_->url_file.empty()) {
    std::error_code ec;
    std::filesystem::remove(impl_->url_file, ec);
  }
  impl_->http.stop();
  if (impl_->loop.joinable()) impl_->loop.join();
}

}  // namespace lumen::head
