// 100,000 broken buffers: truncated, bit-flipped, with forged segment tables,
// random bytes, and well-formed objects whose value does not match their type
// name. Every decode either succeeds or throws CodecError; nothing else.

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <lumen/storage/codec.h>

#include "codec_test_util.h"
#include "test_point.capnp.h"

namespace lumen::codec {
namespace {

using testing::Buffer;
using testing::Rng;

struct Record {
  std::string name;
  std::vector<double> values;
  std::map<std::string, std::optional<int64_t>> tags;
  LUMEN_FIELDS(name, values, tags);
};

using Nested = std::map<std::string, std::vector<std::optional<std::tuple<int, double, std::string>>>>;

std::vector<uint8_t> Bytes(const Encoded& e) {
  Buffer b = testing::Write(e);
  return {b.data(), b.data() + b.size()};
}

// A well-formed object claiming type `type` around the value of another object.
std::vector<uint8_t> Forge(const std::string& type, const std::vector<uint8_t>& other) {
  Buffer aligned(other.size());
  std::memcpy(aligned.data(), other.data(), other.size());
  capnp::FlatArrayMessageReader source(
      kj::arrayPtr(reinterpret_cast<const capnp::word*>(aligned.data()), other.size() / 8));
  capnp::MallocMessageBuilder builder;
  auto root = builder.initRoot<schema::Object>();
  root.setType(type);
  root.setValue(source.getRoot<schema::Object>().getValue());
  auto words = capnp::messageToFlatArray(builder);
  auto bytes = words.asBytes();
  return {bytes.begin(), bytes.end()};
}

std::vector<std::vector<uint8_t>> Seeds() {
  Rng rng(99);
  std::vector<std::vector<uint8_t>> seeds;
  seeds.push_back(Bytes(Encode(int64_t{-5})));
  seeds.push_back(Bytes(Encode(std::string("some text\0with nul", 18))));
  seeds.push_back(Bytes(Encode(std::vector<double>{1, 2, 3, 4})));
  seeds.push_back(Bytes(Encode(std::array<int32_t, 3>{7, 8, 9})));
  seeds.push_back(Bytes(Encode(std::vector<std::string>{"a", "bb", "", "cccc"})));
  seeds.push_back(Bytes(Encode(testing::Random<Nested>(rng))));
  seeds.push_back(Bytes(Encode(Record{"r", {1.5, 2.5}, {{"k", 3}, {"n", std::nullopt}}})));
  Message<Point> p;
  p.Mutable().setLabel("pt");
  p.Mutable().initSamples(5);
  seeds.push_back(Bytes(Encode(p)));
  // Right type names around wrong values: only the value checks can catch these.
  const std::vector<std::vector<uint8_t>> originals = seeds;
  for (const std::string& type :
       {TypeName<int64_t>(), TypeName<std::string>(), TypeName<std::vector<double>>(),
        TypeName<std::array<int32_t, 3>>(), TypeName<std::vector<std::string>>(),
        TypeName<Nested>(), TypeName<Record>(), TypeName<Message<Point>>()}) {
    for (const auto& other : originals) seeds.push_back(Forge(type, other));
  }
  return seeds;
}

std::vector<uint8_t> Mutate(const std::vector<uint8_t>& seed, Rng& rng) {
  std::vector<uint8_t> b = seed;
  switch (rng() % 6) {
    case 0:  // truncate, usually to whole words
      b.resize(rng() % (b.size() + 1));
      if (rng() % 4 != 0) b.resize(b.size() / 8 * 8);
      break;
    case 1:  // flip a few bytes
    case 2:
      for (int i = 0, n = 1 + rng() % 8; i < n && !b.empty(); ++i) b[rng() % b.size()] ^= rng();
      break;
    case 3: {  // forge the segment table: counts and sizes, small or huge
      const uint32_t values[] = {0, 1, 2, 0xffffffffu, 0x7fffffffu, static_cast<uint32_t>(rng()),
                                 static_cast<uint32_t>(b.size() / 8), 511, 512};
      for (int i = 0, n = 1 + rng() % 3; i < n && b.size() >= 8; ++i) {
        const uint32_t v = values[rng() % std::size(values)];
        std::memcpy(b.data() + 4 * (rng() % std::min<size_t>(4, b.size() / 4)), &v, 4);
      }
      break;
    }
    case 4: {  // overwrite a word with a random pointer-like value
      if (b.size() >= 8) {
        const uint64_t v = rng();
        std::memcpy(b.data() + 8 * (rng() % (b.size() / 8)), &v, 8);
      }
      break;
    }
    default: {  // random bytes
      b.resize(8 * (rng() % 64));
      for (auto& c : b) c = static_cast<uint8_t>(rng());
      break;
    }
  }
  return b;
}

// Runs f; true if it decoded, false on CodecError. Anything else fails the test.
bool Try(const std::function<void()>& f) {
  try {
    f();
    return true;
  } catch (const CodecError&) {
    return false;
  }
}

TEST(CodecFuzz, BrokenBuffersGiveCodecErrors) {
  constexpr int kBuffers = 100000;
  const auto seeds = Seeds();
  Rng rng(2024);
  int decoded = 0;
  int failed = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kBuffers; ++i) {
    const std::vector<uint8_t> bytes = Mutate(seeds[rng() % seeds.size()], rng);
    Buffer b(bytes.size());
    if (!bytes.empty()) std::memcpy(b.data(), bytes.data(), bytes.size());
    // Odd iterations read from an unaligned copy, which Decode must copy again.
    Buffer shifted(bytes.size() + 8);
    const uint8_t* data = b.data();
    if (i % 2 == 1) {
      if (!bytes.empty()) std::memcpy(shifted.data() + 3, bytes.data(), bytes.size());
      data = shifted.data() + 3;
    }
    const size_t size = bytes.size();
    // Every buffer goes to StoredTypeName, to the decoder its type name asks for
    // (the deep path), and to one decoder picked at random (mostly mistyped).
    struct Decoder {
      std::string type;
      std::function<void()> decode;
    };
    const Decoder decoders[] = {
        {TypeName<int64_t>(), [&] { Decode<int64_t>(data, size); }},
        {TypeName<std::string>(), [&] { Decode<std::string>(data, size); }},
        {TypeName<std::vector<double>>(), [&] { Decode<std::vector<double>>(data, size); }},
        {TypeName<std::array<int32_t, 3>>(), [&] { Decode<std::array<int32_t, 3>>(data, size); }},
        {TypeName<std::vector<std::string>>(),
         [&] { Decode<std::vector<std::string>>(data, size); }},
        {TypeName<Nested>(), [&] { Decode<Nested>(data, size); }},
        {TypeName<Record>(), [&] { Decode<Record>(data, size); }},
        {TypeName<Message<Point>>(), [&] { Decode<Message<Point>>(data, size); }},
        {TypeName<std::vector<double>>(),
         [&] {
           auto span = ViewSpan<double>(b.data(), size);
           volatile double sink = 0;
           for (double d : span) sink = sink + d;
         }},
        {TypeName<Message<Point>>(),
         [&] {
           auto view = ViewStruct<Point>(b.data(), size);
           try {
             for (int32_t s : view->getSamples()) (void)s;
             (void)view->getLabel();
           } catch (const kj::Exception&) {
             // Reading a view's fields may throw kj::Exception (see StructView).
           }
         }},
    };
    std::string stored;
    if (Try([&] { stored = StoredTypeName(data, size); })) {
      for (const Decoder& d : decoders) {
        if (d.type == stored) (Try(d.decode) ? decoded : failed)++;
      }
    }
    (Try(decoders[rng() % std::size(decoders)].decode) ? decoded : failed)++;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("fuzz: %d buffers, %d decodes succeeded, %d gave CodecError, %.2f s\n", kBuffers,
              decoded, failed, seconds);
  EXPECT_GT(decoded, 0);
  EXPECT_GT(failed, 0);
}

}  // namespace
}  // namespace lumen::codec
