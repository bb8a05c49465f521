// The server around the API: binding and port fallback, the url file the CLI
// finds, the snapshot cache, and /metrics in Prometheus' text format.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "fake_state_source.h"
#include "head/dashboard_client.h"
#include "head/dashboard_server.h"

namespace lumen::head {
namespace {

using testing::FakeStateSource;

// A plain listening socket on 127.0.0.1:port (0: any), closed by the destructor.
class PortHolder {
 public:
  explicit PortHolder(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 4) != 0) {
      close(fd_);
      fd_ = -1;
      return;
    }
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~PortHolder() {
    if (fd_ >= 0) close(fd_);
  }
  bool held() const { return fd_ >= 0; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::unique_ptr<DashboardServer> StartOn(std::shared_ptr<StateSource> source, DashboardOptions options) {
  std::string error;
  auto server = DashboardServer::Start(std::move(source), options, &error);
  EXPECT_TRUE(server) << error;
  return server;
}

std::shared_ptr<FakeStateSource> Sample() {
  auto source = std::make_shared<FakeStateSource>();
  source->Set(testing::SampleCluster());
  return source;
}

TEST(DashboardServerTest, WhenThePortIsTakenTheNextFreeOneIsUsedAndReported) {
  // A port held here (a free one: 8265 itself comes and goes with other tests' clusters).
  PortHolder held(0);
  ASSERT_TRUE(held.held());
  DashboardOptions options;
  options.port = held.port();
  auto server = StartOn(Sample(), options);
  ASSERT_TRUE(server);
  EXPECT_GT(server->port(), held.port());
  EXPECT_LT(server->port(), held.port() + options.port_tries);
  EXPECT_EQ(server->url(), "http://127.0.0.1:" + std::to_string(server->port()));
  EXPECT_EQ(HttpCall(server->url(), "GET", "/api/nodes").status, 200);

  // A second dashboard never shares the first one's port (no SO_REUSEPORT).
  options.port = server->port();
  auto second = StartOn(Sample(), options);
  ASSERT_TRUE(second);
  EXPECT_GT(second->port(), server->port());
}

TEST(DashboardServerTest, BoundedTriesThenAClearError) {
  PortHolder a(0);
  ASSERT_TRUE(a.held());
  DashboardOptions options;
  options.port = a.port();
  options.port_tries = 1;
  std::string error;
  EXPECT_EQ(DashboardServer::Start(Sample(), options, &error), nullptr);
  EXPECT_NE(error.find("cannot bind the dashboard on 127.0.0.1 port " + std::to_string(a.port())), std::string::npos)
      << error;
  options.port = 70000;
  EXPECT_EQ(DashboardServer::Start(Sample(), options, &error), nullptr);
  EXPECT_NE(error.find("not a port"), std::string::npos);
  options.port = 0;
  options.host = "256.1.1.1";
  EXPECT_EQ(DashboardServer::Start(Sample(), options, &error), nullptr);
}

TEST(DashboardServerTest, TheUrlFileIsWrittenFoundByLiveSessionAndRemovedOnStop) {
  testing::TempDir root;
  // A live session (this process) and a dead one (a pid that cannot exist).
  std::string live = root.path() + "/lumen-" + std::to_string(getpid()) + "-abc";
  std::string dead = root.path() + "/lumen-999999999-def";
  std::filesystem::create_directory(live);
  std::filesystem::create_directory(dead);
  std::ofstream(dead + "/dashboard.url") << "http://127.0.0.1:1\n";

  DashboardOptions options;
  options.port = 0;
  options.session_dir = live;
  auto server = StartOn(Sample(), options);
  ASSERT_TRUE(server);
  std::ifstream in(live + "/dashboard.url");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, server->url());
  EXPECT_EQ(std::filesystem::status(live + "/dashboard.url").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  std::vector<RunningDashboard> found = FindRunningDashboards(root.path());
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].url, server->url());
  EXPECT_EQ(found[0].pid, getpid());
  std::string url, reason;
  unsetenv("LUMEN_DASHBOARD");
  ASSERT_TRUE(ResolveDashboard("", &url, &reason, root.path())) << reason;
  EXPECT_EQ(url, server->url());
  ASSERT_TRUE(ResolveDashboard("localhost:9", &url, &reason, root.path()));
  EXPECT_EQ(url, "http://localhost:9");
  EXPECT_FALSE(ResolveDashboard("http://a/b", &url, &reason, root.path()));

