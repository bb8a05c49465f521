// When the server goes away, clients get kDisconnected at once, never a hang.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <thread>

#include "../../support/thread_states.h"
#include "store_test_util.h"

namespace lumen::storage::testing {
namespace {

using std::chrono::steady_clock;

double SecondsSince(steady_clock::time_point start) {
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

// Every thread of `pid` stopped (SIGSTOP takes effect a moment after kill
// returns), within 5 s.
bool AwaitStopped(pid_t pid) {
  const auto deadline = steady_clock::now() + std::chrono::seconds(5);
  while (steady_clock::now() < deadline) {
    std::vector<char> states = lumen::testing::ThreadStates(pid);
    if (!states.empty() && std::all_of(states.begin(), states.end(), [](char s) { return s == 'T'; })) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// A store server in a process of its own, serving once this returns.
std::unique_ptr<Shell> ServeInAProcess(const StoreConfig& config) {
  auto server = std::make_unique<Shell>(std::vector<std::string>{
      "--serve", config.label, config.socket_path, std::to_string(config.capacity_bytes), config.spill_dir});
  EXPECT_EQ(server->ReadLine(), "ok ready");
  return server;
}

TEST(ObjectStoreDisconnect, ServerDestroyed) {
  StoreConfig config = MakeConfig(4 << 20);
  auto server = StartServer(config);
  auto local = server->LocalClient();
  std::shared_ptr<ObjectStore> client;
  ASSERT_TRUE(ConnectToStore(config.socket_path, &client).ok());
  auto shell = Shell::Client(config.socket_path);
  const ObjectID id = ObjectID::ForPut();
  ASSERT_TRUE(client->Put(id, "abc", 3, false).ok());
  ObjectBuffer held;
  ASSERT_TRUE(client->Get(id, &held).ok());
  ObjectBuffer local_held;
  ASSERT_TRUE(local->Get(id, &local_held).ok());

  server.reset();
  const auto start = steady_clock::now();
  ObjectBuffer buf;
  EXPECT_EQ(client->Get(id, &buf).code(), StatusCode::kDisconnected);
  EXPECT_EQ(client->Release(id).code(), StatusCode::kDisconnected);
  EXPECT_FALSE(client->Contains(id));
  EXPECT_TRUE(StartsWith(shell->Call("get " + Hex(id)), Err(StatusCode::kDisconnected)));
  EXPECT_EQ(local->Get(id, &buf).code(), StatusCode::kDisconnected);
  EXPECT_LT(SecondsSince(start), 10.0);  // noticed at once, not by the 60 s backstop
  // Mappings outlive the server: buffers already handed out stay readable.
  EXPECT_EQ(std::memcmp(held.data, "abc", 3), 0);
  EXPECT_EQ(std::memcmp(local_held.data, "abc", 3), 0);

  std::shared_ptr<ObjectStore> late;
  EXPECT_EQ(ConnectToStore(config.socket_path, &late).code(), StatusCode::kDisconnected);
}

TEST(ObjectStoreDisconnect, ServerProcessKilled) {
  StoreConfig config = MakeConfig(4 << 20);
  auto server_process = ServeInAProcess(config);
  Shell& server = *server_process;
  std::shared_ptr<ObjectStore> client;
  ASSERT_TRUE(ConnectToStore(config.socket_path, &client).ok());
  const ObjectID id = ObjectID::ForPut();
  ASSERT_TRUE(client->Put(id, "xyz", 3, false).ok());
  ASSERT_TRUE(client->Contains(id));

  server.Kill();
  const auto start = steady_clock::now();
  uint8_t* data;
  EXPECT_EQ(client->Create(ObjectID::ForPut(), 10, false, &data).code(), StatusCode::kDisconnected);
  EXPECT_EQ(client->Seal(id).code(), StatusCode::kDisconnected);
  EXPECT_LT(SecondsSince(start), 10.0);  // noticed at once, not by the 60 s backstop

  // A killed server cannot clean up; its successor must be able to.
  std::filesystem::remove(config.socket_path);
  std::filesystem::remove_all(config.spill_dir);
}

TEST(ObjectStoreDisconnect, DisconnectEndsACallWaitingOnAStoppedServer) {
  StoreConfig config = MakeConfig(4 << 20);
  auto server_process = ServeInAProcess(config);
  Shell& server = *server_process;
  std::shared_ptr<ObjectStore> client;
  ASSERT_TRUE(ConnectToStore(config.socket_path, &client).ok());
  ASSERT_EQ(kill(server.pid(), SIGSTOP), 0);  // alive, never answering: only the 60 s backstop would tell
  ASSERT_TRUE(AwaitStopped(server.pid()));
  std::promise<StatusCode> waited;
  std::thread caller([&] {
    uint8_t* data;
    waited.set_value(client->Create(ObjectID::ForPut(), 10, false, &data).code());
  });
  auto result = waited.get_future();
  EXPECT_EQ(result.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout) << "the stopped server answered";
  const auto start = steady_clock::now();
  client->Disconnect();
  EXPECT_EQ(result.get(), StatusCode::kDisconnected);
  caller.join();
  EXPECT_LT(SecondsSince(start), 10.0);
  EXPECT_FALSE(client->Contains(ObjectID::ForPut()));  // and every later call
  kill(server.pid(), SIGCONT);
  server.Kill();
  std::filesystem::remove(config.socket_path);
  std::filesystem::remove_all(config.spill_dir);
}

TEST(ObjectStoreDisconnect, StaleSocketIsReplaced) {
  StoreConfig config = MakeConfig(1 << 20);
  {
    Shell server({"--serve", config.label, config.socket_path,
                  std::to_string(config.capacity_bytes), config.spill_dir});
    ASSERT_EQ(server.ReadLine(), "ok ready");
    server.Kill();
  }
  ASSERT_TRUE(std::filesystem::exists(config.socket_path)) << "left behind by the killed server";
  auto server = StartServer(config);
  std::shared_ptr<ObjectStore> client;
  ASSERT_TRUE(ConnectToStore(config.socket_path, &client).ok());
  std::filesystem::remove_all(config.spill_dir);
}

}  // namespace
}  // namespace lumen::storage::testing
