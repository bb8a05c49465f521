// Failures of the cluster's daemons. Liveness (protocol/heartbeat.h): a
// node stopped with SIGSTOP is declared dead and its task runs elsewhere;
// once it runs again it registers anew; a joined driver's waits (and its
// store calls) end when its head stops, and its nodes register with it again
// once it is resumed. A head SIGKILLed and restarted on its storage dir gets its
// nodes back, every flushed id, and its detached named actors (replayed);
// a head stopped on purpose takes its nodes with it. A head started on a
// driver's storage dir holds that driver's placement groups. The liveness timeout is 2 s
// here (LUMEN_NODE_LIVENESS_MS, inherited by the daemons), 10 s by default.
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "counter.h"
#include "head_daemon.h"

namespace lumen::testing {
namespace {

using namespace std::chrono_literals;

class Failover : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ::setenv("LUMEN_NODE_LIVENESS_MS", "2000", 1); }

  void Join() {
    lumen::Config config;
    config.address = head_->address();
    config.ns = "liveness";  // one namespace for the drivers of a test, as named actors need
    lumen::Init(config);
  }
  void TearDown() override {
    lumen::Shutdown();
    for (Daemon* d : Daemons())
      if (d->pid() > 0) ::kill(d->pid(), SIGCONT);  // nothing stays stopped
  }
  // Its log has `text` within `bound`.
  static bool LogSays(const Daemon& d, const std::string& text, std::chrono::milliseconds bound = 20s) {
    return Eventually([&] { return d.Log().find(text) != std::string::npos; }, bound);
  }

  // (Re)starts the head: this test's port, `extra` on its command line.
  void StartHead(const std::string& extra = "", bool dashboard = false) {
    head_.reset();
    head_ = std::make_unique<HeadDaemon>(extra, dashboard);
    ASSERT_EQ(head_->start().status, 0) << head_->start().out;
  }
  NodeDaemon& StartNode(const std::string& extra) {
    nodes_.push_back(std::make_unique<NodeDaemon>(*head_, extra));
    EXPECT_EQ(nodes_.back()->start().status, 0) << nodes_.back()->start().out;
    return *nodes_.back();
  }
  std::vector<Daemon*> Daemons() {
    std::vector<Daemon*> all;
    if (head_) all.push_back(head_.get());
    for (auto& n : nodes_) all.push_back(n.get());
    return all;
  }

  // A storage dir for the head, removed at the end whatever happened (after the daemons stopped).
  StorageDir storage_;
  // Stopped at the end, nodes first (and before storage_ goes).
  std::unique_ptr<HeadDaemon> head_;
  std::vector<std::unique_ptr<NodeDaemon>> nodes_;
};

TEST_F(Failover, AStoppedNodeIsDeclaredDeadItsTaskRunsElsewhereAndItRegistersAgainOnceResumed) {
  ASSERT_NO_FATAL_FAILURE(StartHead());
  NodeDaemon& a = StartNode("--num-cpus 1 --resources '{\"green\": 1, \"a\": 1}'");
  NodeDaemon& b = StartNode("--num-cpus 1 --resources '{\"green\": 1, \"b\": 1}'");
  Join();
  auto task = lumen::Task(NodePidAfter).SetResource("green", 1).Remote(3000);
  pid_t victim = -1;
  ASSERT_TRUE(Eventually([&] {
    for (const NodeDaemon* n : {&a, &b})
      if (!ChildrenOf(n->pid()).empty()) victim = n->pid();
    return victim > 0;
  }, 10s));
  std::this_thread::sleep_for(200ms);  // its worker has the task by now
  ASSERT_EQ(::kill(victim, SIGSTOP), 0);
  // Declared dead after 2 s of silence; the task runs again on the other.
  int ran_on = *lumen::Get(task, /*timeout_ms=*/30000);
  pid_t other = victim == a.pid() ? b.pid() : a.pid();
  EXPECT_EQ(ran_on, other);
  EXPECT_TRUE(LogSays(*head_, "declared dead")) << head_->Log();
  // Resumed, it finds its registration closed and registers again.
  ASSERT_EQ(::kill(victim, SIGCONT), 0);
  const NodeDaemon& resumed = victim == a.pid() ? a : b;
  EXPECT_TRUE(LogSays(resumed, "registered again")) << resumed.Log();
  auto there = lumen::Task(NodePid).SetResource(victim == a.pid() ? "a" : "b", 1).Remote();
  EXPECT_EQ(*lumen::Get(there, /*timeout_ms=*/20000), victim);
}

