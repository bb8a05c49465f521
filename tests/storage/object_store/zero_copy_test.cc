// Readers in other processes see a large object where it lies in shared
// memory: no copy, and no second 256 MiB of resident memory.
#include "store_test_util.h"

namespace lumen::storage::testing {
namespace {

constexpr size_t kObjectSize = 256ull << 20;

struct Memory {
  long rss_kb = 0, pss_kb = 0, anon_kb = 0;
};

Memory ParseMemory(const std::string& line) {
  auto w = Words(line);
  EXPECT_EQ(w.size(), 4u) << line;
  if (w.size() != 4) return {};
  return {std::stol(w[1]), std::stol(w[2]), std::stol(w[3])};
}

TEST(ObjectStoreZeroCopy, TwoReaderProcessesShareOneCopy) {
  StoreConfig config = MakeConfig(kObjectSize + (32ull << 20));
  auto server = StartServer(config);
  auto local = server->LocalClient();
  const ObjectID id = ObjectID::ForPut();
  uint8_t* data;
  ASSERT_TRUE(local->Create(id, kObjectSize, false, &data).ok());
  std::memset(data, 5, kObjectSize);
  data[kObjectSize - 1] = 6;
  ASSERT_TRUE(local->Seal(id).ok());
  const std::string expected =
      "ok " + std::to_string(kObjectSize) + " 1 " + std::to_string(5 * kObjectSize + 1);

  auto a = Shell::Client(config.socket_path, /*connect=*/false);
  auto b = Shell::Client(config.socket_path, /*connect=*/false);
  const Memory a0 = ParseMemory(a->Call("mem")), b0 = ParseMemory(b->Call("mem"));
  ASSERT_EQ(a->Call("connect"), "ok");
  ASSERT_EQ(b->Call("connect"), "ok");
  // "1": the bytes lie inside the reader's own mapping of the segment; the sum
  // proves it read all of them.
  EXPECT_EQ(a->Call("get " + Hex(id)), expected);
  EXPECT_EQ(b->Call("get " + Hex(id)), expected);
  const Memory a1 = ParseMemory(a->Call("mem")), b1 = ParseMemory(b->Call("mem"));

#ifdef __SANITIZE_THREAD__
  GTEST_SKIP() << "TSan's shadow memory for the mapping is anonymous memory: sizes are meaningless";
#endif
  // Rss counts a shared page in every process that maps it; Pss divides it
  // among them, so Pss is what adds up to real memory. A copy per reader
  // would be private anonymous memory: 2 x 256 MiB of Pss and Anonymous.
  const double object_kb = kObjectSize / 1024.0;
  const long pss_growth = (a1.pss_kb - a0.pss_kb) + (b1.pss_kb - b0.pss_kb);
  std::printf("readers: Rss growth %ld + %ld KiB, Pss growth %ld KiB total (%.2fx the object), "
              "Anonymous growth %ld + %ld KiB\n",
              a1.rss_kb - a0.rss_kb, b1.rss_kb - b0.rss_kb, pss_growth, pss_growth / object_kb,
              a1.anon_kb - a0.anon_kb, b1.anon_kb - b0.anon_kb);
  EXPECT_LT(pss_growth, 1.3 * object_kb);
  EXPECT_LT(a1.anon_kb - a0.anon_kb, 16 << 10);
  EXPECT_LT(b1.anon_kb - b0.anon_kb, 16 << 10);

  EXPECT_EQ(a->Call("release " + Hex(id)), "ok");
  EXPECT_EQ(b->Call("release " + Hex(id)), "ok");
}

}  // namespace
}  // namespace lumen::storage::testing
