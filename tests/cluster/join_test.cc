// Drivers that join a cluster a daemon serves: `lumen start --head`, then
// lumen::Init with its address. Each driver is a job (its namespace, its
// own workers running its binary); a driver that leaves ends its job, but
// not its detached actors; a peer without the cluster's secret is refused.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "counter.h"
#include "head_daemon.h"
#include "second_driver.h"

namespace lumen::testing {
namespace {

using namespace std::chrono_literals;

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(HeadDaemonTest, StartsAndPrintsHowToJoinItsSessionPrivate) {
  HeadDaemon head;
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  EXPECT_NE(head.start().out.find("LUMEN_ADDRESS=" + head.address()), std::string::npos) << head.start().out;
  EXPECT_NE(head.start().out.find("cluster.secret"), std::string::npos) << head.start().out;
  ASSERT_GT(head.pid(), 0);
  EXPECT_TRUE(Alive(head.pid()));
  EXPECT_EQ(ModeOf(head.session_dir()), 0700u);
  EXPECT_EQ(ModeOf(head.session_dir() + "/cluster.secret"), 0600u);
  EXPECT_EQ(ModeOf(head.session_dir() + "/node.sock"), 0600u);
  // A second head on the same address is refused, naming the first.
  ShellRun again = Shell(std::string(LUMEN_CLI_PATH) + " start --head --no-dashboard --port " +
                    head.address().substr(head.address().find(':') + 1));
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.out.find("already serves " + head.address()), std::string::npos) << again.out;
  // No job yet: no worker either.
  EXPECT_TRUE(ChildrenOf(head.pid()).empty());
}

TEST(JoinTest, AJoinedDriverRunsTasksActorsAndObjectsAndItsLeavingEndsItsJob) {
  HeadDaemon head;
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  lumen::Init(JoinConfig(head));
  EXPECT_EQ(lumen::GetNamespace().rfind("job-", 0), 0u) << lumen::GetNamespace();
  std::vector<lumen::ObjectRef<int>> squares;
  for (int i = 0; i < 100; ++i) squares.push_back(lumen::Task(Square).Remote(i));
  int sum = 0;
  for (auto& s : squares) sum += *lumen::Get(s);
  EXPECT_EQ(sum, 328350);
  std::vector<double> big(size_t{1} << 18, 0.5);  // 2 MiB: through the daemon's store
  EXPECT_EQ(*lumen::Get(lumen::Put(big)), big);
  auto counter = lumen::Actor(Counter::Create).SetName("c").Remote(1);
  EXPECT_EQ(*lumen::Get(counter.Task(&Counter::Add).Remote(2)), 3);
  auto found = lumen::GetActor<Counter>("c");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*lumen::Get(found->Task(&Counter::Add).Remote(4)), 7);
  // The workers run this binary: their executable is this test's.
  pid_t worker = *lumen::Get(lumen::Task(WorkerPid).Remote());
  EXPECT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(worker) + "/exe"),
            std::filesystem::read_symlink("/proc/self/exe"));
  EXPECT_TRUE(ChildrenOf(head.pid()).count(worker));
  lumen::Flush();  // the daemon's log and copies: durable
  lumen::Shutdown();
  // Its job ends: its workers and its (non-detached) actor go, bounded.
  EXPECT_TRUE(Eventually([&] { return ChildrenOf(head.pid()).empty(); }, 10s))
      << ChildrenOf(head.pid()).size() << " processes of the job left";
  EXPECT_TRUE(Eventually([&] { return head.Log().find("job 1 ended") != std::string::npos; }, 5s)) << head.Log();
  EXPECT_TRUE(Alive(head.pid()));
}

