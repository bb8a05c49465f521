// The state commands as a user runs them: `lumen ...` in a child process,
// against a dashboard served here over a fake StateSource (the same binary
// talks to a real cluster's dashboard once the node fills a StateSource).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "fake_state_source.h"
#include "head/dashboard_server.h"

namespace lumen::head {
namespace {

struct CliRun {
  int status = -1;
  std::string out;  // stdout and stderr
};

// `env lumen args`, with LUMEN_DASHBOARD unset unless `env` sets it.
CliRun Lumen(const std::string& args, const std::string& env = "") {
  std::string command = "env -u LUMEN_DASHBOARD " + env + " " LUMEN_CLI_PATH " " + args + " 2>&1";
  CliRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return run;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) run.out.append(buf, n);
  int raw = pclose(pipe);
  run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return run;
}

class StateCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = std::make_shared<testing::FakeStateSource>();
    ClusterSnapshot s = testing::SampleCluster();
    log_path_ = logs_.path() + "/worker.log";
    std::ofstream(log_path_) << "line one\nthe actor says hi\n";
    s.logs.push_back({"node0:3", "node0", 2000, s.actors[0].actor_id, log_path_, true});
    source_->Set(s);
    std::string error;
    server_ = testing::StartFakeDashboard(source_, &error);
    ASSERT_TRUE(server_) << error;
    address_ = "--address " + server_->url().substr(7);  // host:port, as a user types it
  }

  std::shared_ptr<testing::FakeStateSource> source_;
  std::unique_ptr<DashboardServer> server_;
  testing::TempDir logs_;
  std::string log_path_;
  std::string address_;
};

TEST_F(StateCliTest, StatusSummarisesTheCluster) {
  CliRun r = Lumen("status " + address_);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("session    lumen-1-test"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("25 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("10 running"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CPU 3/8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 worker deaths"), std::string::npos) << r.out;
}

