// The durable copies of a checkpointing actor's states: however many
// checkpoints it takes, its storage dir holds one copy (the latest, which a
// later Init restores it from); an actor killed for good holds none; and a
// superseded copy that a killed driver left behind is swept by the next Init.
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cluster_fixture.h"
#include "lumen/api.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
using lumen::storage::testing::TempDir;

// An actor whose state carries 1 MiB, ten times the inline limit: each
// checkpoint is a copy under the storage dir, not a value in the log.
class Journal {
 public:
  static constexpr size_t kPadBytes = size_t{1} << 20;
  struct State {
    std::vector<int> entries;
    std::string pad;
    LUMEN_FIELDS(entries, pad);
  };
  static Journal* Open() { return new Journal(State{{}, std::string(kPadBytes, 'p')}, false); }
  static Journal* Restore(State state) { return new Journal(std::move(state), true); }
  int Add(int x) {
    ++runs_;
    state_.entries.push_back(x);
    state_.pad[state_.entries.size() % kPadBytes] = static_cast<char>('a' + x % 26);  // each state differs
    return static_cast<int>(state_.entries.size());
  }
  State Snapshot() const { return state_; }
  std::vector<int> Entries() const { return state_.entries; }
  int AddsRunHere() const { return runs_; }
  bool Restored() const { return restored_; }

 private:
  Journal(State state, bool restored) : state_(std::move(state)), restored_(restored) {}
  State state_;
  bool restored_;
  int runs_ = 0;
};
LUMEN_REMOTE(Journal::Open, LUMEN_FUNC(Journal::Restore, Journal::State), &Journal::Add, &Journal::Snapshot,
             &Journal::Entries, &Journal::AddsRunHere, &Journal::Restored);

constexpr const char* kNamespace = "checkpoint-copies-test";
constexpr int64_t kWaitMs = 30000;

class Driver : public StorageDriver {
 public:
  explicit Driver(const std::string& storage_dir) : StorageDriver(storage_dir, kNamespace) {}
};

// A state every 3 calls (Entries and the like count as calls too).
lumen::ActorHandle<Journal> OpenJournal(const std::string& name) {
  return lumen::Actor(Journal::Open)
      .SetName(name)
      .SetLifetime(lumen::ActorLifetime::DETACHED)
      .SetCheckpoint(&Journal::Snapshot, LUMEN_FUNC(Journal::Restore, Journal::State), 3)
      .Remote();
}

std::vector<int> Range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i <= to; ++i) v.push_back(i);
  return v;
}

// Adds from..to, one at a time, then reads the entries back: a state asked
// for after one of the adds runs before that read, so it is taken by then.
std::vector<int> AddRange(lumen::ActorHandle<Journal>& journal, int from, int to) {
  for (int x = from; x <= to; ++x) journal.Task(&Journal::Add).Remote(x).Get(kWaitMs);
  return *journal.Task(&Journal::Entries).Remote().Get(kWaitMs);
}

// The durable copies in a storage dir: their names (object ids) and bytes.
struct Copies {
  std::vector<std::string> names;
  uint64_t bytes = 0;
};
Copies CopiesIn(const std::string& storage_dir) {
  Copies c;
  std::error_code ec;
  for (const auto& file : fs::directory_iterator(storage_dir + "/puts", ec)) {
    if (!file.is_regular_file()) continue;
    std::error_code gone;  // removed between the listing and this look: not there
    const auto size = file.file_size(gone);
    if (gone) continue;
    c.names.push_back(file.path().filename().string());
    c.bytes += size;
  }
  return c;
}

// Flushes, then waits (bounded) until the dir holds `n` copies: a
// superseded copy goes right after its successor's record is durable.
Copies AwaitCopies(const std::string& storage_dir, size_t n) {
  lumen::Flush();
  Copies c = CopiesIn(storage_dir);
  for (int i = 0; i < 1000 && c.names.size() != n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    c = CopiesIn(storage_dir);
  }
  return c;
}

// One state of the journal: a little more than its pad.
void ExpectOneState(const Copies& c) {
  ASSERT_EQ(c.names.size(), 1u) << "superseded checkpoint copies were left on disk";
  EXPECT_GE(c.bytes, Journal::kPadBytes);
  EXPECT_LT(c.bytes, 2 * Journal::kPadBytes);
}

