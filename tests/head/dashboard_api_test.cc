// The JSON API's rules, over HTTP against a fake source: the shapes the page
// and CLI read, filters before paging, totals, and 4xx with a reason.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "fake_state_source.h"
#include "head/dashboard_client.h"
#include "head/dashboard_server.h"

namespace lumen::head {
namespace {

using nlohmann::json;
using testing::FakeStateSource;

class DashboardApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = std::make_shared<FakeStateSource>();
    source_->Set(testing::SampleCluster());
    testing::SampleLineage(*source_, 12);
    std::string error;
    server_ = testing::StartFakeDashboard(source_, &error);
    ASSERT_TRUE(server_) << error;
  }

  HttpResult Call(const std::string& path, const std::string& method = "GET") {
    return HttpCall(server_->url(), method, path, "", 5000);
  }
  json GetJson(const std::string& path, int status = 200) {
    HttpResult r = Call(path);
    EXPECT_TRUE(r.ok) << path << ": " << r.error;
    EXPECT_EQ(r.status, status) << path << ": " << r.body;
    EXPECT_EQ(r.content_type, "application/json") << path;
    return json::parse(r.body);
  }
  // A 4xx whose JSON says why, mentioning `words`.
  void ExpectBadRequest(const std::string& path, int status, const std::string& words) {
    json j = GetJson(path, status);
    ASSERT_TRUE(j.contains("error")) << j.dump();
    EXPECT_NE(j["error"].get<std::string>().find(words), std::string::npos) << path << ": " << j.dump();
  }

  std::shared_ptr<FakeStateSource> source_;
  std::unique_ptr<DashboardServer> server_;
};

TEST_F(DashboardApiTest, ListsHaveTheDocumentedShape) {
  json tasks = GetJson("/api/tasks?limit=3");
  EXPECT_EQ(tasks["total"], 250);
  EXPECT_EQ(tasks["count"], 3);
  EXPECT_EQ(tasks["truncated"], true);
  ASSERT_EQ(tasks["items"].size(), 3u);
  for (const char* key : {"task_id", "function", "name", "state", "node_id", "worker", "worker_pid", "attempt",
                          "submit_ms", "start_ms", "end_ms", "duration_ms", "error", "rebuild", "actor_id"}) {
    EXPECT_TRUE(tasks["items"][0].contains(key)) << key;
  }
  // Newest first: task 249 was submitted last.
  EXPECT_EQ(tasks["items"][0]["task_id"], testing::TaskId(249));
  EXPECT_EQ(tasks["items"][0]["duration_ms"], 5);

  json actors = GetJson("/api/actors");
  ASSERT_EQ(actors["items"].size(), 3u);
  EXPECT_EQ(actors["items"][1]["state"], "restarting");
  EXPECT_EQ(actors["items"][1]["death_cause"], "worker process killed (SIGKILL)");
  EXPECT_EQ(actors["items"][1]["namespace"], "");

  json objects = GetJson("/api/objects?limit=1");
  for (const char* key : {"object_id", "size_bytes", "where", "pinned", "state", "rebuilt", "ref_count",
                          "ref_holders", "owner", "task_id", "node_id"}) {
    EXPECT_TRUE(objects["items"][0].contains(key)) << key;
  }
  json pgs = GetJson("/api/placement_groups");
  EXPECT_EQ(pgs["items"][0]["bundle_count"], 2);
  EXPECT_EQ(pgs["items"][0]["bundles"][1]["node_id"], "node1");
  EXPECT_EQ(GetJson("/api/nodes")["total"], 2);

  json cluster = GetJson("/api/cluster");
  EXPECT_EQ(cluster["session"], "lumen-1-test");
  EXPECT_EQ(cluster["dashboard_url"], server_->url());
  EXPECT_EQ(cluster["summary"]["tasks"]["failed"], 25);
  EXPECT_EQ(cluster["summary"]["tasks"]["running"], 10);
  EXPECT_EQ(cluster["summary"]["resources_used"]["CPU"], 3.0);
  EXPECT_EQ(cluster["summary"]["store_used_bytes"], 3000);
  EXPECT_EQ(cluster["counters"]["worker_deaths"], 4);
}

