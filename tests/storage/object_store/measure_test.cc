// Figures for the design notes, measured in one run so they compare fairly:
// a tiny request over the store's socket against the machine's floor (a pipe
// ping-pong between the same two processes), and whole create+seal+get+release
// cycles from another process and through LocalClient.
#include "lumen/storage/store_benchmark.h"
#include "store_test_util.h"

namespace lumen::storage::testing {
namespace {

using std::chrono::steady_clock;

TEST(ObjectStoreMeasure, SocketRoundTripAgainstPipeAndLocal) {
  StoreConfig config = MakeConfig(64 << 20);
  auto server = StartServer(config);
  auto shell = Shell::Client(config.socket_path);
  constexpr int kRounds = 20000;

  // Pipe ping-pong: this process <-> the shell, one byte each way.
  ASSERT_EQ(shell->Call("pingpong " + std::to_string(kRounds)), "ok");
  const auto start = steady_clock::now();
  for (int i = 0; i < kRounds; ++i) {
    char c = 'x';
    shell->WriteAll(std::string(1, c));
    ASSERT_TRUE(shell->ReadBytes(&c, 1));
  }
  const double pipe_us =
      std::chrono::duration<double>(steady_clock::now() - start).count() / kRounds * 1e6;

  // The shell <-> the server's thread, a Contains request each way.
  auto rtt = Words(shell->Call("rtt " + std::to_string(kRounds)));
  ASSERT_EQ(rtt.size(), 2u);
  const double socket_us = std::stod(rtt[1]);

  auto cycles = Words(shell->Call("cycles 20000"));
  ASSERT_EQ(cycles.size(), 2u);
  ASSERT_EQ(cycles[0], "ok");
  const double remote_ops = std::stod(cycles[1]);

  auto local = server->LocalClient();
  std::vector<ObjectID> ids(200000);
  for (auto& id : ids) id = ObjectID::ForPut();
  const auto local_start = steady_clock::now();
  for (const ObjectID& id : ids) {
    uint8_t* data;
    ObjectBuffer buf;
    ASSERT_TRUE(local->Create(id, 64, true, &data).ok());
    std::memset(data, 1, 64);
    ASSERT_TRUE(local->Seal(id).ok());
    ASSERT_TRUE(local->Get(id, &buf).ok());
    ASSERT_TRUE(local->Release(id).ok());
  }
  const double local_ops =
      ids.size() / std::chrono::duration<double>(steady_clock::now() - local_start).count();

  std::printf("round trip: pipe ping-pong %.1f us, store socket request %.1f us\n", pipe_us, socket_us);
  std::printf("create+seal+get+release (64 B): other process %.0f/s, LocalClient %.0f/s\n",
              remote_ops, local_ops);
  EXPECT_GT(socket_us, 0);
  EXPECT_GT(remote_ops, 0);
}

TEST(ObjectStoreMeasure, BenchmarkRuns) {
  StoreBenchResult r = RunStoreBenchmark(1);
  std::printf("RunStoreBenchmark: %.0f small ops/s, put %.2f GB/s, memcpy %.2f GB/s\n",
              r.small_ops_per_s, r.put_gb_per_s, r.memcpy_gb_per_s);
  EXPECT_GT(r.small_ops_per_s, 0);
  EXPECT_GT(r.put_gb_per_s, 0);
  EXPECT_GT(r.memcpy_gb_per_s, 0);
}

}  // namespace
}  // namespace lumen::storage::testing
