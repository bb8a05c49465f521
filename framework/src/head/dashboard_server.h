// The dashboard: the page (built into the binary), its read-only JSON API and
// /metrics, served over HTTP from a StateSource.
//
//   auto server = DashboardServer::Start(source, options, &error);
//   server->url();   // "http://127.0.0.1:8265", or the port it fell back to
//
// Binding: options.host (127.0.0.1 unless told otherwise), port options.port;
// if that port is taken, the next ones up to options.port_tries in all; port
// 0 takes any free port. Never shares a port with another listener (no
// SO_REUSEPORT). Every request is bounded: a GET only (others get 405), a
// small body, read and write timeouts, a few handler threads; a malformed
// request gets a 4xx with {"error": reason}.
//
// If options.session_dir is set, the url is written to
// <session_dir>/dashboard.url (what `lumen` looks for) and removed by Stop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "head/cluster_state.h"

namespace lumen::head {

struct DashboardOptions {
  std::string host = "127.0.0.1";
  int port = 8265;
  int port_tries = 16;            // 8265, 8266, ... 8280
  std::string session_dir;        // where dashboard.url goes; empty: nowhere
  bool announce = false;          // print "lumen: dashboard at URL" on stderr
  int snapshot_max_age_ms = 200;  // a snapshot serves requests this long (0: one per request)
  int read_timeout_ms = 2000;
  int write_timeout_ms = 5000;
  int handler_threads = 4;
  size_t max_log_bytes = 1 << 20;  // the most of a log one request returns
};

class DashboardServer {
 public:
  // Binds and starts serving, or returns nullptr with `error` saying why.
  static std::unique_ptr<DashboardServer> Start(std::shared_ptr<StateSource> source,
                                                const DashboardOptions& options, std::string* error);
  ~DashboardServer();  // Stop()
  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;

  int port() const;
  std::string url() const;  // http://HOST:PORT (127.0.0.1 when bound to every address)
  // Stops accepting, waits for requests in flight, removes the url file. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit DashboardServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The file a dashboard writes its url to, in a session dir.
inline constexpr const char* kDashboardUrlFile = "dashboard.url";

}  // namespace lumen::head
