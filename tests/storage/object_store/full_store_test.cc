// A full store makes room: evicts reconstructable objects, spills the rest,
// and only then fails — with the sizes in the message.
#include "store_test_util.h"

namespace lumen::storage::testing {
namespace {

constexpr size_t kCapacity = 1 << 20;
constexpr size_t kQuarter = kCapacity / 4;

TEST(ObjectStoreFull, EvictsReconstructableLeastRecentlyUsedFirst) {
  StoreConfig config = MakeConfig(kCapacity);
  auto server = StartServer(config);
  std::vector<ObjectID> evicted;
  server->SetEvictionListener([&](const ObjectID& id) { evicted.push_back(id); });
  auto store = server->LocalClient();
  std::vector<ObjectID> ids(4);
  for (auto& id : ids) {
    id = ObjectID::ForPut();
    ASSERT_TRUE(store->Put(id, RandomBytes(kQuarter, 1).data(), kQuarter, true).ok());
  }
  // Touch ids[0]: now ids[1] is the least recently used.
  ObjectBuffer buf;
  ASSERT_TRUE(store->Get(ids[0], &buf).ok());
  ASSERT_TRUE(store->Release(ids[0]).ok());

  // A non-reconstructable object arrives: a reconstructable one makes room.
  const ObjectID fresh = ObjectID::ForPut();
  ASSERT_TRUE(store->Put(fresh, RandomBytes(kQuarter, 2).data(), kQuarter, false).ok());
  ASSERT_EQ(evicted.size(), 1u);
  EXPECT_EQ(evicted[0], ids[1]);
  EXPECT_FALSE(store->Contains(ids[1]));
  EXPECT_EQ(store->Get(ids[1], &buf).code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->Contains(ids[0]));
  EXPECT_EQ(store->Stats().evictions, 1u);
  EXPECT_EQ(store->Stats().spills, 0u);
}

TEST(ObjectStoreFull, SpillsAndRestoresExactBytes) {
  StoreConfig config = MakeConfig(kCapacity);
  auto server = StartServer(config);
  bool any_evicted = false;
  server->SetEvictionListener([&](const ObjectID&) { any_evicted = true; });
  auto store = server->LocalClient();
  auto shell = Shell::Client(config.socket_path);
  std::vector<ObjectID> ids(6);
  std::vector<std::vector<uint8_t>> contents;
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = ObjectID::ForPut();
    contents.push_back(RandomBytes(kQuarter, 100 + i));
    ASSERT_TRUE(store->Put(ids[i], contents[i].data(), kQuarter, false).ok()) << i;
  }
  StoreStats stats = store->Stats();
  EXPECT_EQ(stats.spills, 2u);
  EXPECT_EQ(stats.num_spilled, 2u);
  EXPECT_EQ(stats.num_objects, 4u);
  EXPECT_EQ(FilesIn(config.spill_dir), 2u);
  EXPECT_TRUE(store->Contains(ids[0])) << "spilled objects are still in the store";

  // Get restores transparently, spilling others to make room; every object
  // reads back exactly, whichever process asks.
  for (size_t i = 0; i < ids.size(); ++i) {
    ObjectBuffer buf;
    ASSERT_TRUE(store->Get(ids[i], &buf).ok()) << i;
    ASSERT_EQ(buf.size, kQuarter);
    EXPECT_EQ(std::memcmp(buf.data, contents[i].data(), kQuarter), 0) << i;
    ASSERT_TRUE(store->Release(ids[i]).ok());
  }
  uint64_t sum = 0;
  for (uint8_t b : contents[1]) sum += b;
  EXPECT_EQ(shell->Call("get " + Hex(ids[1])), "ok " + std::to_string(kQuarter) + " 1 " + std::to_string(sum));
  EXPECT_EQ(shell->Call("release " + Hex(ids[1])), "ok");
  EXPECT_GE(store->Stats().restores, 2u);
  EXPECT_FALSE(any_evicted);

