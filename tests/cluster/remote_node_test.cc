// A node that reaches its head as a node of another host would: given
// `--node-ip 127.0.0.2` (the loopback's other address, not its head's), it
// registers over TCP, the head's links to it and every object between their
// stores go through TLS tunnels keyed by the cluster's secret, never this
// machine's Unix sockets or segments. And the head's port refuses whoever
// lacks the secret or sends garbage, and serves on.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <fstream>
#include <random>
#include <vector>

#include "counter.h"
#include "head_daemon.h"
#include "protocol/tls_tunnel.h"

namespace lumen::testing {
namespace {

using namespace std::chrono_literals;

std::vector<double> Ramp(int n) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}
LUMEN_REMOTE(Ramp);

class RemoteNode : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(head_.start().status, 0) << head_.start().out;
    ASSERT_EQ(far_.start().status, 0) << far_.start().out;
    lumen::Config config;
    config.address = head_.address();
    lumen::Init(config);
  }
  void TearDown() override {
    lumen::Shutdown();
    if (HasFailure()) {  // what the daemons saw, for a failure's details
      auto tail = [](const std::string& log) { return log.substr(log.size() > 4000 ? log.size() - 4000 : 0); };
      std::fprintf(stderr, "--- head's log:\n%s\n--- far node's log:\n%s\n", tail(head_.Log()).c_str(),
                   tail(far_.Log()).c_str());
    }
    for (pid_t pid : {far_.pid(), head_.pid()})
      if (pid > 0) ::kill(pid, SIGTERM);
  }
  std::string Secret() const {
    std::ifstream in(head_.session_dir() + "/cluster.secret");
    std::string secret;
    std::getline(in, secret);
    return secret;
  }

  HeadDaemon head_;
  NodeDaemon far_{head_, "--node-name far --node-ip 127.0.0.2 --num-cpus 2 --resources '{\"far\": 2}'"};
};

TEST_F(RemoteNode, RegistersOverTcpAndRunsTasksWithObjectsBothWays) {
  EXPECT_NE(far_.start().out.find("over TCP"), std::string::npos) << far_.start().out;
  EXPECT_NE(head_.Log().find("another host's: reached at tls://127.0.0.2:"), std::string::npos) << head_.Log();
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).SetResource("far", 1).Remote()), far_.pid());
  // 4 MiB there (an argument through the far store), 8 MiB back (a result from it).
  std::vector<double> four_mib(512 << 10, 0.25);
  EXPECT_DOUBLE_EQ(*lumen::Get(lumen::Task(Sum).SetResource("far", 1).Remote(four_mib), 30000), 0.25 * (512 << 10));
  auto ramp = lumen::Get(lumen::Task(Ramp).SetResource("far", 1).Remote(1 << 20), 30000);
  ASSERT_EQ(ramp->size(), size_t{1} << 20);
  for (size_t i = 0; i < ramp->size(); i += 4099) ASSERT_EQ((*ramp)[i], static_cast<double>(i));
  EXPECT_EQ(ramp->back(), static_cast<double>((1 << 20) - 1));
  // A Put of the driver's, read on the far node; many tasks at once.
  auto put = lumen::Put(std::vector<double>(300000, 2.0));
  EXPECT_DOUBLE_EQ(*lumen::Get(lumen::Task(Sum).SetResource("far", 1).Remote(put), 30000), 600000.0);
  std::vector<lumen::ObjectRef<int>> squares;
  for (int i = 0; i < 30; ++i) squares.push_back(lumen::Task(Square).SetResource("far", 0.5).Remote(i));
  for (int i = 0; i < 30; ++i) EXPECT_EQ(*lumen::Get(squares[static_cast<size_t>(i)], 30000), i * i);
}

