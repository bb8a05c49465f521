// Actors across a cluster's restart from its storage dir: a detached named
// actor is re-created by the next Init (after a Shutdown, or after its
// driver was SIGKILLed) and, with replay, comes back with its state, from its
// latest checkpoint when it has one; the other actors of that run stay dead.
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cluster_fixture.h"
#include "lumen/api.h"
#include "lumen/storage/lineage_log.h"
#include "temp_dir.h"

extern char** environ;

namespace {

using lumen::storage::testing::TempDir;

// Deterministic but for `runs_`, which counts the deposits this process ran
// (replayed ones included): what a replay re-ran is then exact.
class Savings {
 public:
  struct State {
    int balance = 0;
    std::vector<int> deposits;
    LUMEN_FIELDS(balance, deposits);
  };
  static Savings* Open(int balance) { return new Savings(State{balance, {}}, false); }
  static Savings* Restore(State state) { return new Savings(std::move(state), true); }
  int Deposit(int x) {
    ++runs_;
    state_.deposits.push_back(x);
    return state_.balance += x;
  }
  State Snapshot() const { return state_; }
  State Get() const { return state_; }
  int DepositsRunHere() const { return runs_; }
  bool Restored() const { return restored_; }
  int Pid() const { return getpid(); }

 private:
  Savings(State state, bool restored) : state_(std::move(state)), restored_(restored) {}
  State state_;
  bool restored_;
  int runs_ = 0;
};
LUMEN_REMOTE(Savings::Open, LUMEN_FUNC(Savings::Restore, Savings::State), &Savings::Deposit, &Savings::Snapshot,
             &Savings::Get, &Savings::DepositsRunHere, &Savings::Restored, &Savings::Pid);

// Savings whose state carries a blob of several MiB, far above the inline
// limit: its checkpoints live in the store, not in the log's records.
class Vault {
 public:
  static constexpr size_t kBlobBytes = size_t{6} << 20;
  struct State {
    std::vector<int> deposits;
    std::string blob;
    LUMEN_FIELDS(deposits, blob);
  };
  static Vault* Open() { return new Vault(State{{}, std::string(kBlobBytes, 'v')}, false); }
  static Vault* Restore(State state) { return new Vault(std::move(state), true); }
  int Deposit(int x) {
    ++runs_;
    state_.deposits.push_back(x);
    state_.blob[state_.deposits.size()] = static_cast<char>('a' + x);  // the state changes with each call
    return static_cast<int>(state_.deposits.size());
  }
  State Snapshot() const { return state_; }
  std::vector<int> Deposits() const { return state_.deposits; }
  // The blob as the calls left it: its size and its changed bytes.
  std::string BlobHead() const { return std::to_string(state_.blob.size()) + ":" + state_.blob.substr(0, 12); }
  int DepositsRunHere() const { return runs_; }
  bool Restored() const { return restored_; }
  int Pid() const { return getpid(); }