TEST(JoinTest, TwoDriversAreTwoJobsAndAKilledOneLeavesItsDetachedActor) {
  HeadDaemon head;
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  lumen::Init(JoinConfig(head));
  SecondDriver other = SecondDriver::Start(head.address());
  ASSERT_GT(other.actor_pid, 0) << "the second driver did not report READY";
  EXPECT_NE(other.ns, lumen::GetNamespace());
  EXPECT_TRUE(Alive(other.actor_pid));
  EXPECT_TRUE(Alive(other.worker_pid));
  EXPECT_EQ(*lumen::Get(lumen::Task(Square).Remote(9)), 81);  // both jobs at once

  ASSERT_EQ(::kill(other.pid, SIGKILL), 0);
  ::waitpid(other.pid, nullptr, 0);
  ::close(other.stdin_fd);
  // Its workers and its own actor go; its detached actor stays, state and all.
  EXPECT_TRUE(Eventually([&] { return !Alive(other.worker_pid) && !Alive(other.actor_pid); }, 10s));
  auto keeper = lumen::GetActor<Counter>("keeper", "shared");
  ASSERT_TRUE(keeper.has_value());
  EXPECT_EQ(*lumen::Get(keeper->Task(&Counter::Add).Remote(1)), 106);
  EXPECT_EQ(*lumen::Get(lumen::Task(Square).Remote(7)), 49);  // this job runs on
  keeper->Kill();
  lumen::Shutdown();
}

TEST(JoinTest, ADriverWithoutTheSecretIsRefusedAndLoggedAndTheClusterServesOn) {
  HeadDaemon head;
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  ::setenv("LUMEN_CLUSTER_SECRET", "not-the-secret", 1);
  try {
    lumen::Init(JoinConfig(head));
    ADD_FAILURE() << "a driver with a wrong secret joined";
    lumen::Shutdown();
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("did not present the cluster's secret"), std::string::npos) << e.what();
  }
  ::unsetenv("LUMEN_CLUSTER_SECRET");
  EXPECT_FALSE(lumen::IsInitialized());
  EXPECT_TRUE(Eventually([&] { return head.Log().find("refused the driver") != std::string::npos; }, 5s))
      << head.Log();
  EXPECT_TRUE(ChildrenOf(head.pid()).empty());  // nothing was started for it

  // Garbage on the node's socket ends that connection, not the daemon.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, (head.session_dir() + "/node.sock").c_str());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string junk(64, '\x7f');
  ASSERT_EQ(::write(fd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
  timeval bound{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
  char byte;
  EXPECT_EQ(::read(fd, &byte, 1), 0) << "the node kept a connection that sent garbage";
  ::close(fd);

  lumen::Init(JoinConfig(head));  // the right secret, from the session
  EXPECT_EQ(*lumen::Get(lumen::Task(Square).Remote(3)), 9);
  lumen::Shutdown();
}

TEST(JoinTest, ADriverWhoseDaemonWasKilledGetsAnErrorNotAHang) {
  HeadDaemon head;
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  lumen::Init(JoinConfig(head));
  EXPECT_EQ(*lumen::Get(lumen::Task(Square).Remote(5)), 25);
  std::set<pid_t> workers = ChildrenOf(head.pid());
  ASSERT_EQ(::kill(head.pid(), SIGKILL), 0);
  EXPECT_THROW(lumen::Get(lumen::Task(Square).Remote(6)), lumen::Error);
  lumen::Shutdown();
  // Its workers die with it (parent-death signal); the next start sweeps its session.
  EXPECT_TRUE(Eventually([&] { for (pid_t w : workers) if (Alive(w)) return false; return true; }, 10s));
  HeadDaemon next;
  ASSERT_EQ(next.start().status, 0) << next.start().out;
  EXPECT_FALSE(std::filesystem::exists(head.session_dir()));
}

TEST(StopTest, StopEndsTheDaemonItsWorkersAndItsSession) {
  HeadDaemon head;
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  lumen::Init(JoinConfig(head));
  EXPECT_EQ(*lumen::Get(lumen::Task(Square).Remote(4)), 16);
  std::set<pid_t> workers = ChildrenOf(head.pid());
  EXPECT_FALSE(workers.empty());
  ShellRun stop = Shell(std::string(LUMEN_CLI_PATH) + " stop --address " + head.address());
  EXPECT_EQ(stop.status, 0) << stop.out;
  EXPECT_NE(stop.out.find("stopped the head of " + head.address()), std::string::npos) << stop.out;
  EXPECT_FALSE(Alive(head.pid()));
  for (pid_t w : workers) EXPECT_TRUE(Eventually([&] { return !Alive(w); }, 5s)) << "worker " << w;
  EXPECT_FALSE(std::filesystem::exists(head.session_dir()));
  lumen::Shutdown();
}

}  // namespace
}  // namespace lumen::testing
