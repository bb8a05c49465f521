// Placement groups from drivers that joined a cluster a daemon serves: the
// head keeps the cluster's groups, so every driver of it (another process
// too) finds, lists and removes the same ones, with the errors an embedded
// driver gets. A daemon's cluster can grow: a group no node can hold now
// waits, PENDING, rather than being refused. Groups become CREATED a moment
// after Create: every check of CREATED waits for it first.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "counter.h"
#include "head_daemon.h"

namespace lumen::testing {
namespace {

using namespace std::chrono_literals;

// The placement_group_driver helper, joined to `address`: Ask sends it one
// line and returns its answer ("" if none came within 30 s). Its stdin
// closed at the end, it leaves; killed if it does not within 10 s.
class OtherDriver {
 public:
  explicit OtherDriver(const std::string& address) {
    int to[2], from[2];
    EXPECT_EQ(::pipe2(to, O_CLOEXEC), 0);  // the child keeps only its ends (dup2 clears the flag)
    EXPECT_EQ(::pipe2(from, O_CLOEXEC), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(to[0], 0);
      ::dup2(from[1], 1);
      ::setenv("LUMEN_ADDRESS", address.c_str(), 1);
      ::execl(LUMEN_PLACEMENT_GROUP_DRIVER, LUMEN_PLACEMENT_GROUP_DRIVER, nullptr);
      ::_exit(127);
    }
    ::close(to[0]);
    ::close(from[1]);
    in_ = to[1];
    out_ = from[0];
  }
  ~OtherDriver() {
    ::close(in_);
    ::close(out_);
    if (!Eventually([&] { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; }, 10s)) {
      ADD_FAILURE() << "the other driver (pid " << pid_ << ") did not leave within 10 s of its stdin closing";
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  std::string Ask(const std::string& line) {
    std::string sent = line + "\n";
    if (::write(in_, sent.data(), sent.size()) != static_cast<ssize_t>(sent.size())) return "";
    auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      if (auto end = pending_.find('\n'); end != std::string::npos) {
        std::string answer = pending_.substr(0, end);
        pending_.erase(0, end + 1);
        return answer;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{out_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
      char buf[4096];
      ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) return "";
      pending_.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  std::string pending_;
};

// What a task gets when it asks for placement groups: they are its driver's.
std::string GroupsSeenInATask() {
  try {
    return std::to_string(lumen::GetAllPlacementGroups().size()) + " groups";
  } catch (const lumen::Error& e) {
    return e.what();
  }
}
LUMEN_REMOTE(GroupsSeenInATask);

TEST(JoinedPlacementGroupsTest, AGroupIsFoundListedAndRemovedByEveryDriverOfTheCluster) {
  HeadDaemon head;
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  lumen::Init(JoinConfig(head));
  lumen::PlacementGroup pg =
      lumen::CreatePlacementGroup({"shared", {{{"CPU", 1}}, {{"CPU", 0.5}}}, lumen::PlacementStrategy::SPREAD});
  ASSERT_FALSE(pg.Empty());
  EXPECT_EQ(pg.GetName(), "shared");
  EXPECT_EQ(pg.GetStrategy(), lumen::PlacementStrategy::SPREAD);
  ASSERT_TRUE(pg.Wait(30));
  EXPECT_EQ(pg.GetState(), lumen::PlacementGroupState::CREATED);
  auto by_id = lumen::GetPlacementGroupById(pg.GetID());
  ASSERT_TRUE(by_id.has_value());
  EXPECT_EQ(by_id->GetBundles(), pg.GetBundles());

  {  // another process, a driver of the same cluster
    OtherDriver other(head.address());
    EXPECT_EQ(other.Ask("find shared"), pg.GetID() + " CREATED");
    EXPECT_EQ(other.Ask("list"), "1 " + pg.GetID() + ":shared:CREATED");
    EXPECT_EQ(other.Ask("find nothing-of-that-name"), "none");
    EXPECT_EQ(other.Ask("remove " + pg.GetID()), "ok");
    EXPECT_EQ(other.Ask("state " + pg.GetID()), "REMOVED");
  }
  // Removed for this driver too: no longer found by name, still by id.
  EXPECT_EQ(pg.GetState(), lumen::PlacementGroupState::REMOVED);
  EXPECT_FALSE(pg.Wait(0));
  EXPECT_FALSE(lumen::GetPlacementGroup("shared").has_value());
  lumen::Shutdown();

  // A driver joining later sees the cluster's groups, not its own: the name is free again.
  lumen::Init(JoinConfig(head));
  std::vector<lumen::PlacementGroup> all = lumen::GetAllPlacementGroups();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].GetID(), pg.GetID());
  EXPECT_EQ(all[0].GetState(), lumen::PlacementGroupState::REMOVED);
  lumen::PlacementGroup again = lumen::CreatePlacementGroup({"shared", {{{"CPU", 1}}}});
  EXPECT_NE(again.GetID(), pg.GetID());
  ASSERT_TRUE(again.Wait(30));
  EXPECT_EQ(lumen::GetPlacementGroup("shared")->GetID(), again.GetID());
  lumen::RemovePlacementGroup(again.GetID());
  EXPECT_EQ(again.GetState(), lumen::PlacementGroupState::REMOVED);
  lumen::RemovePlacementGroup(again.GetID());  // again: nothing to do, as in an embedded cluster
  lumen::RemovePlacementGroup("not-a-group-id");
  EXPECT_FALSE(lumen::GetPlacementGroupById("not-a-group-id").has_value());
  EXPECT_EQ(lumen::PlacementGroup("not-a-group-id", {}).GetState(), lumen::PlacementGroupState::REMOVED);
  lumen::Shutdown();
}

TEST(JoinedPlacementGroupsTest, BadCallsAreErrorsAndAGroupNoNodeCanHoldYetStaysPending) {
  HeadDaemon head;
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  lumen::Init(JoinConfig(head));
  lumen::PlacementGroup dup = lumen::CreatePlacementGroup({"dup", {{{"CPU", 1}}}});
  try {
    lumen::CreatePlacementGroup({"dup", {{{"CPU", 1}}}});
    ADD_FAILURE() << "a duplicate name was accepted";
  } catch (const lumen::InfeasibleError& e) {
    ADD_FAILURE() << "a duplicate name is a bad call, not infeasible: " << e.what();
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'dup' already exists"), std::string::npos) << e.what();
  }
  using Bundles = std::vector<std::map<std::string, double>>;
  EXPECT_THROW(lumen::CreatePlacementGroup({"", Bundles(1)}), lumen::Error);          // a bundle asking for nothing
  EXPECT_THROW(lumen::CreatePlacementGroup({"", Bundles{{{"CPU", 0}}}}), lumen::Error);  // likewise: zero is nothing
  EXPECT_THROW(lumen::CreatePlacementGroup({"", Bundles{}}), lumen::Error);           // no bundle at all
  EXPECT_THROW(lumen::CreatePlacementGroup({"", Bundles{{{"CPU", -1}}}}), lumen::Error);  // a bad amount
  EXPECT_EQ(lumen::GetAllPlacementGroups().size(), 1u) << "a refused group was kept";

  // 64 CPUs on a cluster of 2: a node that has them may still join, so it waits.
  lumen::PlacementGroup big = lumen::CreatePlacementGroup({"big", {{{"CPU", 64}}}, lumen::PlacementStrategy::PACK});
  EXPECT_FALSE(big.Wait(1));
  EXPECT_EQ(big.GetState(), lumen::PlacementGroupState::PENDING);
  EXPECT_EQ(lumen::GetPlacementGroup("big")->GetID(), big.GetID());
  ASSERT_TRUE(dup.Wait(30));  // the small one is placed regardless
  lumen::RemovePlacementGroup(big.GetID());
  EXPECT_EQ(big.GetState(), lumen::PlacementGroupState::REMOVED);
  EXPECT_FALSE(big.Wait(1));
  lumen::Shutdown();
}

TEST(JoinedPlacementGroupsTest, ATaskInACreatedGroupsBundleRunsAndTasksHaveNoGroupsOfTheirOwn) {
  HeadDaemon head;
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  lumen::Init(JoinConfig(head));
  lumen::PlacementGroup pg = lumen::CreatePlacementGroup({"", {{{"CPU", 1}}}, lumen::PlacementStrategy::STRICT_PACK});
  ASSERT_TRUE(pg.Wait(30));
  EXPECT_EQ(*lumen::Task(Square).SetPlacementGroup(pg, 0).SetResource("CPU", 1).Remote(6).Get(30000), 36);
  // A request the bundle cannot hold is refused, as in an embedded cluster.
  EXPECT_THROW(lumen::Task(Square).SetPlacementGroup(pg, 0).SetResource("CPU", 2).Remote(6).Get(30000), lumen::Error);
  std::string seen = *lumen::Get(lumen::Task(GroupsSeenInATask).Remote(), 30000);
  EXPECT_NE(seen.find("not available inside tasks"), std::string::npos) << seen;
  lumen::RemovePlacementGroup(pg.GetID());
  lumen::Shutdown();
}

TEST(JoinedPlacementGroupsTest, AWaitWhoseHeadWasKilledIsAnErrorNotAHang) {
  HeadDaemon head;
  ASSERT_EQ(head.start().status, 0) << head.start().out;
  lumen::Init(JoinConfig(head));
  lumen::PlacementGroup big = lumen::CreatePlacementGroup({"big", {{{"CPU", 64}}}});
  std::set<pid_t> workers = ChildrenOf(head.pid());
  ASSERT_EQ(::kill(head.pid(), SIGKILL), 0);
  EXPECT_THROW(big.Wait(60), lumen::Error);
  EXPECT_THROW(lumen::GetAllPlacementGroups(), lumen::Error);
  lumen::Shutdown();
  EXPECT_TRUE(Eventually([&] { for (pid_t w : workers) if (Alive(w)) return false; return true; }, 10s));
}

}  // namespace
}  // namespace lumen::testing