TEST_F(StateCliTest, StatusAndListNodesShowTheDeadNodesWithTheirCause) {
  ClusterSnapshot s = testing::SampleCluster();
  s.nodes.push_back(testing::DeadNode("red", 1'700'000'001'000, "its connection to the head closed (killed)"));
  source_->Set(s);
  CliRun status = Lumen("status " + address_);
  ASSERT_EQ(status.status, 0) << status.out;
  EXPECT_NE(status.out.find("nodes      2 alive, 1 dead"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("dead     red, left 22:13:21 UTC ("), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("s ago): its connection to the head closed (killed)"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("CPU 3/8 (used/total, of the live nodes)"), std::string::npos) << status.out;

  CliRun list = Lumen("list nodes " + address_);
  ASSERT_EQ(list.status, 0) << list.out;
  EXPECT_NE(list.out.find("DEATH_CAUSE"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("CPU 2/4"), std::string::npos) << list.out;  // node1's used/total
  EXPECT_NE(list.out.find("its connection to the head closed (killed)"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("(3 of 3)"), std::string::npos) << list.out;
  CliRun dead = Lumen("list nodes -f state=dead " + address_);
  EXPECT_NE(dead.out.find("(1 of 1)"), std::string::npos) << dead.out;
  EXPECT_NE(dead.out.find("22:13:21 UTC"), std::string::npos) << dead.out;
}

TEST_F(StateCliTest, StatusAndListNodesShowTheAwaitedNodesWithWhenTheyAreListedDead) {
  ClusterSnapshot s = testing::SampleCluster();
  uint64_t now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch()).count());
  s.nodes.push_back(testing::AwaitedNode("blue", now + 42'000));
  source_->Set(s);
  CliRun status = Lumen("status " + address_);
  ASSERT_EQ(status.status, 0) << status.out;
  EXPECT_NE(status.out.find("nodes      2 alive, 1 awaited, 0 dead"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("awaited  blue, a member before the head restarted: listed dead in 4"), std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find(" s unless it registers again"), std::string::npos) << status.out;

  CliRun awaited = Lumen("list nodes -f state=awaited " + address_);
  ASSERT_EQ(awaited.status, 0) << awaited.out;
  EXPECT_NE(awaited.out.find("(1 of 1)"), std::string::npos) << awaited.out;
  EXPECT_NE(awaited.out.find("listed dead in 4"), std::string::npos) << awaited.out;  // 42 s or 41 s
  EXPECT_EQ(awaited.out.find("  0  "), std::string::npos) << awaited.out;  // no figures of a live node
}

TEST_F(StateCliTest, ListFiltersThenLimitsAndSaysTheTotal) {
  CliRun r = Lumen("list tasks -f state=failed -f function=Square --limit 3 " + address_);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("TASK_ID"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(3 of 25; --limit N for more)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("TaskError: boom 240"), std::string::npos) << r.out;  // newest first
  EXPECT_EQ(r.out.find("finished"), std::string::npos) << r.out;

  CliRun json_run = Lumen("list objects -f where!=inline --json " + address_);
  ASSERT_EQ(json_run.status, 0) << json_run.out;
  nlohmann::json page = nlohmann::json::parse(json_run.out);
  EXPECT_EQ(page["total"], 8);

  CliRun actors = Lumen("list actors -f state=restarting " + address_);
  EXPECT_NE(actors.out.find("worker process killed (SIGKILL)"), std::string::npos) << actors.out;
  EXPECT_EQ(Lumen("list placement-groups " + address_).status, 0);
  EXPECT_NE(Lumen("list nodes " + address_).out.find("127.0.0.1:7001"), std::string::npos);
}

TEST_F(StateCliTest, BadInputIsRefusedWithTheReason) {
  CliRun bad_kind = Lumen("list widgets " + address_);
  EXPECT_EQ(bad_kind.status, 2) << bad_kind.out;
  EXPECT_NE(bad_kind.out.find("not one of tasks"), std::string::npos) << bad_kind.out;
  CliRun bad_filter = Lumen("list tasks -f colour=red " + address_);
  EXPECT_EQ(bad_filter.status, 1) << bad_filter.out;
  EXPECT_NE(bad_filter.out.find("cannot filter on 'colour'"), std::string::npos) << bad_filter.out;
  CliRun bad_address = Lumen("status --address http://a/b/c");
  EXPECT_EQ(bad_address.status, 1);
  EXPECT_NE(bad_address.out.find("is not an address"), std::string::npos) << bad_address.out;
}

TEST_F(StateCliTest, MemoryTimelineAndLogs) {
  CliRun memory = Lumen("memory --limit 2 " + address_);
  ASSERT_EQ(memory.status, 0) << memory.out;
  EXPECT_NE(memory.out.find("12 objects"), std::string::npos) << memory.out;
  EXPECT_NE(memory.out.find(testing::ObjectId(11)), std::string::npos) << memory.out;  // the largest
  EXPECT_NE(memory.out.find("spilled"), std::string::npos) << memory.out;

  testing::TempDir out;
  std::string trace_path = out.path() + "/trace.json";
  CliRun timeline = Lumen("timeline -o " + trace_path + " " + address_);
  ASSERT_EQ(timeline.status, 0) << timeline.out;
  EXPECT_NE(timeline.out.find("wrote 250 tasks"), std::string::npos) << timeline.out;
  std::ifstream in(trace_path);
  nlohmann::json trace = nlohmann::json::parse(in);
  EXPECT_TRUE(trace["traceEvents"].is_array());

  CliRun list = Lumen("logs " + address_);
  EXPECT_NE(list.out.find(log_path_), std::string::npos) << list.out;
  CliRun one = Lumen("logs counter0 " + address_);
  ASSERT_EQ(one.status, 0) << one.out;
  EXPECT_EQ(one.out, "line one\nthe actor says hi\n");
  CliRun tail = Lumen("logs 2000 --tail 4 " + address_);
  EXPECT_NE(tail.out.find("hi\n"), std::string::npos) << tail.out;
  EXPECT_NE(tail.out.find("--tail BYTES for more"), std::string::npos) << tail.out;
}

TEST_F(StateCliTest, FindsTheDashboardFromTheEnvironmentOrTheSessionDir) {
  CliRun env = Lumen("list nodes", "LUMEN_DASHBOARD=" + server_->url());
  EXPECT_EQ(env.status, 0) << env.out;
  EXPECT_NE(env.out.find("node1"), std::string::npos) << env.out;

  // A session dir of this (live) process, as a driver makes one.
  std::string session = "/tmp/lumen-" + std::to_string(getpid()) + "-clitest" + std::to_string(std::random_device{}());
  ASSERT_TRUE(std::filesystem::create_directory(session));
  DashboardOptions options;
  options.port = 0;
  options.session_dir = session;
  std::string error;
  auto discovered = DashboardServer::Start(source_, options, &error);
  ASSERT_TRUE(discovered) << error;
  // The newest running session's is found: this one, whatever other tests start meanwhile.
  std::filesystem::last_write_time(session + "/dashboard.url",
                                   std::filesystem::file_time_type::clock::now() + std::chrono::hours(1));
  CliRun found = Lumen("status");
  EXPECT_EQ(found.status, 0) << found.out;
  EXPECT_NE(found.out.find("dashboard  " + discovered->url()), std::string::npos) << found.out;
  discovered->Stop();
  std::filesystem::remove_all(session);
}

TEST_F(StateCliTest, ClearErrorsWhenNothingRuns) {
  std::string url = server_->url();
  server_->Stop();
  CliRun gone = Lumen("status --address " + url.substr(7));
  EXPECT_EQ(gone.status, 1);
  EXPECT_NE(gone.out.find("cannot reach the dashboard at " + url), std::string::npos) << gone.out;
}

}  // namespace
}  // namespace lumen::head
