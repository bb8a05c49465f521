// The format's limits, on both sides of each boundary: what Encode accepts,
// Decode reads; what Decode could not read, Encode refuses with an error that
// names the limit (it used to be stored and then fail as a "corrupt object").
#include <cstring>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <capnp/message.h>
#include <gtest/gtest.h>
#include <lumen/storage/codec.h>

#include "codec_test_util.h"
#include "test_point.capnp.h"

namespace lumen::codec {
namespace {

using testing::Buffer;

// N LUMEN_FIELDS structs inside one another around a leaf: N containers.
template <int N, class Leaf>
struct Deep {
  Deep<N - 1, Leaf> inner;
  LUMEN_FIELDS(inner);
};
template <class Leaf>
struct Deep<0, Leaf> {
  Leaf leaf{};
  LUMEN_FIELDS(leaf);  // itself a struct: one more container
};
template <int N, class Leaf>
using Containers = Deep<N - 1, Leaf>;

// N optionals around an int: N containers.
template <int N>
struct Optionals {
  using type = std::optional<typename Optionals<N - 1>::type>;
  static type Make() { return type(Optionals<N - 1>::Make()); }
};
template <>
struct Optionals<0> {
  using type = int;
  static type Make() { return 7; }
};

template <class T>
int Innermost(const T& v) {
  if constexpr (std::is_same_v<T, int>) {
    return v;
  } else {
    return v ? Innermost(*v) : -1;
  }
}

template <class T>
std::string EncodeError(const T& v) {
  try {
    Encode(v);
  } catch (const CodecError& e) {
    return e.what();
  }
  return "no error";
}

template <class T>
T RoundTrip(const T& v) {
  Encoded e = Encode(v);
  Buffer b(e.size());
  e.WriteTo(b.data());
  return Decode<T>(b.data(), b.size());
}

TEST(CodecLimits, ContainersNestAtMost63Deep) {
  static_assert(internal::kMaxDepth == 63);
  EXPECT_NO_THROW(RoundTrip(Containers<63, int>{}));
  EXPECT_NO_THROW(RoundTrip(Containers<63, std::string>{}));  // a blob at the bottom too
  EXPECT_EQ(Innermost(RoundTrip(Optionals<63>::Make())), 7);

  const std::string error = EncodeError(Containers<64, int>{});
  EXPECT_NE(error.find("nest 64 deep"), std::string::npos) << error;
  EXPECT_NE(error.find("at most 63"), std::string::npos) << error;
  EXPECT_NE(EncodeError(Optionals<64>::Make()).find("at most 63"), std::string::npos);
  // An empty optional opens no container: only what is written counts.
  EXPECT_FALSE(RoundTrip(Optionals<64>::type()).has_value());
}

// A Chain of n links: n structs inside one another.
Message<Chain> MakeChain(int n) {
  Message<Chain> m;
  Chain::Builder link = m.Mutable();
  for (int i = 1; i < n; ++i) {
    link.setValue(i);
    link = link.initNext();
  }
  return m;
}

int Length(Chain::Reader link) {
  int n = 1;
  while (link.hasNext()) {
    link = link.getNext();
    ++n;
  }
  return n;
}

// The deepest chain Encode accepts inside `Wrap`, checked to decode and view.
template <class Wrap>
int DeepestChain(Wrap wrap) {
  int accepted = 0;
  for (int n = 1; n <= internal::kNestingLimit; ++n) {
    auto value = wrap(MakeChain(n));
    if (EncodeError(value) != "no error") break;
    accepted = n;
  }
  // Accepted: reads back whole. One more link: refused, saying why.
  auto value = wrap(MakeChain(accepted));
  Encoded e = Encode(value);
  Buffer b(e.size());
  e.WriteTo(b.data());
  EXPECT_NO_THROW(Decode<decltype(value)>(b.data(), b.size())) << accepted << " links";
  const std::string error = EncodeError(wrap(MakeChain(accepted + 1)));
  EXPECT_NE(error.find("nests deeper than an object can be read back"), std::string::npos) << error;
  return accepted;
}

TEST(CodecLimits, CapnpStructsNestOnlyAsDeepAsTheContainersAroundThemLeave) {
  const int alone = DeepestChain([](Message<Chain> m) { return m; });
  EXPECT_GT(alone, 100);
  const int in_one = DeepestChain([](Message<Chain> m) { return std::vector<Message<Chain>>{m}; });
  EXPECT_EQ(in_one, alone - 2);  // a container costs two levels
  // A view reads the deepest accepted chain to its end.
  Encoded e = Encode(MakeChain(alone));
  Buffer b(e.size());
  e.WriteTo(b.data());
  EXPECT_EQ(Length(ViewStruct<Chain>(b.data(), b.size()).Get()), alone);
}

TEST(CodecLimits, ABlobHoldsAtMost2To29Minus1Bytes) {
  {
    const std::string too_long(internal::kMaxBlobBytes + 1, 'x');  // 512 MiB
    const std::string error = EncodeError(too_long);
    EXPECT_EQ(error.rfind("object too large: ", 0), 0u) << error;
    EXPECT_NE(error.find("2^29 - 1 bytes (512 MiB)"), std::string::npos) << error;
    EXPECT_NE(error.find(std::to_string(too_long.size()) + " bytes"), std::string::npos) << error;
    EXPECT_NE(error.find("split it"), std::string::npos) << error;
  }
  // The largest whole-word payload fits and reads back in place (not copied
  // by Encode, so the peak stays at two copies).
  std::vector<uint8_t> largest(internal::kMaxBlobBytes & ~size_t{7});
  largest.back() = 9;
  Encoded e = Encode(largest);
  Buffer b(e.size());
  e.WriteTo(b.data());
  std::span<const uint8_t> view = ViewSpan<uint8_t>(b.data(), b.size());
  EXPECT_EQ(view.size(), largest.size());
  EXPECT_EQ(view.back(), 9);
}

TEST(CodecLimits, AContainerHoldsAtMost178956970Values) {
  static_assert(internal::kMaxListElements == 178956970);
  // Empty tuples take a byte each here, and Encode refuses before building.
  const std::vector<std::tuple<>> too_many(internal::kMaxListElements + 1);
  const std::string error = EncodeError(too_many);
  EXPECT_EQ(error.rfind("object too large: ", 0), 0u) << error;
  EXPECT_NE(error.find("at most 178956970 elements"), std::string::npos) << error;
  EXPECT_NE(error.find("has 178956971"), std::string::npos) << error;
}

}  // namespace
}  // namespace lumen::codec
