// What the dashboard answers to a GET, apart from HTTP: the page's files, the
// JSON API and /metrics. The server (dashboard_server.cc) only moves bytes;
// every rule of the API lives here, so tests can call it directly too.
//
// The API (every answer is JSON unless said otherwise; errors are
// {"error": reason} with a 4xx status):
//   /api/cluster                      session, nodes, summary counts, counters
//   /api/nodes|tasks|actors|objects|placement_groups|logs
//        ?filter=key=value (or key!=value; repeat to AND) &limit=N (default 100,
//        at most 10000) &offset=N: filters apply before paging; the answer is
//        {"total", "offset", "limit", "count", "truncated", "items"}. Tasks are
//        listed newest first.
//   /api/memory?limit=N               store use per node, bytes by where, largest objects
//   /api/objects/<id>/lineage?depth=N the lineage graph (derived_views.h)
//   /api/timeline?limit=N             Chrome trace JSON of the N latest started tasks
//   /api/logs/<worker>?tail_bytes=N   the end of a worker's log (worker, pid or actor id)
//   /metrics                          Prometheus text
//   / /app.js /style.css              the page
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "head/cluster_state.h"
#include "head/dashboard_server.h"

namespace lumen::head {

struct HttpAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

using QueryParams = std::multimap<std::string, std::string>;

class ApiHandler {
 public:
  ApiHandler(std::shared_ptr<StateSource> source, const DashboardOptions& options);
  HttpAnswer Get(const std::string& path, const QueryParams& params);
  // The url the page shows as "served at" (set once the port is known).
  void SetUrl(std::string url);

 private:
  std::shared_ptr<const ClusterSnapshot> Snapshot();  // reused for options_.snapshot_max_age_ms

  std::shared_ptr<StateSource> source_;
  DashboardOptions options_;
  std::mutex mu_;  // serialises calls into the source; guards the cache
  std::shared_ptr<const ClusterSnapshot> cached_;
  uint64_t cached_at_ms_ = 0;
  std::string url_;
};

}  // namespace lumen::head