TEST(CheckpointCopiesTest, OneCopyStaysAcrossCheckpointsAndReopens) {
  TempDir dir;
  {
    Driver first(dir.path());
    auto journal = OpenJournal("journal");
    EXPECT_EQ(AddRange(journal, 1, 10), Range(1, 10));  // states after calls 3, 6 and 9; then 10 and 11
    ExpectOneState(AwaitCopies(dir.path(), 1));
  }
  ExpectOneState(CopiesIn(dir.path()));
  {
    Driver second(dir.path());
    auto journal = lumen::GetActor<Journal>("journal", kNamespace);
    ASSERT_TRUE(journal);
    EXPECT_TRUE(*journal->Task(&Journal::Restored).Remote().Get(kWaitMs)) << "it did not start from its checkpoint";
    EXPECT_EQ(*journal->Task(&Journal::AddsRunHere).Remote().Get(kWaitMs), 1);  // call 10 (11 was a read)
    // Calls 14..22, then 23: states after calls 12 (Restored), 15, 18 and 21.
    EXPECT_EQ(AddRange(*journal, 11, 19), Range(1, 19));
    ExpectOneState(AwaitCopies(dir.path(), 1));
  }
  ExpectOneState(CopiesIn(dir.path()));
  Driver third(dir.path());
  auto journal = lumen::GetActor<Journal>("journal", kNamespace);
  ASSERT_TRUE(journal);
  EXPECT_TRUE(*journal->Task(&Journal::Restored).Remote().Get(kWaitMs));
  EXPECT_EQ(*journal->Task(&Journal::AddsRunHere).Remote().Get(kWaitMs), 1);  // call 22: the add after the latest
  EXPECT_EQ(*journal->Task(&Journal::Entries).Remote().Get(kWaitMs), Range(1, 19));
  journal->Kill();
}

TEST(CheckpointCopiesTest, AnActorKilledForGoodLeavesNoCopy) {
  TempDir dir;
  {
    Driver first(dir.path());
    auto journal = OpenJournal("doomed");
    EXPECT_EQ(AddRange(journal, 1, 7), Range(1, 7));
    ExpectOneState(AwaitCopies(dir.path(), 1));
    journal.Kill();
    EXPECT_EQ(AwaitCopies(dir.path(), 0).names.size(), 0u) << "the dead actor's checkpoint copy stayed";
  }
  EXPECT_EQ(CopiesIn(dir.path()).names.size(), 0u);
  Driver second(dir.path());
  EXPECT_FALSE(lumen::GetActor<Journal>("doomed", kNamespace)) << "a killed actor came back";
}

// A driver killed after the record named the new state but before the old
// copy went leaves that copy: the next Init removes it, and the actor still
// starts from the latest state.
TEST(CheckpointCopiesTest, ASupersededCopyLeftBehindIsSweptAtTheNextInit) {
  TempDir dir;
  TempDir stash;
  std::string left_behind;
  {
    Driver first(dir.path());
    auto journal = OpenJournal("swept");
    EXPECT_EQ(AddRange(journal, 1, 3), Range(1, 3));  // the state after call 3
    Copies first_state = AwaitCopies(dir.path(), 1);
    ASSERT_EQ(first_state.names.size(), 1u);
    left_behind = first_state.names[0];
    fs::copy_file(dir.path() + "/puts/" + left_behind, stash.path() + "/" + left_behind);
    EXPECT_EQ(AddRange(journal, 4, 8), Range(1, 8));  // states after calls 6 and 9 (the read)
    Copies latest = AwaitCopies(dir.path(), 1);
    ExpectOneState(latest);
    EXPECT_NE(latest.names[0], left_behind);
  }
  fs::copy_file(stash.path() + "/" + left_behind, dir.path() + "/puts/" + left_behind);
  ASSERT_EQ(CopiesIn(dir.path()).names.size(), 2u);
  Driver second(dir.path());
  Copies swept = CopiesIn(dir.path());
  ExpectOneState(swept);
  EXPECT_NE(swept.names[0], left_behind) << "the superseded copy stayed and the latest went";
  auto journal = lumen::GetActor<Journal>("swept", kNamespace);
  ASSERT_TRUE(journal);
  EXPECT_TRUE(*journal->Task(&Journal::Restored).Remote().Get(kWaitMs));
  EXPECT_EQ(*journal->Task(&Journal::Entries).Remote().Get(kWaitMs), Range(1, 8));
  journal->Kill();
}

}  // namespace
