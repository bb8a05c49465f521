// The client side of the dashboard: small HTTP calls (for `lumen` and tests,
// WebDriver's JSON protocol included) and finding a running dashboard.
//
// Where `lumen` looks, in order: --address, $LUMEN_DASHBOARD, then the
// dashboard.url files of live sessions (/tmp/lumen-<pid>-<id>/dashboard.url
// whose <pid> runs), newest first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lumen::head {

struct HttpResult {
  bool ok = false;       // an HTTP answer arrived (any status)
  int status = 0;
  std::string body;
  std::string content_type;
  std::string error;     // why no answer arrived
};

// METHOD base_url+path with `body` (JSON when not empty), bounded by
// timeout_ms for connecting and for each read and write.
HttpResult HttpCall(const std::string& base_url, const std::string& method, const std::string& path,
                    const std::string& body = "", int timeout_ms = 5000);

// "host:port", "http://host:port/" -> "http://host:port"; empty if malformed.
std::string NormalizeDashboardAddress(const std::string& address);

struct RunningDashboard {
  std::string url;
  std::string session_dir;
  int64_t pid = 0;
};

// The dashboards of live sessions under `root`, newest first.
std::vector<RunningDashboard> FindRunningDashboards(const std::string& root = "/tmp");

// The dashboard to talk to: `address` if given, else $LUMEN_DASHBOARD, else
// the newest live session's. False with a reason saying what was tried.
bool ResolveDashboard(const std::string& address, std::string* url, std::string* reason,
                      const std::string& root = "/tmp");

}  // namespace lumen::head