TEST_F(RemoteNode, TheHeadsPortRefusesWhoeverLacksTheSecretAndServesOn) {
  int port = std::atoi(head_.address().substr(head_.address().rfind(':') + 1).c_str());
  std::string head_tls = internal::TlsAddress("127.0.0.1", static_cast<uint16_t>(port));
  std::string why;
  EXPECT_LT(internal::OpenTunnel(head_tls, "not the secret", internal::TunnelService::kNode, 5000, &why), 0);
  EXPECT_NE(why.find("handshake"), std::string::npos) << why;
  // Garbage, not TLS.
  int raw = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(raw, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::vector<char> junk(8192);
  std::mt19937 random(11);
  for (char& c : junk) c = static_cast<char>(random());
  (void)::send(raw, junk.data(), junk.size(), MSG_NOSIGNAL);
  char c;
  EXPECT_LE(::recv(raw, &c, 1, 0), 0);
  ::close(raw);
  // The secret, then frames that are not frames: that connection ends, nothing else.
  int fd = internal::OpenTunnel(head_tls, Secret(), internal::TunnelService::kNode, 5000, &why);
  ASSERT_GE(fd, 0) << why;
  const char bad[] = "\xff\xff\xff\xff\xff\xff\xff\x7f not a frame";
  (void)::send(fd, bad, sizeof bad - 1, MSG_NOSIGNAL);
  EXPECT_LE(::recv(fd, &c, 1, 0), 0);
  ::close(fd);
  // The same, to the far node's store gateway.
  std::string far_tls;
  auto log = head_.Log();
  auto at = log.find("reached at tls://127.0.0.2:");
  ASSERT_NE(at, std::string::npos);
  far_tls = log.substr(at + 11, log.find_first_of(")\n", at) - at - 11);
  fd = internal::OpenTunnel(far_tls, Secret(), internal::TunnelService::kStore, 5000, &why);
  ASSERT_GE(fd, 0) << why << " " << far_tls;
  (void)::send(fd, bad, sizeof bad - 1, MSG_NOSIGNAL);
  EXPECT_LE(::recv(fd, &c, 1, 0), 0);
  ::close(fd);
  EXPECT_TRUE(Eventually([&] { return head_.Log().find("refused a connection from 127.0.0.1:") != std::string::npos; },
                         5s))
      << head_.Log();
  // The cluster serves on, the far node included.
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).SetResource("far", 1).Remote(), 30000), far_.pid());
  EXPECT_EQ(*lumen::Get(lumen::Task(Square).Remote(7), 30000), 49);
}

TEST_F(RemoteNode, ASigkilledRemoteNodeIsGoneAndItsTasksRunAgainElsewhere) {
  // A task that may run anywhere but is placed there (soft affinity), killed with its node.
  auto ref = lumen::Task(NodePidAfter)
                 .SetSchedulingStrategy(lumen::SchedulingStrategy::NodeAffinity("far", /*soft=*/true))
                 .Remote(1500);
  ASSERT_TRUE(Eventually([&] { return !ChildrenOf(far_.pid()).empty(); }, 10s));  // its worker: the job's first
  std::this_thread::sleep_for(200ms);  // the worker has the task by now
  ::kill(far_.pid(), SIGKILL);
  EXPECT_EQ(*lumen::Get(ref, 60000), head_.pid());  // re-run on the head's node after the TCP link closed
  EXPECT_TRUE(Eventually([&] { return head_.Log().find("node 'far' left the cluster") != std::string::npos; }, 10s));
}

// A driver that joins as one of another host would: through the head's TCP
// port (an address written tls://HOST:PORT, the secret in
// LUMEN_CLUSTER_SECRET), its objects through the head's store gateway.
class RemoteDriver : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(head_.start().status, 0) << head_.start().out;
    std::ifstream in(head_.session_dir() + "/cluster.secret");
    std::getline(in, secret_);
    ::setenv("LUMEN_CLUSTER_SECRET", secret_.c_str(), 1);
  }
  void TearDown() override {
    lumen::Shutdown();
    ::unsetenv("LUMEN_CLUSTER_SECRET");
  }
  std::string TlsOfHead() const {
    return "tls://" + head_.address();
  }

  HeadDaemon head_;
  std::string secret_;
};

TEST_F(RemoteDriver, JoinsOverTcpAndRunsTasksActorsAndObjectsBothWays) {
  lumen::Config config;
  config.address = TlsOfHead();
  lumen::Init(config);
  EXPECT_EQ(*lumen::Get(lumen::Task(Square).Remote(7), 30000), 49);
  EXPECT_EQ(*lumen::Get(lumen::Task(NodePid).Remote(), 30000), head_.pid());
  // 4 MiB Put there, used by a task; 8 MiB result back.
  auto put = lumen::Put(std::vector<double>(512 << 10, 0.5));
  EXPECT_DOUBLE_EQ(*lumen::Get(lumen::Task(Sum).Remote(put), 30000), 0.5 * (512 << 10));
  EXPECT_EQ(lumen::Get(put, 30000)->size(), size_t{512} << 10);
  auto ramp = lumen::Get(lumen::Task(Ramp).Remote(1 << 20), 30000);
  ASSERT_EQ(ramp->size(), size_t{1} << 20);
  EXPECT_EQ((*ramp)[12345], 12345.0);
  auto counter = lumen::Actor(Counter::Create).Remote(10);
  EXPECT_EQ(*lumen::Get(counter.Task(&Counter::Add).Remote(5), 30000), 15);
}

TEST_F(RemoteDriver, AWrongSecretIsAClearErrorAndTheHeadServesOn) {
  ::setenv("LUMEN_CLUSTER_SECRET", "not the secret", 1);
  lumen::Config config;
  config.address = TlsOfHead();
  try {
    lumen::Init(config);
    ADD_FAILURE() << "joined with a wrong secret";
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("handshake"), std::string::npos) << e.what();
  }
  ::setenv("LUMEN_CLUSTER_SECRET", secret_.c_str(), 1);
  lumen::Init(config);
  EXPECT_EQ(*lumen::Get(lumen::Task(Square).Remote(9), 30000), 81);
}

}  // namespace
}  // namespace lumen::testing