TEST_F(DashboardApiTest, FiltersApplyBeforePagingAndTheTotalCountsEveryMatch) {
  // 25 failed tasks among 250: the first page of 5 holds only failed ones,
  // and the total is 25, not 5 and not 250.
  json page = GetJson("/api/tasks?filter=state=failed&limit=5");
  EXPECT_EQ(page["total"], 25);
  EXPECT_EQ(page["count"], 5);
  EXPECT_EQ(page["truncated"], true);
  for (const json& t : page["items"]) EXPECT_EQ(t["state"], "failed");

  json last = GetJson("/api/tasks?filter=state=failed&limit=5&offset=23");
  EXPECT_EQ(last["total"], 25);
  EXPECT_EQ(last["count"], 2);
  EXPECT_EQ(last["truncated"], false);
  EXPECT_EQ(last["items"][1]["task_id"], testing::TaskId(0));  // newest first: the oldest failed one is last

  // Several filters AND; != negates; numbers and booleans match their text.
  json both = GetJson("/api/tasks?filter=state=failed&filter=function=Square&filter=node_id!=node1");
  EXPECT_EQ(both["total"], 25);  // failed ones are even: Square on node0
  EXPECT_EQ(GetJson("/api/tasks?filter=state!=finished&limit=0")["total"], 35);
  EXPECT_EQ(GetJson("/api/tasks?filter=state!=finished&limit=0")["count"], 0);
  EXPECT_EQ(GetJson("/api/tasks?filter=worker=3")["total"], 62);
  EXPECT_EQ(GetJson("/api/objects?filter=pinned=true")["total"], 6);
  EXPECT_EQ(GetJson("/api/objects?filter=where=spilled")["total"], 4);
  EXPECT_EQ(GetJson("/api/actors?filter=name=counter2")["items"][0]["state"], "dead");
  EXPECT_EQ(GetJson("/api/tasks?offset=1000")["count"], 0);
}

TEST_F(DashboardApiTest, BadRequestsGetA4xxWithAReason) {
  ExpectBadRequest("/api/tasks?filter=colour=red", 400, "cannot filter on 'colour'");
  ExpectBadRequest("/api/tasks?filter=ref_holders=x", 400, "cannot filter");  // not on a task
  ExpectBadRequest("/api/objects?filter=ref_holders=driver", 400, "cannot filter on 'ref_holders'");  // a list
  ExpectBadRequest("/api/tasks?filter=state", 400, "not key=value");
  ExpectBadRequest("/api/tasks?limit=abc", 400, "limit 'abc'");
  ExpectBadRequest("/api/tasks?limit=-1", 400, "limit");
  ExpectBadRequest("/api/tasks?limit=10001", 400, "more than 10000");
  ExpectBadRequest("/api/tasks?limit=1&limit=2", 400, "more than once");
  ExpectBadRequest("/api/tasks?limt=5", 400, "unknown parameter 'limt'");
  ExpectBadRequest("/api/cluster?x=1", 400, "unknown parameter 'x'");
  ExpectBadRequest("/api/nothing", 404, "no endpoint");
  ExpectBadRequest("/nothing.html", 404, "no page");
  ExpectBadRequest("/api/objects/XYZ/lineage", 400, "not an object id");
  ExpectBadRequest("/api/objects/" + std::string(40, 'f') + "/lineage", 404, "not known");
  ExpectBadRequest("/api/objects/" + testing::ObjectId(3) + "/lineage?depth=65", 400, "depth");
  ExpectBadRequest("/api/logs/99", 404, "no worker");
  ExpectBadRequest("/api/timeline?limit=x", 400, "limit");

  // Read-only: any other method is refused, with what is allowed.
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    HttpResult r = Call("/api/tasks", method);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_NE(r.body.find("read-only"), std::string::npos);
  }
  // Bounded: a request line past httplib's limit is refused, not served.
  HttpResult huge = Call("/api/tasks?filter=state=" + std::string(9000, 'x'));
  ASSERT_TRUE(huge.ok) << huge.error;
  EXPECT_EQ(huge.status, 414);
}