 private:
  Vault(State state, bool restored) : state_(std::move(state)), restored_(restored) {}
  State state_;
  bool restored_;
  int runs_ = 0;
};
LUMEN_REMOTE(Vault::Open, LUMEN_FUNC(Vault::Restore, Vault::State), &Vault::Deposit, &Vault::Snapshot,
             &Vault::Deposits, &Vault::BlobHead, &Vault::DepositsRunHere, &Vault::Restored, &Vault::Pid);

constexpr const char* kNamespace = "reopen-test";
constexpr int64_t kWaitMs = 30000;

class Driver : public StorageDriver {
 public:
  explicit Driver(const std::string& storage_dir) : StorageDriver(storage_dir, kNamespace) {}
};

std::vector<int> OneTo(int n) {
  std::vector<int> v;
  for (int i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

// Balance after depositing 1..n on 100.
int BalanceAfter(int n) { return 100 + n * (n + 1) / 2; }

lumen::ActorCreator<Savings* (*)(int)> DetachedSavings(const std::string& name) {
  auto creator = lumen::Actor(Savings::Open);
  creator.SetName(name).SetLifetime(lumen::ActorLifetime::DETACHED).SetReplayOnRestart(true);
  return creator;
}

// Deposits 1..n, one at a time; returns the ids of their results.
std::vector<std::string> DepositOneTo(lumen::ActorHandle<Savings>& account, int n) {
  std::vector<std::string> ids;
  for (int x = 1; x <= n; ++x) {
    auto r = account.Task(&Savings::Deposit).Remote(x);
    EXPECT_EQ(*r.Get(kWaitMs), BalanceAfter(x));
    ids.push_back(r.ID());
  }
  return ids;
}

// What a driver of the first run leaves: the ids a later driver checks.
struct FirstRun {
  std::string account;      // the detached named actor
  std::string scratch;      // a named actor that is not detached
  std::vector<std::string> deposits;
};

FirstRun RunFirstDriver() {
  FirstRun run;
  auto account = DetachedSavings("account").Remote(100);
  auto scratch = lumen::Actor(Savings::Open).SetName("scratch").SetReplayOnRestart(true).Remote(100);
  run.deposits = DepositOneTo(account, 5);
  EXPECT_EQ(*scratch.Task(&Savings::Deposit).Remote(7).Get(kWaitMs), 107);
  run.account = account.ID();
  run.scratch = scratch.ID();
  lumen::Flush();
  return run;
}

// The second driver's view: the account came back with the state of the
// first run's five deposits, replayed (not run anew), and its outputs can
// be got by id; the scratch actor did not come back.
void ExpectRestored(const FirstRun& run) {
  auto account = lumen::GetActor<Savings>("account", kNamespace);
  ASSERT_TRUE(account) << "the detached named actor was not restored";
  EXPECT_EQ(account->ID(), run.account);
  EXPECT_EQ(*lumen::ObjectRef<int>::FromID(run.deposits[2]).Get(kWaitMs), BalanceAfter(3));
  EXPECT_EQ(*account->Task(&Savings::DepositsRunHere).Remote().Get(kWaitMs), 5);
  auto state = account->Task(&Savings::Get).Remote().Get(kWaitMs);
  EXPECT_EQ(state->balance, BalanceAfter(5));
  EXPECT_EQ(state->deposits, OneTo(5));
  EXPECT_EQ(*account->Task(&Savings::Deposit).Remote(6).Get(kWaitMs), BalanceAfter(6));
  EXPECT_FALSE(lumen::GetActor<Savings>("scratch", kNamespace)) << "an actor that was not detached came back";
}

// After Shutdown: the log says why the scratch actor stayed dead.
void ExpectRecordedDead(const std::string& dir, const std::string& actor_hex) {
  std::unique_ptr<lumen::storage::LineageLog> log;
  ASSERT_TRUE(lumen::storage::LineageLog::OpenReadOnly(dir, &log).ok());
  lumen::ActorID id;
  ASSERT_TRUE(lumen::ActorID::FromHex(actor_hex, &id));
  auto record = log->GetActor(id);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, lumen::storage::ActorState::kDead);
  EXPECT_NE(record->death_cause.find("its owner (driver) died"), std::string::npos) << record->death_cause;
}

TEST(ActorReopenTest, ADetachedNamedActorComesBackWithItsStateAfterShutdown) {
  TempDir dir;
  FirstRun run;
  {
    Driver first(dir.path());
    run = RunFirstDriver();
  }
  {
    Driver second(dir.path());
    ExpectRestored(run);
  }
  ExpectRecordedDead(dir.path(), run.scratch);
}

// The first driver as a child process, which the test SIGKILLs: this binary
// again, running only the test below, which acts when the variable is set.
constexpr const char* kFirstDriverEnv = "LUMEN_TEST_FIRST_DRIVER";  // "<storage dir> <fd to report on>"

TEST(ActorReopenChild, FirstDriver) {
  const char* job = std::getenv(kFirstDriverEnv);
  if (!job) GTEST_SKIP() << "the first driver of ADetachedNamedActorOutlivesAKilledDriver, run by it";
  std::istringstream in(job);
  std::string dir;
  int fd = -1;
  in >> dir >> fd;
  Driver first(dir);
  FirstRun run = RunFirstDriver();  // flushed: the kill may come at once
  std::string line = run.account + " " + run.scratch;
  for (const std::string& id : run.deposits) line += " " + id;
  line += "\n";
  ASSERT_EQ(::write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  ::sleep(120);  // waiting to be killed; a test that forgot us ends in two minutes
}

TEST(ActorReopenTest, ADetachedNamedActorOutlivesAKilledDriver) {
  TempDir dir;
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  env_strings.push_back(std::string(kFirstDriverEnv) + "=" + dir.path() + " " + std::to_string(report[1]));
  std::vector<char*> env;
  for (std::string& s : env_strings) env.push_back(s.data());
  env.push_back(nullptr);
  std::string self = "/proc/self/exe", filter = "--gtest_filter=ActorReopenChild.FirstDriver";
  char* argv[] = {self.data(), filter.data(), nullptr};
  pid_t child = -1;
  ASSERT_EQ(::posix_spawn(&child, self.c_str(), nullptr, nullptr, argv, env.data()), 0);
  ::close(report[1]);

  std::string line;
  pollfd p{report[0], POLLIN, 0};
  char buf[4096];
  while (line.find('\n') == std::string::npos && ::poll(&p, 1, 60000) == 1) {
    ssize_t n = ::read(report[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  ::close(report[0]);
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_NE(line.find('\n'), std::string::npos) << "the first driver never reported";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  FirstRun run;
  std::istringstream in(line);
  in >> run.account >> run.scratch;
  for (std::string id; in >> id;) run.deposits.push_back(id);
  ASSERT_EQ(run.deposits.size(), 5u);
  {
    Driver second(dir.path());  // the lock of the killed driver's log went with it
    ExpectRestored(run);
  }
  ExpectRecordedDead(dir.path(), run.scratch);
}

TEST(ActorReopenTest, ReplayStartsFromTheLatestCheckpoint) {
  TempDir dir;
  std::vector<std::string> deposits;
  {
    Driver first(dir.path());
    auto account = DetachedSavings("checkpointed")
                       .SetMaxRestarts(1)
                       .SetCheckpoint(&Savings::Snapshot, LUMEN_FUNC(Savings::Restore, Savings::State), 3)
                       .Remote(100);
    deposits = DepositOneTo(account, 8);  // states after calls 3 and 6; calls 7 and 8 after the latest
    lumen::Flush();
  }
  Driver second(dir.path());
  auto account = lumen::GetActor<Savings>("checkpointed", kNamespace);
  ASSERT_TRUE(account);
  // Replayed from the state of call 6: its outputs by id, not those before it.
  EXPECT_EQ(*lumen::ObjectRef<int>::FromID(deposits[6]).Get(kWaitMs), BalanceAfter(7));
  try {
    lumen::ObjectRef<int>::FromID(deposits[1]).Get(kWaitMs);
    ADD_FAILURE() << "the output of a call the checkpoint covers was rebuilt";
  } catch (const lumen::ObjectLostError& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint"), std::string::npos) << e.what();
  }
  EXPECT_EQ(*account->Task(&Savings::DepositsRunHere).Remote().Get(kWaitMs), 2);  // call 9: a state after it
  EXPECT_TRUE(*account->Task(&Savings::Restored).Remote().Get(kWaitMs));
  auto state = account->Task(&Savings::Get).Remote().Get(kWaitMs);
  EXPECT_EQ(state->balance, BalanceAfter(8));
  EXPECT_EQ(state->deposits, OneTo(8));

  // A restart in this process starts from a state of this process (after
  // call 9, or 12 if it was taken before the kill): no deposit re-runs.
  int pid = *account->Task(&Savings::Pid).Remote().Get(kWaitMs);
  KillAndAwaitDeath(pid);
  EXPECT_EQ(*account->Task(&Savings::DepositsRunHere).Remote().Get(kWaitMs), 0);
  EXPECT_NE(*account->Task(&Savings::Pid).Remote().Get(kWaitMs), pid);
  state = account->Task(&Savings::Get).Remote().Get(kWaitMs);
  EXPECT_EQ(state->deposits, OneTo(8));
}

// A state of several MiB: kept in the store and, with a named storage dir,
// copied to disk like a large Put, so a restart in this process and a later
// cluster both start from it and re-run only the calls after it.
TEST(ActorReopenTest, ALargeCheckpointStateServesReopensAndRestarts) {
  TempDir dir;
  {
    Driver first(dir.path());
    auto vault = lumen::Actor(Vault::Open)
                     .SetName("vault")
                     .SetLifetime(lumen::ActorLifetime::DETACHED)
                     .SetReplayOnRestart(true)
                     .SetMaxRestarts(1)
                     .SetCheckpoint(&Vault::Snapshot, LUMEN_FUNC(Vault::Restore, Vault::State), 3)
                     .Remote();
    for (int x = 1; x <= 8; ++x) EXPECT_EQ(*vault.Task(&Vault::Deposit).Remote(x).Get(kWaitMs), x);
    lumen::Flush();  // states after calls 3 and 6; calls 7 and 8 after the latest
  }
  // What 8 deposits leave in the blob: byte i is 'a' + i.
  const std::string blob_head = std::to_string(Vault::kBlobBytes) + ":vbcdefghivvv";
  Driver second(dir.path());
  auto vault = lumen::GetActor<Vault>("vault", kNamespace);
  ASSERT_TRUE(vault);
  EXPECT_TRUE(*vault->Task(&Vault::Restored).Remote().Get(kWaitMs)) << "it did not start from its checkpoint";
  EXPECT_EQ(*vault->Task(&Vault::DepositsRunHere).Remote().Get(kWaitMs), 2);  // calls 7 and 8
  EXPECT_EQ(*vault->Task(&Vault::Deposits).Remote().Get(kWaitMs), OneTo(8));
  EXPECT_EQ(*vault->Task(&Vault::BlobHead).Remote().Get(kWaitMs), blob_head);

  // A restart in this process starts from a state of this process: no deposit re-runs.
  int pid = *vault->Task(&Vault::Pid).Remote().Get(kWaitMs);
  KillAndAwaitDeath(pid);
  EXPECT_EQ(*vault->Task(&Vault::DepositsRunHere).Remote().Get(kWaitMs), 0);
  EXPECT_NE(*vault->Task(&Vault::Pid).Remote().Get(kWaitMs), pid);
  EXPECT_EQ(*vault->Task(&Vault::Deposits).Remote().Get(kWaitMs), OneTo(8));
  EXPECT_EQ(*vault->Task(&Vault::BlobHead).Remote().Get(kWaitMs), blob_head);
  vault->Kill();
}

TEST(ActorReopenTest, CheckpointsNeedCallsOneAtATime) {
  TempDir dir;
  Driver driver(dir.path());
  auto creator = lumen::Actor(Savings::Open).SetMaxConcurrency(2);
  EXPECT_THROW(creator.SetCheckpoint(&Savings::Snapshot, LUMEN_FUNC(Savings::Restore, Savings::State), 0),
               lumen::Error);
  creator.SetCheckpoint(&Savings::Snapshot, LUMEN_FUNC(Savings::Restore, Savings::State), 2);
  try {
    creator.Remote(1);
    ADD_FAILURE() << "a checkpointed actor with concurrent calls was created";
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("one at a time"), std::string::npos) << e.what();
  }
}

}  // namespace
