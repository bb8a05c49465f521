// The object store's contract, exercised from another process and in-process.
#include <cstring>

#include "../../../storage/object_store/src/allocator.h"
#include "store_test_util.h"

namespace lumen::storage::testing {
namespace {

TEST(ObjectStoreBasic, ClientProcessLifecycle) {
  StoreConfig config = MakeConfig(16 << 20);
  auto server = StartServer(config);
  auto local = server->LocalClient();
  auto shell = Shell::Client(config.socket_path);
  const ObjectID id = ObjectID::ForPut();

  EXPECT_EQ(shell->Call("create " + Hex(id) + " 1000 0 3"), "ok");
  EXPECT_FALSE(local->Contains(id)) << "unsealed objects are invisible";
  EXPECT_EQ(shell->Call("get " + Hex(id)).substr(0, 5), Err(StatusCode::kNotFound));
  EXPECT_EQ(shell->Call("seal " + Hex(id)), "ok");
  EXPECT_TRUE(local->Contains(id));
  EXPECT_EQ(shell->Call("get " + Hex(id)), "ok 1000 1 3000");  // size, in mapping, sum

  // The owning process reads the same bytes without the socket.
  ObjectBuffer buf;
  ASSERT_TRUE(local->Get(id, &buf).ok());
  ASSERT_EQ(buf.size, 1000u);
  EXPECT_EQ(buf.data[0], 3);
  EXPECT_EQ(buf.data[999], 3);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buf.data) % 64, 0u);
  ASSERT_TRUE(local->Release(id).ok());

  // Delete while the shell pins it: gone for Get at once, freed on its release.
  EXPECT_EQ(shell->Call("delete " + Hex(id)), "ok");
  EXPECT_EQ(shell->Call("contains " + Hex(id)), "ok 0");
  EXPECT_EQ(local->Stats().used_bytes, 1024u);
  EXPECT_EQ(shell->Call("release " + Hex(id)), "ok");
  EXPECT_EQ(local->Stats().used_bytes, 0u);
  EXPECT_EQ(local->Stats().num_objects, 0u);
}

TEST(ObjectStoreBasic, LocalClient) {
  StoreConfig config = MakeConfig(4 << 20);
  auto server = StartServer(config);
  auto store = server->LocalClient();
  const ObjectID id = ObjectID::ForPut();
  const char text[] = "hello, shared memory";
  ASSERT_TRUE(store->Put(id, text, sizeof text, false).ok());
  ObjectBuffer buf;
  ASSERT_TRUE(store->Get(id, &buf).ok());
  EXPECT_EQ(std::memcmp(buf.data, text, sizeof text), 0);
  // A second LocalClient is the same process: its pins are shared.
  ASSERT_TRUE(server->LocalClient()->Release(id).ok());
  EXPECT_EQ(store->Release(id).code(), StatusCode::kInvalid);
  ASSERT_TRUE(store->Delete(id).ok());
  EXPECT_FALSE(store->Contains(id));
  EXPECT_EQ(store->Stats().used_bytes, 0u);
}