  server->Stop();
  server->Stop();  // idempotent
  EXPECT_FALSE(std::filesystem::exists(live + "/dashboard.url"));
  EXPECT_FALSE(ResolveDashboard("", &url, &reason, root.path()));
  EXPECT_NE(reason.find("no running lumen session"), std::string::npos) << reason;
}

TEST(DashboardServerTest, SnapshotsAreReusedForTheirMaxAge) {
  auto source = Sample();
  DashboardOptions options;
  options.port = 0;
  options.snapshot_max_age_ms = 60'000;
  auto server = StartOn(source, options);
  ASSERT_TRUE(server);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(HttpCall(server->url(), "GET", "/api/tasks").status, 200);
  EXPECT_EQ(source->snapshots.load(), 1);
  options.snapshot_max_age_ms = 0;
  auto fresh = StartOn(source, options);
  for (int i = 0; i < 3; ++i) HttpCall(fresh->url(), "GET", "/api/tasks");
  EXPECT_EQ(source->snapshots.load(), 4);
}

TEST(DashboardServerTest, MetricsArePrometheusText) {
  DashboardOptions options;
  options.port = 0;
  auto server = StartOn(Sample(), options);
  ASSERT_TRUE(server);
  HttpResult r = HttpCall(server->url(), "GET", "/metrics");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  // Every line is a HELP, a TYPE or a sample `name{labels} value` of a declared family.
  const std::regex sample(R"(^([a-z_]+)(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+$)");
  std::set<std::string> typed;
  std::istringstream lines(r.body);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      EXPECT_TRUE(type == "gauge" || type == "counter") << line;
      EXPECT_TRUE(type != "counter" || name.ends_with("_total")) << line;
      typed.insert(name);
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, sample)) << "not a sample: " << line;
    EXPECT_TRUE(typed.count(m[1])) << "sample before its TYPE: " << line;
  }
  for (const char* expected :
       {"lumen_tasks{state=\"failed\"} 25\n", "lumen_tasks{state=\"running\"} 10\n",
        "lumen_tasks{state=\"finished\"} 215\n", "lumen_tasks{state=\"pending\"} 0\n",
        "lumen_actors{state=\"restarting\"} 1\n", "lumen_actor_restarts_total 3\n",
        "lumen_store_objects{node=\"node1\"} 6\n", "lumen_store_used_bytes{node=\"node1\"} 2000\n",
        "lumen_object_rebuilds_total 2\n", "lumen_worker_deaths_total 4\n", "lumen_lineage_appends_total 900\n",
        "lumen_lineage_queue_depth 7\n", "lumen_object_spills_total 0\n",
        "lumen_resources_used{node=\"node0\",resource=\"CPU\"} 1\n"}) {
    EXPECT_NE(r.body.find(expected), std::string::npos) << expected << " missing from\n" << r.body;
  }
  // The source's session totals win over counting the snapshot's recent tasks.
  ClusterSnapshot s = testing::SampleCluster();
  s.counters.tasks_by_state = {{"finished", 100000}};
  auto source = std::make_shared<FakeStateSource>();
  source->Set(s);
  auto totals = StartOn(source, options);
  std::string body = HttpCall(totals->url(), "GET", "/metrics").body;
  EXPECT_NE(body.find("lumen_tasks{state=\"finished\"} 100000\n"), std::string::npos) << body;
  // Label values are escaped.
  s.nodes[0].node_id = "a\"b\\c";
  source->Set(s);
  auto escaped = StartOn(source, options);
  body = HttpCall(escaped->url(), "GET", "/metrics").body;
  EXPECT_NE(body.find(R"(lumen_store_objects{node="a\"b\\c"} 6)"), std::string::npos) << body;
}

}  // namespace
}  // namespace lumen::head