TEST_F(DashboardApiTest, LineageGraphHoldsTheTasksAndObjectsThatMadeAnObject) {
  json g = GetJson("/api/objects/" + testing::ObjectId(3) + "/lineage");
  EXPECT_EQ(g["root"], testing::ObjectId(3));
  EXPECT_EQ(g["truncated"], false);
  // objects 3,2,1,0 and tasks 3,2,1; object 0 was a put.
  ASSERT_EQ(g["nodes"].size(), 7u);
  std::map<std::string, json> by_id;
  for (const json& n : g["nodes"]) by_id[n["id"]] = n;
  EXPECT_EQ(by_id[testing::TaskId(3)]["kind"], "task");
  EXPECT_EQ(by_id[testing::TaskId(3)]["state"], "finished");  // its state now, from the snapshot
  EXPECT_EQ(by_id[testing::TaskId(1)]["state"], "running");
  EXPECT_EQ(by_id[testing::ObjectId(2)]["where"], "spilled");
  EXPECT_EQ(by_id[testing::ObjectId(0)]["made_by"], "put");
  EXPECT_EQ(by_id[testing::ObjectId(0)]["depth"], 3);
  ASSERT_EQ(g["edges"].size(), 6u);
  EXPECT_EQ(g["edges"][0], json({{"from", testing::TaskId(3)}, {"to", testing::ObjectId(3)}, {"kind", "returns"}}));
  EXPECT_EQ(g["edges"][1], json({{"from", testing::ObjectId(2)}, {"to", testing::TaskId(3)}, {"kind", "argument"}}));

  // Bounded in depth: two tasks deep, then marked truncated.
  json shallow = GetJson("/api/objects/" + testing::ObjectId(11) + "/lineage?depth=2");
  EXPECT_EQ(shallow["truncated"], true);
  EXPECT_EQ(shallow["nodes"].size(), 5u);
  for (const json& e : shallow["edges"]) {
    bool drawn = false;
    for (const json& n : shallow["nodes"]) drawn = drawn || n["id"] == e["from"];
    EXPECT_TRUE(drawn) << "dangling edge " << e.dump();
  }
}

TEST_F(DashboardApiTest, TimelineIsChromeTraceOfStartedTasks) {
  json trace = GetJson("/api/timeline?limit=10");
  ASSERT_TRUE(trace["traceEvents"].is_array());
  int complete = 0;
  for (const json& e : trace["traceEvents"]) {
    if (e["ph"] == "X") {
      ++complete;
      EXPECT_TRUE(e["ts"].is_number() && e["dur"].is_number() && e["pid"].is_number() && e["tid"].is_number());
      if (e["args"]["state"] != "running") {
        EXPECT_EQ(e["dur"], 5000);  // 5 ms in microseconds
      }
    } else {
      EXPECT_EQ(e["ph"], "M");
    }
  }
  EXPECT_EQ(complete, 10);
  EXPECT_EQ(trace["displayTimeUnit"], "ms");
}

TEST_F(DashboardApiTest, LogsAreFoundByWorkerPidOrActorAndTailed) {
  testing::TempDir dir;
  std::string path = dir.path() + "/worker-3.log";
  std::ofstream(path) << "starting\nhello from the actor\n";
  ClusterSnapshot s = testing::SampleCluster();
  s.logs.push_back({"node0:3", "node0", 2000, s.actors[0].actor_id, path, true});
  source_->Set(s);

  json list = GetJson("/api/logs");
  EXPECT_EQ(list["items"][0]["path"], path);
  json log = GetJson("/api/logs/node0:3");
  EXPECT_EQ(log["text"], "starting\nhello from the actor\n");
  EXPECT_EQ(log["truncated"], false);
  json tail = GetJson("/api/logs/2000?tail_bytes=6");
  EXPECT_EQ(tail["text"], "actor\n");
  EXPECT_EQ(tail["truncated"], true);
  EXPECT_EQ(GetJson("/api/logs/counter0")["worker"], "node0:3");  // an actor's name
  EXPECT_EQ(GetJson("/api/logs/" + s.actors[0].actor_id)["pid"], 2000);
}