TEST_F(Failover, AJoinedDriversWaitFailsWhenItsHeadStopsAndDoesNotHang) {
  ASSERT_NO_FATAL_FAILURE(StartHead());
  Join();
  EXPECT_EQ(*lumen::Get(lumen::Task(Square).Remote(7)), 49);
  auto slow = lumen::Task(NodePidAfter).Remote(60000);
  ASSERT_EQ(::kill(head_->pid(), SIGSTOP), 0);
  try {
    lumen::Get(slow);  // no timeout: only the link's liveness ends it
    ADD_FAILURE() << "a Get on a stopped head returned";
  } catch (const lumen::GetTimeoutError& e) {
    ADD_FAILURE() << "a timeout, not the node declared dead: " << e.what();
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("declared dead"), std::string::npos) << e.what();
  }
  EXPECT_THROW(lumen::Get(lumen::Task(Square).Remote(2)), lumen::Error);  // later calls fail too
  ::kill(head_->pid(), SIGCONT);
}

// The head's store server is stopped with it: a store call waits for an
// answer that never comes. The link's heartbeat must end it, not the
// store's own reply timeout (60 s).
TEST_F(Failover, AJoinedDriversStoreCallsFailWhenItsHeadStopsAndDoNotWaitOutTheStoresTimeout) {
  ASSERT_NO_FATAL_FAILURE(StartHead());
  Join();
  const std::vector<uint64_t> big(1 << 17, 7);  // 1 MiB: in the store, not inline
  auto stored = lumen::Put(big);
  ASSERT_EQ(lumen::Get(stored)->size(), big.size());
  ASSERT_EQ(::kill(head_->pid(), SIGSTOP), 0);
  // kill() returns before every thread stopped: one may still answer a call.
  ASSERT_TRUE(Eventually(
      [&] {
        std::vector<char> states = ThreadStates(head_->pid());
        return !states.empty() && std::all_of(states.begin(), states.end(), [](char c) { return c == 'T'; });
      },
      5s));
  const auto stopped_at = std::chrono::steady_clock::now();
  try {
    lumen::Put(big);
    ADD_FAILURE() << "a Put into a stopped head's store returned";
  } catch (const lumen::ObjectStoreFullError& e) {
    ADD_FAILURE() << "not full, out of reach: " << e.what();
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("object store server connection lost"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, 10s);  // 2 s of silence, and slack
  EXPECT_THROW(lumen::Put(big), lumen::Error);  // later calls fail at once
  ::kill(head_->pid(), SIGCONT);
}

// A stopped head is, to its nodes, a head that went: they look for it
// again, and once it runs again it is the head that serves the address.
TEST_F(Failover, NodesRegisterAgainWithTheirHeadOnceItIsResumedAfterASigstop) {
  ASSERT_NO_FATAL_FAILURE(StartHead());
  NodeDaemon& red = StartNode("--num-cpus 1 --resources '{\"red\": 1}'");
  NodeDaemon& far = StartNode("--node-ip 127.0.0.2 --num-cpus 1 --resources '{\"far\": 1}'");
  ASSERT_EQ(::kill(head_->pid(), SIGSTOP), 0);
  EXPECT_TRUE(LogSays(red, "lost the head")) << red.Log();
  EXPECT_TRUE(LogSays(far, "lost the head")) << far.Log();
  std::this_thread::sleep_for(3s);  // their attempts to register again queue at the stopped head's sockets
  ASSERT_EQ(::kill(head_->pid(), SIGCONT), 0);
  EXPECT_TRUE(LogSays(red, "registered again")) << red.Log();
  EXPECT_TRUE(LogSays(far, "registered again")) << far.Log();
  Join();
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).SetResource("red", 1).Remote(), /*timeout_ms=*/20000), red.pid());
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).SetResource("far", 1).Remote(), /*timeout_ms=*/20000), far.pid());
  EXPECT_TRUE(Alive(red.pid())) << red.Log();
  EXPECT_TRUE(Alive(far.pid())) << far.Log();
}

TEST_F(Failover, NodesRegisterAgainWithAHeadRestartedOnItsStorageDir) {
  const std::string& storage = storage_.path();
  ASSERT_NO_FATAL_FAILURE(StartHead("--storage " + storage));
  NodeDaemon& red = StartNode("--num-cpus 1 --resources '{\"red\": 1}'");
  // And one that speaks TCP to its head, as another host's node would.
  NodeDaemon& far = StartNode("--node-ip 127.0.0.2 --num-cpus 1 --resources '{\"far\": 1}'");
  Join();
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).SetResource("red", 1).Remote()), red.pid());
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).SetResource("far", 1).Remote()), far.pid());
  auto kept = lumen::Put(std::string("kept across the restart"));
  lumen::Flush();
  std::string kept_id = kept.ID();
  lumen::Shutdown();

  pid_t first = head_->pid();
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(Eventually([&] { return !Alive(first); }, 10s));
  EXPECT_TRUE(LogSays(red, "lost the head")) << red.Log();
  EXPECT_TRUE(LogSays(far, "lost the head")) << far.Log();
  EXPECT_TRUE(Alive(red.pid()));  // it waits for its head to come back
  EXPECT_TRUE(Alive(far.pid()));

  ASSERT_NO_FATAL_FAILURE(StartHead("--storage " + storage));
  EXPECT_TRUE(LogSays(red, "registered again")) << red.Log();
  EXPECT_TRUE(LogSays(far, "registered again")) << far.Log();
  Join();
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).SetResource("red", 1).Remote(), /*timeout_ms=*/20000), red.pid());
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).SetResource("far", 1).Remote(), /*timeout_ms=*/20000), far.pid());
  EXPECT_EQ(*lumen::Get(lumen::ObjectRef<std::string>::FromID(kept_id), /*timeout_ms=*/20000),
            "kept across the restart");
}

