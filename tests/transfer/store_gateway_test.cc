// The store gateway (transfer/store_gateway.h) against peers that stop
// halfway: a request half sent and then nothing, on a connection kept open,
// ends within the gateway's stall bound, logged, and frees what it held; and
// however many such peers there are, an honest one is still served.
#include "transfer/store_gateway.h"

#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "served_store.h"
#include "transfer/remote_store.h"

namespace lumen::internal {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::Framed;
using testing::Id;
using testing::kSecret;

class StoreGatewayTest : public ::testing::Test {
 protected:
  void Start(StoreGatewayOptions options) {
    served_.Start(dir_.path(), options);
    honest_ = std::make_unique<RemoteStore>(served_.entrance->address(), kSecret);
  }
  void TearDown() override {
    for (int fd : peers_) ::close(fd);
    honest_.reset();
  }
  // A tunnel to the gateway that sends `bytes` and then nothing, open.
  int Stalled(const std::string& bytes) {
    std::string why;
    int fd = OpenTunnel(served_.entrance->address(), kSecret, TunnelService::kStore, 5000, &why);
    EXPECT_GE(fd, 0) << why;
    if (fd < 0) return fd;
    peers_.push_back(fd);
    EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
    return fd;
  }
  // An honest peer's round trip, while the others stall.
  void ExpectHonestPeerServed(uint8_t n) {
    auto start = Clock::now();
    Status s = honest_->Put(Id(n), "honest", 6, false);
    EXPECT_TRUE(s.ok()) << s.message();
    storage::ObjectBuffer b;
    EXPECT_TRUE(honest_->Get(Id(n), &b).ok());
    if (b.data) (void)honest_->Release(Id(n));
    EXPECT_LT(Clock::now() - start, 5s);
  }

  storage::testing::TempDir dir_;
  testing::ServedStore served_;
  std::unique_ptr<RemoteStore> honest_;
  std::vector<int> peers_;
};

std::string GetRequest(uint8_t n) {
  return Framed([&](auto r) { r.setGet(gateway::IdBytes(Id(n))); });
}

TEST_F(StoreGatewayTest, AHalfSentRequestEndsWithinTheStallBound) {
  constexpr auto kBound = 300ms;
  Start({.stall_within = kBound});
  std::string request = GetRequest(1);
  ::testing::internal::CaptureStderr();
  auto start = Clock::now();
  int header = Stalled(request.substr(0, 2));                       // half the size
  int body = Stalled(request.substr(0, request.size() / 2 + 2));    // the size and half the message
  ExpectHonestPeerServed(2);
  EXPECT_TRUE(testing::EndsBefore(header, start + 10s));
  EXPECT_TRUE(testing::EndsBefore(body, start + 10s));
  auto took = Clock::now() - start;
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_GE(took, kBound);
  EXPECT_LT(took, 5s);
  EXPECT_NE(log.find("half sent"), std::string::npos) << log;
}

TEST_F(StoreGatewayTest, APutWhoseBytesStopHalfwayEndsWithinTheStallBound) {
  constexpr auto kBound = 300ms;
  Start({.stall_within = kBound});
  int fd = Stalled(Framed([&](auto r) {
    auto put = r.initPut();
    put.setId(gateway::IdBytes(Id(3)));
    put.setSize(1000);
  }));
  std::unique_ptr<capnp::FlatArrayMessageReader> reader;
  kj::Array<capnp::word> words;
  ASSERT_TRUE(gateway::ReadMessage(fd, &reader, &words, 5s).ok());  // room for it: send the bytes
  ASSERT_EQ(reader->getRoot<lumen::store_gateway::StoreReply>().getCode(), 0);
  std::string half(500, 'x');
  ASSERT_EQ(::send(fd, half.data(), half.size(), MSG_NOSIGNAL), 500);
  auto start = Clock::now();
  ExpectHonestPeerServed(4);
  EXPECT_TRUE(testing::EndsBefore(fd, start + 10s));
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_FALSE(served_.far->Contains(Id(3)));  // aborted, not sealed
}

// Only a cap on what one gateway serves at once keeps a flood of such peers
// from taking every thread; at the cap a newcomer ends the peer that has
// said nothing for longest (a half-sent request first), so none of them can
// hold the gateway's slots against an honest peer, even within the bound.
TEST_F(StoreGatewayTest, StalledPeersCannotCrowdOutAnHonestOne) {
  constexpr size_t kCap = 4;
  Start({.stall_within = 60s, .max_connections = kCap});  // a bound the test never reaches
  std::string request = GetRequest(5);
  std::vector<int> stalled;
  for (size_t i = 0; i < 2 * kCap; ++i) stalled.push_back(Stalled(request.substr(0, 3)));
  ExpectHonestPeerServed(6);
  // All but kCap - 1 of them (the honest peer holds a slot) were closed, long before the bound.
  auto deadline = Clock::now() + 10s;
  size_t ended = 0;
  for (int fd : stalled) ended += testing::EndsBefore(fd, std::min(deadline, Clock::now() + 1s));
  EXPECT_GE(ended, stalled.size() - (kCap - 1));
  ExpectHonestPeerServed(7);
}

// An honest peer whose idle connection was ended to make room notices at
// its next call and connects again, instead of failing that call.
TEST_F(StoreGatewayTest, AnIdlePeerEndedToMakeRoomIsServedOnItsNextCall) {
  Start({.stall_within = 60s, .max_connections = 1});
  ExpectHonestPeerServed(8);  // connected, now idle
  ::testing::internal::CaptureStderr();
  int fd = Stalled(GetRequest(9).substr(0, 3));  // takes the one slot from the idle peer
  auto deadline = Clock::now() + 10s;
  std::string log;
  while (log.find("(idle for") == std::string::npos && Clock::now() < deadline) {
    log += ::testing::internal::GetCapturedStderr();
    ::testing::internal::CaptureStderr();
    std::this_thread::sleep_for(5ms);  // the log line is the only sign the gateway gives
  }
  log += ::testing::internal::GetCapturedStderr();
  ASSERT_NE(log.find("(idle for"), std::string::npos) << log;
  ExpectHonestPeerServed(10);                          // and takes it back from the half-sent request
  EXPECT_TRUE(testing::EndsBefore(fd, Clock::now() + 5s));
}

}  // namespace
}  // namespace lumen::internal
