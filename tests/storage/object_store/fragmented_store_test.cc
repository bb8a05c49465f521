// Pinned objects that split the free space: the room is there, in no piece
// large enough. A spilled object is then read from its file where it is, and
// a new one is created in a file; both read back exactly, in this process
// and over the socket, and leave no file behind.
#include "store_test_util.h"

namespace lumen::storage::testing {
namespace {

constexpr size_t kCapacity = 1 << 20;
constexpr size_t kQuarter = kCapacity / 4;

bool Holds(ObjectStore& store, const ObjectID& id, const std::vector<uint8_t>& bytes) {
  ObjectBuffer buf;
  if (!store.Get(id, &buf).ok()) return false;
  const bool same = buf.size == bytes.size() && std::memcmp(buf.data, bytes.data(), bytes.size()) == 0;
  return store.Release(id).ok() && same;
}

// Four quarters, the second and fourth pinned: half the store is free, in
// two quarters, once the other two are spilled.
struct SplitStore {
  StoreConfig config = MakeConfig(kCapacity);
  std::unique_ptr<StoreServer> server = StartServer(config);
  std::shared_ptr<ObjectStore> store = server->LocalClient();
  std::vector<ObjectID> ids{ObjectID::ForPut(), ObjectID::ForPut(), ObjectID::ForPut(), ObjectID::ForPut()};
  std::vector<std::vector<uint8_t>> contents;

