// Absurd sizes are refused with the size and the capacity named, and never
// wrap around: an object of 2^64 - 1 bytes once rounded up to 0 bytes and
// shared its offset with the next object.
#include <cstdint>
#include <limits>

#include "store_test_util.h"

namespace lumen::storage::testing {
namespace {

constexpr size_t kCapacity = 1 << 20;

TEST(ObjectStoreSizeLimits, SizesThatWouldOverflowAreTooLarge) {
  StoreConfig config = MakeConfig(kCapacity);
  auto server = StartServer(config);
  std::shared_ptr<ObjectStore> client;
  ASSERT_TRUE(ConnectToStore(config.socket_path, &client).ok());

  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  for (uint64_t size : {kMax, kMax - 62, kMax - 63, uint64_t{1} << 63, uint64_t{kCapacity} + 1}) {
    uint8_t* data = nullptr;
    Status s = client->Create(ObjectID::ForPut(), size, false, &data);
    EXPECT_EQ(s.code(), StatusCode::kObjectTooLarge) << size << ": " << s.ToString();
    EXPECT_NE(s.message().find(std::to_string(size) + " bytes"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("capacity of " + std::to_string(kCapacity)), std::string::npos)
        << s.message();
  }
  EXPECT_EQ(client->Stats().used_bytes, 0u);
  EXPECT_EQ(client->Stats().num_objects, 0u);

  // What was refused took nothing: two real objects get offsets of their own.
  const ObjectID a = ObjectID::ForPut(), b = ObjectID::ForPut();
  uint8_t *pa, *pb;
  ASSERT_TRUE(client->Create(a, 100, false, &pa).ok());
  ASSERT_TRUE(client->Create(b, 100, false, &pb).ok());
  EXPECT_GE(pb > pa ? pb - pa : pa - pb, 100);
  ASSERT_TRUE(client->Abort(a).ok());
  ASSERT_TRUE(client->Abort(b).ok());
}

TEST(ObjectStoreSizeLimits, AbsurdCapacityIsRefusedAtStart) {
  StoreConfig config = MakeConfig(std::numeric_limits<size_t>::max());
  std::unique_ptr<StoreServer> server;
  Status s = StoreServer::Start(config, &server);
  EXPECT_EQ(s.code(), StatusCode::kInvalid) << s.ToString();
  EXPECT_NE(s.message().find(std::to_string(config.capacity_bytes)), std::string::npos) << s.message();
  EXPECT_FALSE(std::filesystem::exists(config.socket_path));
}

}  // namespace
}  // namespace lumen::storage::testing
