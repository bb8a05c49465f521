// A node's store served to another host (transfer/store_gateway.h) and used
// there as a store (transfer/remote_store.h), through a real tunnel on the
// loopback: objects cross both ways intact in chunks, errors come back as
// the store said them, a malformed request ends only its connection, and a
// store that is gone fails every call at once instead of waiting.
#include "transfer/remote_store.h"

#include <unistd.h>

#include <cstring>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "served_store.h"
#include "slow_link.h"
#include "transfer/object_transfer.h"

namespace lumen::internal {
namespace {

using namespace std::chrono_literals;
using testing::Id;
using testing::kSecret;

class RemoteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    served_.Start(dir_.path());
    far_ = served_.far;
    entrance_ = served_.entrance.get();
    ASSERT_TRUE(ConnectToAnyStore(entrance_->address(), kSecret, &remote_).ok());
  }
  void TearDown() override { remote_.reset(); }

  storage::testing::TempDir dir_;
  testing::ServedStore served_;
  std::shared_ptr<storage::ObjectStore> far_, remote_;
  TunnelEntrance* entrance_ = nullptr;
};

TEST_F(RemoteStoreTest, ObjectsCrossBothWaysIntact) {
  // Here to there: 5 MiB and a bit (several chunks, one partial).
  std::vector<uint8_t> bytes((5 << 20) + 123);
  std::iota(bytes.begin(), bytes.end(), uint8_t{1});
  ASSERT_TRUE(remote_->Put(Id(1), bytes.data(), bytes.size(), /*reconstructable=*/true).ok());
  EXPECT_TRUE(far_->Contains(Id(1)));
  EXPECT_TRUE(remote_->Contains(Id(1)));
  storage::ObjectBuffer there;
  ASSERT_TRUE(far_->Get(Id(1), &there).ok());
  ASSERT_EQ(there.size, bytes.size());
  EXPECT_EQ(std::memcmp(there.data, bytes.data(), bytes.size()), 0);
  (void)far_->Release(Id(1));
  // There to here, pinned twice, released twice.
  storage::ObjectBuffer here, again;
  ASSERT_TRUE(remote_->Get(Id(1), &here).ok());
  ASSERT_TRUE(remote_->Get(Id(1), &again).ok());
  EXPECT_EQ(here.data, again.data);
  ASSERT_EQ(here.size, bytes.size());
  EXPECT_EQ(std::memcmp(here.data, bytes.data(), bytes.size()), 0);
  EXPECT_TRUE(remote_->Release(Id(1)).ok());
  EXPECT_TRUE(remote_->Release(Id(1)).ok());
  EXPECT_FALSE(remote_->Release(Id(1)).ok());
  // An empty object, and one put twice (immutable: the second is a no-op).
  ASSERT_TRUE(remote_->Put(Id(2), nullptr, 0, false).ok());
  EXPECT_TRUE(far_->Contains(Id(2)));
  EXPECT_TRUE(remote_->Put(Id(1), bytes.data(), bytes.size(), true).ok());
  EXPECT_GE(remote_->Stats().num_objects, 2u);
  EXPECT_EQ(remote_->Stats().capacity_bytes, far_->Stats().capacity_bytes);
}

TEST_F(RemoteStoreTest, TheStoresErrorsComeBackAsItSaidThem) {
  storage::ObjectBuffer b;
  Status s = remote_->Get(Id(9), &b);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.message();
  std::vector<uint8_t> huge(size_t{80} << 20);  // larger than the whole store
  s = remote_->Put(Id(3), huge.data(), huge.size(), false);
  EXPECT_EQ(s.code(), StatusCode::kObjectTooLarge) << s.message();
  EXPECT_FALSE(far_->Contains(Id(3)));
  EXPECT_TRUE(remote_->Put(Id(4), "ok", 2, false).ok());  // the connection still serves
  EXPECT_TRUE(remote_->Delete(Id(4)).ok());
  EXPECT_FALSE(far_->Contains(Id(4)));
}