TEST_F(DashboardApiTest, DeadNodesAreListedAfterTheLiveOnesWithWhenAndWhy) {
  ClusterSnapshot s = testing::SampleCluster();
  s.nodes.insert(s.nodes.begin(), testing::DeadNode("red", 1'700'000'001'000, "its connection to the head closed"));
  s.nodes.push_back(testing::DeadNode("blue", 1'700'000'002'000, "declared dead: silent for 2000 ms"));
  s.nodes.push_back(testing::DeadNode("node1", 1'700'000'000'500, "an earlier life of node1"));
  source_->Set(s);
  json nodes = GetJson("/api/nodes");
  ASSERT_EQ(nodes["total"], 5);
  std::vector<std::string> order;
  for (const json& n : nodes["items"]) order.push_back(n["node_id"].get<std::string>() + ":" + n["state"].get<std::string>());
  EXPECT_EQ(order, (std::vector<std::string>{"node0:alive", "node1:alive", "blue:dead", "red:dead", "node1:dead"}));
  const json& blue = nodes["items"][2];
  EXPECT_EQ(blue["left_ms"], 1'700'000'002'000);
  EXPECT_EQ(blue["death_cause"], "declared dead: silent for 2000 ms");
  EXPECT_EQ(blue["resources_total"]["blue"], 1.0);
  EXPECT_EQ(GetJson("/api/nodes?filter=state=dead")["total"], 3);

  // The cluster's figures are its live nodes': counted apart, their resources only.
  json summary = GetJson("/api/cluster")["summary"];
  EXPECT_EQ(summary["nodes"], 2);
  EXPECT_EQ(summary["nodes_dead"], 3);
  EXPECT_EQ(summary["resources_total"]["CPU"], 8.0);
  EXPECT_FALSE(summary["resources_total"].contains("red"));
  EXPECT_EQ(GetJson("/api/memory")["nodes"].size(), 2u);
  std::string metrics = Call("/metrics").body;
  EXPECT_NE(metrics.find("lumen_nodes{state=\"dead\"} 3"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("node=\"red\""), std::string::npos) << metrics;
}

// A member before the head restarted, not back yet: after the live nodes,
// before the dead, with when it is listed dead; not counted as alive.
TEST_F(DashboardApiTest, AwaitedNodesAreListedBetweenTheLiveAndTheDeadWithTheirDeadline) {
  ClusterSnapshot s = testing::SampleCluster();
  s.nodes.insert(s.nodes.begin(), testing::DeadNode("red", 1'700'000'001'000, "its connection to the head closed"));
  s.nodes.insert(s.nodes.begin(), testing::AwaitedNode("blue", 1'700'000'009'000));
  source_->Set(s);
  json nodes = GetJson("/api/nodes");
  std::vector<std::string> order;
  for (const json& n : nodes["items"]) order.push_back(n["node_id"].get<std::string>() + ":" + n["state"].get<std::string>());
  EXPECT_EQ(order, (std::vector<std::string>{"node0:alive", "node1:alive", "blue:awaited", "red:dead"}));
  const json& blue = nodes["items"][2];
  EXPECT_EQ(blue["awaited_until_ms"], 1'700'000'009'000);
  EXPECT_EQ(blue["earlier_run"], true);
  json awaited = GetJson("/api/nodes?filter=state=awaited");
  ASSERT_EQ(awaited["total"], 1);
  EXPECT_EQ(awaited["items"][0]["node_id"], "blue");

  json summary = GetJson("/api/cluster")["summary"];
  EXPECT_EQ(summary["nodes"], 2);
  EXPECT_EQ(summary["nodes_awaited"], 1);
  EXPECT_EQ(summary["nodes_dead"], 1);
  EXPECT_FALSE(summary["resources_total"].contains("blue"));
  EXPECT_EQ(GetJson("/api/memory")["nodes"].size(), 2u);
  std::string metrics = Call("/metrics").body;
  EXPECT_NE(metrics.find("lumen_nodes{state=\"awaited\"} 1"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("node=\"blue\""), std::string::npos) << metrics;
}

TEST_F(DashboardApiTest, ThePageIsServedFromTheBinary) {
  HttpResult index = Call("/");
  ASSERT_TRUE(index.ok) << index.error;
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("id=\"lineage-svg\""), std::string::npos);
  HttpResult js = Call("/app.js");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(js.body.find("REFRESH_MS"), std::string::npos);
  EXPECT_EQ(Call("/style.css").status, 200);
  // Nothing is loaded from the network.
  for (const std::string& body : {index.body, js.body}) {
    EXPECT_EQ(body.find("https://"), std::string::npos);
    EXPECT_EQ(body.find("src=\"http"), std::string::npos);
  }
}

}  // namespace
}  // namespace lumen::head