TEST(ObjectStoreBasic, Errors) {
  StoreConfig config = MakeConfig(4 << 20);
  auto server = StartServer(config);
  auto store = server->LocalClient();
  const ObjectID id = ObjectID::ForPut();
  ObjectBuffer buf;
  uint8_t* data;

  EXPECT_EQ(store->Get(id, &buf).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Release(id).code(), StatusCode::kInvalid);
  EXPECT_EQ(store->Delete(id).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Seal(id).code(), StatusCode::kNotFound);

  ASSERT_TRUE(store->Create(id, 100, false, &data).ok());
  EXPECT_EQ(store->Create(id, 100, false, &data).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->Delete(id).code(), StatusCode::kInvalid) << "unsealed: Abort, not Delete";
  ASSERT_TRUE(store->Abort(id).ok());
  EXPECT_EQ(store->Stats().used_bytes, 0u);
  EXPECT_EQ(store->Abort(id).code(), StatusCode::kNotFound);

  ASSERT_TRUE(store->Create(id, 100, false, &data).ok());
  ASSERT_TRUE(store->Seal(id).ok());
  EXPECT_EQ(store->Seal(id).code(), StatusCode::kInvalid);
  EXPECT_EQ(store->Abort(id).code(), StatusCode::kInvalid);
  EXPECT_EQ(store->Create(id, 100, false, &data).code(), StatusCode::kAlreadyExists);

  // Only the creator may seal or abort.
  auto shell = Shell::Client(config.socket_path);
  const ObjectID other = ObjectID::ForPut();
  EXPECT_EQ(shell->Call("create " + Hex(other) + " 10 0 1"), "ok");
  EXPECT_EQ(store->Seal(other).code(), StatusCode::kInvalid);
  EXPECT_EQ(store->Abort(other).code(), StatusCode::kInvalid);
  EXPECT_EQ(shell->Call("abort " + Hex(other)), "ok");

  // Zero-size objects are fine, and every object is 64-byte aligned.
  const ObjectID empty = ObjectID::ForPut();
  ASSERT_TRUE(store->Put(empty, nullptr, 0, false).ok());
  ASSERT_TRUE(store->Get(empty, &buf).ok());
  EXPECT_EQ(buf.size, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buf.data) % 64, 0u);
  ASSERT_TRUE(store->Release(empty).ok());
}

TEST(ObjectStoreBasic, SocketsAreExclusiveAndCleanedUp) {
  StoreConfig config = MakeConfig(1 << 20);
  {
    auto server = StartServer(config);
    EXPECT_TRUE(std::filesystem::exists(config.socket_path));
    std::unique_ptr<StoreServer> second;
    EXPECT_EQ(StoreServer::Start(config, &second).code(), StatusCode::kAlreadyExists);
  }
  EXPECT_FALSE(std::filesystem::exists(config.socket_path));

  StoreConfig bad = config;
  bad.socket_path = "/tmp/" + std::string(200, 'x');
  std::unique_ptr<StoreServer> server;
  EXPECT_EQ(StoreServer::Start(bad, &server).code(), StatusCode::kInvalid);
  bad = config;
  bad.label = "";
  EXPECT_EQ(StoreServer::Start(bad, &server).code(), StatusCode::kInvalid);
  EXPECT_FALSE(std::filesystem::exists(config.socket_path));
}

TEST(ObjectStoreBasic, ManyThreadsShareOneClient) {
  StoreConfig config = MakeConfig(16 << 20);
  auto server = StartServer(config);
  std::shared_ptr<ObjectStore> client;
  ASSERT_TRUE(ConnectToStore(config.socket_path, &client).ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const ObjectID id = ObjectID::ForPut();
        uint8_t value = static_cast<uint8_t>(t * 31 + i);
        ObjectBuffer buf;
        if (!client->Put(id, &value, 1, false).ok() || !client->Get(id, &buf).ok() ||
            buf.data[0] != value || !client->Release(id).ok() || !client->Delete(id).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(client->Stats().used_bytes, 0u);
}

TEST(Allocator, BestFitCoalescesAndAligns) {
  Allocator a(1 << 20);
  uint64_t x, y, z;
  ASSERT_TRUE(a.Allocate(1, &x));
  ASSERT_TRUE(a.Allocate(100, &y));
  ASSERT_TRUE(a.Allocate(64, &z));
  EXPECT_EQ(x % 64, 0u);
  EXPECT_EQ(y % 64, 0u);
  EXPECT_EQ(z % 64, 0u);
  EXPECT_EQ(a.used(), 64u + 128u + 64u);
  a.Free(y, 100);
  uint64_t w;
  ASSERT_TRUE(a.Allocate(128, &w));
  EXPECT_EQ(w, y) << "best fit reuses the exact hole";
  a.Free(x, 1);
  a.Free(w, 128);
  a.Free(z, 64);
  EXPECT_EQ(a.used(), 0u);
  EXPECT_EQ(a.largest_free_block(), 1u << 20) << "coalesced back to one block";
  EXPECT_FALSE(a.Allocate((1 << 20) + 1, &w));
}

}  // namespace
}  // namespace lumen::storage::testing