  SplitStore() {
    for (size_t i = 0; i < ids.size(); ++i) {
      contents.push_back(RandomBytes(kQuarter, 10 + static_cast<uint32_t>(i)));
      EXPECT_TRUE(store->Put(ids[i], contents[i].data(), kQuarter, false).ok());
    }
    ObjectBuffer buf;
    EXPECT_TRUE(store->Get(ids[1], &buf).ok());
    EXPECT_TRUE(store->Get(ids[3], &buf).ok());
  }
  ~SplitStore() {
    store.reset();
    server.reset();
    std::filesystem::remove_all(config.spill_dir);
  }
};

TEST(FragmentedStore, AnObjectLargerThanEveryFreePieceIsCreatedInAFileAndReadInPlace) {
  SplitStore split;
  ObjectStore& store = *split.store;
  const ObjectID half = ObjectID::ForPut();
  const auto bytes = RandomBytes(2 * kQuarter, 99);
  ASSERT_TRUE(store.Put(half, bytes.data(), bytes.size(), false).ok());
  StoreStats stats = store.Stats();
  EXPECT_EQ(stats.creates_in_file, 1u);
  EXPECT_EQ(stats.spills, 2u) << "the two unpinned quarters were spilled first, in vain";
  EXPECT_EQ(stats.num_spilled, 3u);

  // Read in place, here and over the socket; still spilled, nothing restored.
  EXPECT_TRUE(Holds(store, half, bytes));
  std::shared_ptr<ObjectStore> remote;
  ASSERT_TRUE(ConnectToStore(split.config.socket_path, &remote).ok());
  EXPECT_TRUE(Holds(*remote, half, bytes));
  stats = store.Stats();
  EXPECT_EQ(stats.reads_in_place, 2u);
  EXPECT_EQ(stats.restores, 0u);
  // A spilled quarter still fits a free quarter: it comes back as usual.
  EXPECT_TRUE(Holds(*remote, split.ids[0], split.contents[0]));
  EXPECT_EQ(store.Stats().restores, 1u);

  // Unpinned, the store has room in one piece again: the next Get restores.
  ASSERT_TRUE(store.Release(split.ids[1]).ok());
  ASSERT_TRUE(store.Release(split.ids[3]).ok());
  EXPECT_TRUE(Holds(*remote, half, bytes));
  EXPECT_EQ(store.Stats().reads_in_place, 2u);
  EXPECT_EQ(store.Stats().restores, 2u);
}

TEST(FragmentedStore, AReaderInPlaceKeepsItsBytesWhileTheObjectIsRestoredUnderIt) {
  SplitStore split;
  std::shared_ptr<ObjectStore> remote;
  ASSERT_TRUE(ConnectToStore(split.config.socket_path, &remote).ok());
  const ObjectID half = ObjectID::ForPut();
  const auto bytes = RandomBytes(2 * kQuarter, 7);
  ASSERT_TRUE(remote->Put(half, bytes.data(), bytes.size(), false).ok());
  EXPECT_EQ(remote->Stats().creates_in_file, 1u) << "created over the socket, in a file";

  ObjectBuffer in_place;
  ASSERT_TRUE(remote->Get(half, &in_place).ok());
  ASSERT_EQ(remote->Stats().reads_in_place, 1u);
  // Room comes back; another reader restores the object into the segment
  // and its file goes, while the first still reads the file's mapping.
  ASSERT_TRUE(split.store->Release(split.ids[1]).ok());
  ASSERT_TRUE(split.store->Release(split.ids[3]).ok());
  ObjectBuffer restored;
  ASSERT_TRUE(remote->Get(half, &restored).ok());
  EXPECT_EQ(remote->Stats().restores, 1u);
  EXPECT_NE(restored.data, in_place.data);
  // Two pins of one object in this process, one in each place: releasing
  // either leaves the other's bytes whole.
  ASSERT_TRUE(remote->Release(half).ok());
  EXPECT_EQ(std::memcmp(in_place.data, bytes.data(), bytes.size()), 0);
  EXPECT_EQ(std::memcmp(restored.data, bytes.data(), bytes.size()), 0);
  ASSERT_TRUE(remote->Release(half).ok());
  EXPECT_EQ(FilesIn(split.config.spill_dir), 3u) << "only the three spilled quarters are on disk";
}

TEST(FragmentedStore, ASpilledObjectIsReadEvenWhenEveryByteOfTheStoreIsPinned) {
  StoreConfig config = MakeConfig(kCapacity);
  auto server = StartServer(config);
  auto store = server->LocalClient();
  const ObjectID first = ObjectID::ForPut();
  const auto bytes = RandomBytes(kQuarter, 3);
  ASSERT_TRUE(store->Put(first, bytes.data(), kQuarter, false).ok());
  for (int i = 0; i < 4; ++i) {  // spills `first`, then pins the whole store
    const ObjectID id = ObjectID::ForPut();
    ASSERT_TRUE(store->Put(id, RandomBytes(kQuarter, 20 + i).data(), kQuarter, false).ok());
    ObjectBuffer buf;
    ASSERT_TRUE(store->Get(id, &buf).ok());
  }
  ASSERT_EQ(store->Stats().num_spilled, 1u);
  EXPECT_TRUE(Holds(*store, first, bytes));
  EXPECT_EQ(store->Stats().reads_in_place, 1u);
  // A new object still fails: the room is not there at all.
  uint8_t* data;
  EXPECT_EQ(store->Create(ObjectID::ForPut(), 10, false, &data).code(), StatusCode::kStoreFull);
  EXPECT_EQ(store->Stats().creates_in_file, 0u);
  std::filesystem::remove_all(config.spill_dir);
}

TEST(FragmentedStore, FilesOfObjectsInFilesGoWithTheirObjects) {
  SplitStore split;
  const auto bytes = RandomBytes(2 * kQuarter, 5);
  // Deleted while pinned: the file goes with the last pin.
  const ObjectID deleted = ObjectID::ForPut();
  ASSERT_TRUE(split.store->Put(deleted, bytes.data(), bytes.size(), false).ok());
  ObjectBuffer buf;
  ASSERT_TRUE(split.store->Get(deleted, &buf).ok());
  ASSERT_EQ(FilesIn(split.config.spill_dir), 3u);
  ASSERT_TRUE(split.store->Delete(deleted).ok());
  EXPECT_EQ(FilesIn(split.config.spill_dir), 3u) << "still pinned";
  ASSERT_TRUE(split.store->Release(deleted).ok());
  EXPECT_EQ(FilesIn(split.config.spill_dir), 2u);

  // Created in a file by a client that dies before sealing it.
  {
    std::shared_ptr<ObjectStore> remote;
    ASSERT_TRUE(ConnectToStore(split.config.socket_path, &remote).ok());
    uint8_t* data;
    ASSERT_TRUE(remote->Create(ObjectID::ForPut(), bytes.size(), false, &data).ok());
    std::memcpy(data, bytes.data(), kQuarter);  // the mapping is writable
    EXPECT_EQ(FilesIn(split.config.spill_dir), 3u);
  }
  EXPECT_TRUE(WaitFor([&] { return FilesIn(split.config.spill_dir) == 2u; }));
  EXPECT_EQ(split.store->Stats().creates_in_file, 2u);

  // Aborted by its creator.
  uint8_t* data;
  const ObjectID aborted = ObjectID::ForPut();
  ASSERT_TRUE(split.store->Create(aborted, bytes.size(), false, &data).ok());
  ASSERT_TRUE(split.store->Abort(aborted).ok());
  EXPECT_EQ(FilesIn(split.config.spill_dir), 2u);
}

}  // namespace
}  // namespace lumen::storage::testing
