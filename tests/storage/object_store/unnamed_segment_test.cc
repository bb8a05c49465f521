// The segment has no name anywhere: nothing of it is left once the processes
// that map it are gone, however they died. Clients get it over the socket,
// which only the server's user may reach.
#include <sys/stat.h>

#include <cstring>
#include <fstream>

#include "../../../storage/object_store/src/segment.h"
#include "store_test_util.h"

namespace lumen::storage::testing {
namespace {

// Entries of /dev/shm whose name mentions `label`.
std::vector<std::string> ShmEntriesNamed(const std::string& label) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    if (entry.path().filename().string().find(label) != std::string::npos) {
      found.push_back(entry.path());
    }
  }
  return found;
}

// Lines of this process's memory map that map the segment labelled `label`.
int MappingsOf(const std::string& label) {
  std::ifstream maps("/proc/self/maps");
  int n = 0;
  for (std::string line; std::getline(maps, line);) {
    if (line.find("/memfd:" + label + " ") != std::string::npos) ++n;
  }
  return n;
}

TEST(ObjectStoreUnnamedSegment, NothingOfTheStoreIsInDevShm) {
  StoreConfig config = MakeConfig(1 << 20);
  auto server = StartServer(config);
  std::shared_ptr<ObjectStore> client;
  ASSERT_TRUE(ConnectToStore(config.socket_path, &client).ok());
  ASSERT_TRUE(client->Put(ObjectID::ForPut(), "abc", 3, false).ok());
  EXPECT_EQ(ShmEntriesNamed(config.label), std::vector<std::string>{});
  EXPECT_EQ(MappingsOf(config.label), 2) << "the server's mapping and the client's";
}

TEST(ObjectStoreUnnamedSegment, KilledServerAndClientLeaveNothing) {
  StoreConfig config = MakeConfig(4 << 20);
  auto server = std::make_unique<Shell>(std::vector<std::string>{
      "--serve", config.label, config.socket_path, std::to_string(config.capacity_bytes),
      config.spill_dir});
  ASSERT_EQ(server->ReadLine(), "ok ready");
  auto shell = Shell::Client(config.socket_path);
  const ObjectID id = ObjectID::ForPut();
  ASSERT_EQ(shell->Call("put " + Hex(id) + " 1000 0 7"), "ok");
  std::shared_ptr<ObjectStore> client;
  ASSERT_TRUE(ConnectToStore(config.socket_path, &client).ok());
  ObjectBuffer held;
  ASSERT_TRUE(client->Get(id, &held).ok());

  shell->Kill();
  server->Kill();
  EXPECT_EQ(ShmEntriesNamed(config.label), std::vector<std::string>{});
  // The last mapping keeps the bytes readable, and takes the memory with it.
  EXPECT_EQ(held.data[0], 7);
  EXPECT_EQ(held.data[999], 7);
  EXPECT_EQ(MappingsOf(config.label), 1);
  client.reset();
  EXPECT_EQ(MappingsOf(config.label), 0);

  std::filesystem::remove(config.socket_path);  // a killed server cannot clean up
  std::filesystem::remove_all(config.spill_dir);
}

TEST(ObjectStoreUnnamedSegment, SocketIsOwnerOnlyWhateverTheUmask) {
  StoreConfig config = MakeConfig(1 << 20);
  const mode_t saved = umask(0);
  auto server = StartServer(config);
  umask(saved);
  ASSERT_TRUE(server);
  struct stat st;
  ASSERT_EQ(stat(config.socket_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(ObjectStoreUnnamedSegment, ItsSizeIsSealed) {
  std::unique_ptr<Segment> segment;
  ASSERT_TRUE(Segment::Create("lumen-test-sealed", 1 << 20, &segment).ok());
  // Shrinking would make the server fault on the lost pages; growing is
  // refused as well: the size every client was told stays true.
  EXPECT_NE(ftruncate(segment->fd(), 4096), 0);
  EXPECT_NE(ftruncate(segment->fd(), 2 << 20), 0);
  struct stat st;
  ASSERT_EQ(fstat(segment->fd(), &st), 0);
  EXPECT_EQ(st.st_size, 1 << 20);
  segment->base()[(1 << 20) - 1] = 1;  // still all there
}

}  // namespace
}  // namespace lumen::storage::testing