TEST_F(RemoteStoreTest, TheObjectTransferCopiesAcrossHosts) {
  std::string here_socket = dir_.path() + "/here.sock";
  storage::StoreConfig config;
  config.label = "remote-store-test-here";
  config.socket_path = here_socket;
  config.capacity_bytes = size_t{16} << 20;
  config.spill_dir = dir_.path() + "/spill-here";
  std::unique_ptr<storage::StoreServer> here_server;
  ASSERT_TRUE(storage::StoreServer::Start(config, &here_server).ok());
  auto here = here_server->LocalClient();
  std::vector<uint8_t> bytes(3 << 20, 0x5a);
  ASSERT_TRUE(here->Put(Id(5), bytes.data(), bytes.size(), true).ok());
  uint64_t size = 0;
  ASSERT_TRUE(ObjectTransfer::CopyNow(*here, *remote_, Id(5), true, &size).ok());  // push
  EXPECT_EQ(size, bytes.size());
  ASSERT_TRUE(far_->Put(Id(6), bytes.data(), 1000, false).ok());
  ASSERT_TRUE(ObjectTransfer::CopyNow(*remote_, *here, Id(6), false, &size).ok());  // pull
  EXPECT_EQ(size, 1000u);
  EXPECT_TRUE(here->Contains(Id(6)));
}

TEST_F(RemoteStoreTest, AMalformedRequestEndsOnlyItsConnection) {
  std::string why;
  int fd = OpenTunnel(entrance_->address(), kSecret, TunnelService::kStore, 5000, &why);
  ASSERT_GE(fd, 0) << why;
  const char junk[] = "\x10\x00\x00\x00garbage garbage!";  // a size that frames words that are not a message
  ASSERT_EQ(::write(fd, junk, sizeof junk - 1), static_cast<ssize_t>(sizeof junk - 1));
  char c;
  EXPECT_EQ(::read(fd, &c, 1), 0);  // closed by the gateway
  ::close(fd);
  EXPECT_TRUE(remote_->Put(Id(7), "still", 5, false).ok());
}

// A put over a link that is slow but moves: its bytes leave this host at
// once (into the buffers along the path) and take longer than the patience
// to arrive. The wait for the reply lasts as long as the far end reports
// progress, as the bound of every other wait does.
TEST_F(RemoteStoreTest, APutOverASlowLinkThatMovesIsNotCut) {
  constexpr auto kPatience = 500ms;
  testing::SlowLink link(entrance_->port(), 8 << 20);  // a MiB every 125 ms, 12 MiB in 1.5 s
  RemoteStore slow(TlsAddress("127.0.0.1", link.port()), kSecret, kPatience);
  std::vector<uint8_t> bytes(12 << 20, 0x3c);
  auto start = std::chrono::steady_clock::now();
  Status s = slow.Put(Id(11), bytes.data(), bytes.size(), /*reconstructable=*/false);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_GT(std::chrono::steady_clock::now() - start, 2 * kPatience);  // it did outlast the patience
  EXPECT_TRUE(far_->Contains(Id(11)));
}

// The same link stalled mid-put: the put fails within about the patience.
TEST_F(RemoteStoreTest, APutOverALinkThatStallsFailsWithinThePatience) {
  testing::SlowLink link(entrance_->port(), 8 << 20);
  RemoteStore slow(TlsAddress("127.0.0.1", link.port()), kSecret, 300ms);
  ASSERT_TRUE(slow.Put(Id(12), "x", 1, false).ok());  // connected, and served
  link.Pause();
  std::vector<uint8_t> bytes(4 << 20, 0x3c);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(slow.Put(Id(13), bytes.data(), bytes.size(), false).code(), StatusCode::kTimedOut);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(RemoteStoreTest, AStoreThatIsGoneFailsEveryCallAtOnce) {
  ASSERT_TRUE(remote_->Put(Id(8), "x", 1, false).ok());
  remote_->Disconnect();
  storage::ObjectBuffer b;
  EXPECT_EQ(remote_->Get(Id(8), &b).code(), StatusCode::kDisconnected);
  EXPECT_EQ(remote_->Put(Id(10), "y", 1, false).code(), StatusCode::kDisconnected);
  EXPECT_FALSE(remote_->Contains(Id(8)));
  // Nobody listening: a clear error, not a wait.
  std::shared_ptr<storage::ObjectStore> nowhere;
  std::string address = entrance_->address();
  served_.entrance.reset();
  ASSERT_TRUE(ConnectToAnyStore(address, kSecret, &nowhere).ok());
  Status s = nowhere->Get(Id(8), &b);
  EXPECT_EQ(s.code(), StatusCode::kDisconnected);
  EXPECT_NE(s.message().find("cannot reach"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace lumen::internal
