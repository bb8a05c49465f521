// Large payloads are copied once, by WriteTo, and read in place by the views.

#include <chrono>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <lumen/storage/codec.h>

#include "codec_test_util.h"

namespace lumen::codec {
namespace {

using testing::Buffer;

bool Inside(const void* p, const Buffer& b) {
  auto* u = static_cast<const uint8_t*>(p);
  return u >= b.data() && u < b.data() + b.size();
}

TEST(CodecZeroCopy, SpanPointsIntoTheBuffer) {
  std::vector<double> v(1000);
  std::iota(v.begin(), v.end(), 0.5);
  Buffer b = testing::EncodeToBuffer(v);
  std::span<const double> span = ViewSpan<double>(b.data(), b.size());
  ASSERT_EQ(span.size(), v.size());
  EXPECT_TRUE(Inside(span.data(), b));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(span.data()) % 8, 0u);
  EXPECT_TRUE(std::equal(span.begin(), span.end(), v.begin()));

  Buffer a = testing::EncodeToBuffer(std::array<int16_t, 5>{1, -2, 3, -4, 5});
  std::span<const int16_t> a_span = ViewSpan<int16_t>(a.data(), a.size());
  ASSERT_EQ(a_span.size(), 5u);
  EXPECT_TRUE(Inside(a_span.data(), a));
  EXPECT_EQ(a_span[3], -4);

  Buffer empty = testing::EncodeToBuffer(std::vector<uint64_t>());
  EXPECT_TRUE(ViewSpan<uint64_t>(empty.data(), empty.size()).empty());
}

TEST(CodecZeroCopy, SmallPayloadsAreCopiedLargeOnesBorrowed) {
  std::vector<double> small(16, 1.0);
  std::vector<double> large(4096, 2.0);
  EXPECT_FALSE(Encode(small).borrows());
  EXPECT_TRUE(Encode(large).borrows());
  std::vector<int32_t> odd_size(4097, 3);  // not a multiple of 8 bytes: copied
  EXPECT_FALSE(Encode(odd_size).borrows());
  EXPECT_EQ(testing::RoundTrip(odd_size), odd_size);
}

TEST(CodecZeroCopy, SixtyFourMiBOfDoubles) {
  std::vector<double> v(size_t{64} << 20 >> 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i) * 0.25;

  auto t0 = std::chrono::steady_clock::now();
  Encoded e = Encode(v);
  auto t1 = std::chrono::steady_clock::now();
  EXPECT_TRUE(e.borrows());
  EXPECT_EQ(e.size() % 8, 0u);
  EXPECT_LT(e.size(), v.size() * 8 + 4096);
  Buffer b(e.size());
  std::memset(b.data(), 0, b.size());  // fault the pages in before timing
  auto t2 = std::chrono::steady_clock::now();
  e.WriteTo(b.data());
  auto t3 = std::chrono::steady_clock::now();
  Buffer plain(v.size() * 8);
  std::memset(plain.data(), 0, plain.size());
  auto t4 = std::chrono::steady_clock::now();
  std::memcpy(plain.data(), v.data(), plain.size());
  auto t5 = std::chrono::steady_clock::now();
  auto us = [](auto a, auto b) {
    return std::chrono::duration_cast<std::chrono::microseconds>(b - a).count();
  };
  std::printf("64 MiB vector<f64>: Encode %ld us, WriteTo %ld us, memcpy %ld us\n",
              static_cast<long>(us(t0, t1)), static_cast<long>(us(t2, t3)),
              static_cast<long>(us(t4, t5)));

  // The payload is in place, bit for bit, and a plain Cap'n Proto reader agrees.
  std::span<const double> span = ViewSpan<double>(b.data(), b.size());
  ASSERT_EQ(span.size(), v.size());
  EXPECT_TRUE(Inside(span.data(), b));
  EXPECT_EQ(std::memcmp(span.data(), v.data(), v.size() * 8), 0);
  capnp::ReaderOptions options;
  options.traversalLimitInWords = uint64_t{1} << 40;
  capnp::FlatArrayMessageReader reader(
      kj::arrayPtr(reinterpret_cast<const capnp::word*>(b.data()), b.size() / 8), options);
  auto object = reader.getRoot<schema::Object>();
  EXPECT_EQ(std::string(object.getType()), "vector<f64>");
  EXPECT_EQ(object.getValue().getBytes().size(), v.size() * 8);
  EXPECT_EQ(Decode<std::vector<double>>(b.data(), b.size()), v);
}

TEST(CodecZeroCopy, EncodingATemporaryKeepsItAlive) {
  Encoded e = Encode(std::vector<double>(1 << 16, 1.25));
  EXPECT_TRUE(e.borrows());
  // The vector is gone from the caller's hands; the Encoded still owns it.
  Buffer b = testing::Write(e);
  EXPECT_EQ(Decode<std::vector<double>>(b.data(), b.size()), std::vector<double>(1 << 16, 1.25));
}

TEST(CodecZeroCopy, ManyLargePayloadsInOneObject) {
  // More large payloads than one message references: the rest are copied.
  std::vector<std::vector<uint64_t>> rows(300, std::vector<uint64_t>(2048));
  for (size_t r = 0; r < rows.size(); ++r) std::iota(rows[r].begin(), rows[r].end(), r << 20);
  std::map<std::string, std::string> blobs;
  for (int i = 0; i < 10; ++i) blobs[std::to_string(i)] = std::string(16384 + i, char('a' + i));
  auto value = std::make_pair(rows, blobs);
  EXPECT_EQ(testing::RoundTrip(value), value);
}

TEST(CodecZeroCopy, SmallPutsAreCheap) {
  constexpr int kCount = 200000;
  Buffer b(256);
  size_t total = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kCount; ++i) {
    Encoded e = Encode(i);
    total += e.size();
    e.WriteTo(b.data());
  }
  auto t1 = std::chrono::steady_clock::now();
  int64_t sum = 0;
  for (int i = 0; i < kCount; ++i) sum += Decode<int>(b.data(), b.size());
  auto t2 = std::chrono::steady_clock::now();
  auto ns = [](auto a, auto b) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count() / kCount;
  };
  std::printf("int: Encode+WriteTo %ld ns, Decode %ld ns, %zu bytes\n",
              static_cast<long>(ns(t0, t1)), static_cast<long>(ns(t1, t2)), total / kCount);
  EXPECT_EQ(sum, int64_t{kCount - 1} * kCount);
}

}  // namespace
}  // namespace lumen::codec