  // Deleting a spilled object removes its file; the server removes the rest.
  const size_t spilled = store->Stats().num_spilled;
  ASSERT_GT(spilled, 0u);
  for (const auto& id : ids) ASSERT_TRUE(store->Delete(id).ok());
  EXPECT_EQ(FilesIn(config.spill_dir), 0u);
  ASSERT_TRUE(store->Put(ids[0], contents[0].data(), kQuarter, false).ok());
  for (size_t i = 1; i < 5; ++i) {
    ASSERT_TRUE(store->Put(ids[i], contents[i].data(), kQuarter, false).ok());
  }
  EXPECT_EQ(FilesIn(config.spill_dir), 1u);
  shell.reset();
  server.reset();
  EXPECT_EQ(FilesIn(config.spill_dir), 0u);
  std::filesystem::remove_all(config.spill_dir);
}

TEST(ObjectStoreFull, StoreFullWhenEverythingIsPinned) {
  StoreConfig config = MakeConfig(kCapacity);
  auto server = StartServer(config);
  auto store = server->LocalClient();
  std::vector<ObjectID> ids(4);
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = ObjectID::ForPut();
    ObjectBuffer buf;
    ASSERT_TRUE(store->Put(ids[i], RandomBytes(kQuarter, 7).data(), kQuarter, i % 2 == 0).ok());
    ASSERT_TRUE(store->Get(ids[i], &buf).ok());
  }
  uint8_t* data;
  Status s = store->Create(ObjectID::ForPut(), 1000, false, &data);
  EXPECT_EQ(s.code(), StatusCode::kStoreFull);
  EXPECT_NE(s.message().find("1000 bytes"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("capacity 1048576"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("used 1048576"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("pinned 1048576"), std::string::npos) << s.message();
  EXPECT_EQ(store->Stats().evictions + store->Stats().spills, 0u) << "nothing was moved in vain";

  // One release makes room again (by spilling, since ids[1] is not reconstructable).
  ASSERT_TRUE(store->Release(ids[1]).ok());
  ASSERT_TRUE(store->Create(ObjectID::ForPut(), 1000, false, &data).ok());
  EXPECT_EQ(store->Stats().spills, 1u);
  EXPECT_EQ(store->Stats().spilled_bytes, kQuarter);
  std::shared_ptr<ObjectStore> remote;  // the same, asked over the socket
  ASSERT_TRUE(ConnectToStore(config.socket_path, &remote).ok());
  EXPECT_EQ(remote->Stats().spilled_bytes, kQuarter);
}

TEST(ObjectStoreFull, NoSpillDirMeansStoreFull) {
  StoreConfig config = MakeConfig(kCapacity);
  config.spill_dir.clear();
  auto server = StartServer(config);
  auto store = server->LocalClient();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(store->Put(ObjectID::ForPut(), RandomBytes(kQuarter, 7).data(), kQuarter, false).ok());
  }
  uint8_t* data;
  Status s = store->Create(ObjectID::ForPut(), 10, false, &data);
  EXPECT_EQ(s.code(), StatusCode::kStoreFull);
  EXPECT_NE(s.message().find("no spill_dir"), std::string::npos) << s.message();
}

TEST(ObjectStoreFull, ObjectLargerThanTheStore) {
  StoreConfig config = MakeConfig(kCapacity);
  auto server = StartServer(config);
  auto shell = Shell::Client(config.socket_path);
  const std::string reply = shell->Call("create " + Hex(ObjectID::ForPut()) + " " +
                                        std::to_string(kCapacity + 1) + " 0 0");
  EXPECT_TRUE(StartsWith(reply, Err(StatusCode::kObjectTooLarge))) << reply;
  EXPECT_NE(reply.find(std::to_string(kCapacity + 1) + " bytes"), std::string::npos) << reply;
  EXPECT_NE(reply.find("capacity of " + std::to_string(kCapacity)), std::string::npos) << reply;
  // Exactly the capacity fits.
  EXPECT_EQ(shell->Call("put " + Hex(ObjectID::ForPut()) + " " + std::to_string(kCapacity) + " 0 1"), "ok");
}

}  // namespace
}  // namespace lumen::storage::testing