TEST_F(Failover, ADetachedNamedActorComesBackWithAHeadRestartedOnItsStorageDir) {
  const std::string& storage = storage_.path();
  ASSERT_NO_FATAL_FAILURE(StartHead("--storage " + storage));
  Join();
  auto counter = lumen::Actor(Counter::Create)
                     .SetName("survivor")
                     .SetLifetime(lumen::ActorLifetime::DETACHED)
                     .SetReplayOnRestart(true)
                     .Remote(100);
  EXPECT_EQ(*lumen::Get(counter.Task(&Counter::Add).Remote(5)), 105);
  EXPECT_EQ(*lumen::Get(counter.Task(&Counter::Add).Remote(7)), 112);
  lumen::Flush();
  lumen::Shutdown();
  pid_t first = head_->pid();
  ASSERT_EQ(::kill(first, SIGKILL), 0);  // its actor's process goes with it
  ASSERT_TRUE(Eventually([&] { return !Alive(first); }, 10s));

  // No driver yet: the head re-creates it from the log with the binary it
  // ran, its factory and calls replayed in order.
  ASSERT_NO_FATAL_FAILURE(StartHead("--storage " + storage));
  EXPECT_TRUE(Eventually([&] { return !ChildrenOf(head_->pid()).empty(); }, 20s)) << head_->Log();
  Join();
  auto again = lumen::GetActor<Counter>("survivor");
  ASSERT_TRUE(again.has_value()) << head_->Log();
  EXPECT_EQ(*lumen::Get(again->Task(&Counter::Add).Remote(1), /*timeout_ms=*/20000), 113);
  again->Kill();
}

TEST_F(Failover, AHeadStartedOnADriversStorageDirHoldsItsPlacementGroups) {
  const std::string& storage = storage_.path();
  lumen::Config config;
  config.num_cpus = 2;
  config.storage_dir = storage;
  config.include_dashboard = false;
  lumen::Init(config);
  std::string held =
      lumen::CreatePlacementGroup({"held", {{{"CPU", 1}}, {{"CPU", 1}}}, lumen::PlacementStrategy::SPREAD}).GetID();
  std::string removed = lumen::CreatePlacementGroup({"let-go", {{{"CPU", 1}}}, lumen::PlacementStrategy::PACK}).GetID();
  lumen::RemovePlacementGroup(removed);
  lumen::Flush();
  lumen::Shutdown();

  ASSERT_NO_FATAL_FAILURE(StartHead("--storage " + storage, /*dashboard=*/true));
  ASSERT_FALSE(head_->dashboard_url().empty()) << head_->start().out;
  ShellRun list;
  auto line_of = [&](const std::string& id) {
    size_t at = list.out.find(id);
    if (at == std::string::npos) return std::string();
    size_t begin = list.out.rfind('\n', at) + 1, end = list.out.find('\n', at);
    return list.out.substr(begin, end - begin);
  };
  // Reserved again by the head's node a moment after it serves.
  EXPECT_TRUE(Eventually(
      [&] {
        list = Shell(std::string(LUMEN_CLI_PATH) + " list placement-groups --address " + head_->dashboard_url());
        return list.status == 0 && line_of(held).find("created") != std::string::npos;
      },
      std::chrono::seconds(10)))
      << list.out;
  EXPECT_NE(line_of(held).find("held"), std::string::npos) << list.out;
  EXPECT_NE(line_of(removed).find("removed"), std::string::npos) << list.out;
}

TEST_F(Failover, AHeadStoppedOnPurposeTakesItsNodesWithIt) {
  ASSERT_NO_FATAL_FAILURE(StartHead());
  NodeDaemon& red = StartNode("--num-cpus 1 --resources '{\"red\": 1}'");
  ASSERT_EQ(red.start().status, 0) << red.start().out;
  head_->Stop();  // SIGTERM: the head says goodbye to its nodes
  // At once, not after the 60 s a node waits for a head that died.
  EXPECT_TRUE(Eventually([&] { return !Alive(red.pid()); }, 15s));
}

}  // namespace
}  // namespace lumen::testing
