// Durable Put copies over a real store and a temporary directory: written
// behind, whole or absent, flushed, read back into a store that lost them,
// and a directory that cannot take them is an error Flush reports.
#include "node/put_copies.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <vector>

#include <gtest/gtest.h>

#include "../storage/lineage/temp_dir.h"

namespace lumen::internal {
namespace {

using Job = PutCopies::Job;

class PutCopiesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StoreConfig config;
    config.label = "put-copies-test";
    config.socket_path = dir_.path() + "/store.sock";
    config.capacity_bytes = size_t{16} << 20;
    config.spill_dir = dir_.path() + "/spill";
    ASSERT_TRUE(storage::StoreServer::Start(config, &server_).ok());
    store_ = server_->LocalClient();
  }
  // A sealed object of `size` bytes counting up from `seed`.
  ObjectID PutBytes(size_t size, uint8_t seed) {
    std::vector<uint8_t> bytes(size);
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(seed + i);
    ObjectID id = ObjectID::ForPut();
    EXPECT_TRUE(store_->Put(id, bytes.data(), size, false).ok());
    return id;
  }
  std::vector<uint8_t> Read(const ObjectID& id) {
    storage::ObjectBuffer buf;
    if (!store_->Get(id, &buf).ok()) return {};
    std::vector<uint8_t> out(buf.data, buf.data + buf.size);
    (void)store_->Release(id);
    return out;
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::StoreServer> server_;
  std::shared_ptr<storage::ObjectStore> store_;
  std::vector<std::tuple<Job, ObjectID, bool, uint64_t>> ended_;  // what `done` saw
  std::mutex mu_;
  std::condition_variable changed_;
  PutCopies::Done Record() {
    return [this](Job job, const ObjectID& id, const Status& s, uint64_t size) {
      std::lock_guard lock(mu_);
      ended_.emplace_back(job, id, s.ok(), size);
      changed_.notify_all();
    };
  }
  // Until `done` ran `n` times (bounded).
  std::unique_lock<std::mutex> Ended(size_t n) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, std::chrono::seconds(10), [&] { return ended_.size() >= n; });
    return lock;
  }
};

TEST_F(PutCopiesTest, ACopyIsWrittenBehindAndReadBackIntoAStoreThatLostIt) {
  PutCopies copies(dir_.path() + "/puts", store_, Record());
  ObjectID id = PutBytes(3 << 20, 7);
  std::vector<uint8_t> before = Read(id);
  copies.Copy(id);
  ASSERT_TRUE(copies.Flush(10000));
  EXPECT_TRUE(copies.Has(id));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/puts/" + id.Hex() + ".partial")) << "no temporary left";
  struct stat st;
  ASSERT_EQ(::stat((dir_.path() + "/puts").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u) << "private to the user";

  ASSERT_TRUE(store_->Delete(id).ok());
  ASSERT_FALSE(store_->Contains(id));
  copies.Restore(id);
  auto lock = Ended(2);  // Flush covers copies only: wait for the restore's `done`
  ASSERT_EQ(ended_.size(), 2u);
  EXPECT_EQ(ended_[0], std::make_tuple(Job::kCopy, id, true, uint64_t{0}));
  EXPECT_EQ(ended_[1], std::make_tuple(Job::kRestore, id, true, uint64_t{3 << 20}));
  EXPECT_EQ(Read(id), before);
}

TEST_F(PutCopiesTest, FlushWaitsForEveryCopyQueuedBeforeIt) {
  std::vector<ObjectID> ids;
  {
    PutCopies copies(dir_.path() + "/puts", store_, Record());
    for (int i = 0; i < 8; ++i) ids.push_back(PutBytes(512 << 10, static_cast<uint8_t>(i)));
    for (const ObjectID& id : ids) copies.Copy(id);
    ASSERT_TRUE(copies.Flush(10000));
    for (const ObjectID& id : ids) EXPECT_TRUE(copies.Has(id)) << id.Hex();
    EXPECT_FALSE(copies.Has(ObjectID::ForPut()));
  }
  // A later instance on the same dir finds them.
  PutCopies later(dir_.path() + "/puts", store_, Record());
  for (const ObjectID& id : ids) EXPECT_TRUE(later.Has(id));
}

TEST_F(PutCopiesTest, ACopyThatCannotBeWrittenFailsFlushWithTheReason) {
  // A file where the directory was (permissions would not stop root).
  std::string dir = dir_.path() + "/puts";
  PutCopies copies(dir, store_, Record());
  std::filesystem::remove_all(dir);
  { std::ofstream(dir) << "not a directory"; }
  ObjectID id = PutBytes(1 << 20, 1);
  copies.Copy(id);
  EXPECT_FALSE(copies.Flush(10000));
  EXPECT_NE(copies.LastError().message().find(id.Hex()), std::string::npos) << copies.LastError().message();
  EXPECT_FALSE(copies.Has(id));
  auto lock = Ended(1);
  ASSERT_EQ(ended_.size(), 1u);
  EXPECT_FALSE(std::get<2>(ended_[0])) << "done reports the failure";
}

TEST_F(PutCopiesTest, RestoringWithoutACopySaysSo) {
  std::promise<std::string> why;
  PutCopies reporting(dir_.path() + "/puts", store_, [&](Job, const ObjectID&, const Status& s, uint64_t) {
    why.set_value(s.message());
  });
  ObjectID id = ObjectID::ForPut();
  reporting.Restore(id);
  auto f = why.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_NE(f.get().find("cannot open the durable copy"), std::string::npos);
  EXPECT_FALSE(store_->Contains(id));
}

TEST_F(PutCopiesTest, ARemovalComesAfterTheJobsBeforeItAndOnlyIfAllowed) {
  PutCopies copies(dir_.path() + "/puts", store_, Record());
  ObjectID kept = PutBytes(256 << 10, 1), removed = PutBytes(256 << 10, 2);
  copies.Copy(kept);
  copies.Copy(removed);
  std::atomic<int> asked{0};
  copies.Remove(kept, [&] { return ++asked, false; });        // e.g. its record's successor never became durable
  copies.Remove(removed, [&] { return ++asked, true; });      // queued behind its own copy: never races the write
  copies.Remove(ObjectID::ForPut(), [&] { return ++asked, true; });  // no copy: no error
  copies.Copy(PutBytes(1 << 10, 3));                          // jobs run in order: Flush waits for the removals
  ASSERT_TRUE(copies.Flush(10000));
  EXPECT_EQ(asked.load(), 3);
  EXPECT_TRUE(copies.Has(kept));
  EXPECT_FALSE(copies.Has(removed));
  auto lock = Ended(3);
  EXPECT_EQ(ended_.size(), 3u) << "a removal calls no `done`";
}

}  // namespace
}  // namespace lumen::internal
