// Every codec, alone and nested: values survive Encode -> WriteTo -> Decode,
// and every type has its own, stable name.

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>
#include <lumen/storage/codec.h>

#include "codec_test_util.h"

namespace lumen::codec {
namespace {

using testing::Random;
using testing::RoundTrip;
using testing::Rng;
using testing::Same;

struct Person {
  std::string name;
  int32_t age = 0;
  LUMEN_FIELDS(name, age);
  bool operator==(const Person&) const = default;
};

struct Team {
  std::string title;
  std::vector<Person> members;
  std::optional<Person> lead;
  std::map<std::string, std::vector<int64_t>> scores;
  LUMEN_FIELDS(title, members, lead, scores);
  bool operator==(const Team&) const = default;
};

// The macro may sit in a private section.
class Secret {
 public:
  Secret() = default;
  Secret(uint8_t a, std::string b) : a_(a), b_(std::move(b)) {}
  bool operator==(const Secret&) const = default;

 private:
  uint8_t a_ = 0;
  std::string b_;
  LUMEN_FIELDS(a_, b_);
};

struct Wide {
  int8_t f0 = 0;
  int16_t f1 = 0;
  int32_t f2 = 0;
  int64_t f3 = 0;
  uint8_t f4 = 0;
  uint16_t f5 = 0;
  uint32_t f6 = 0;
  uint64_t f7 = 0;
  float f8 = 0;
  double f9 = 0;
  bool f10 = false;
  char f11 = 0;
  std::string f12;
  std::vector<int32_t> f13;
  std::optional<double> f14;
  std::pair<int, std::string> f15;
  std::tuple<> f16;
  std::array<Person, 2> f17;
  LUMEN_FIELDS(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17);
  bool operator==(const Wide&) const = default;
};

struct Empty {
  LUMEN_FIELDS();
  bool operator==(const Empty&) const = default;
};

Person RandomStruct(Rng& rng, Person*) {
  return {testing::RandomString(rng), testing::RandomArithmetic<int32_t>(rng)};
}

Team RandomStruct(Rng& rng, Team*) {
  Team t;
  t.title = testing::RandomString(rng);
  t.members = Random<std::vector<Person>>(rng);
  t.lead = Random<std::optional<Person>>(rng);
  t.scores = Random<std::map<std::string, std::vector<int64_t>>>(rng);
  return t;
}

template <class T>
void CheckRandomRoundTrips(int count) {
  Rng rng(12345);
  for (int i = 0; i < count; ++i) {
    const T v = Random<T>(rng);
    const T back = RoundTrip(v);
    ASSERT_TRUE(Same(v, back)) << TypeName<T>() << " iteration " << i;
  }
}

TEST(CodecRoundTrip, Arithmetic) {
  CheckRandomRoundTrips<bool>(100);
  CheckRandomRoundTrips<char>(300);
  CheckRandomRoundTrips<signed char>(300);
  CheckRandomRoundTrips<unsigned char>(300);
  CheckRandomRoundTrips<int16_t>(300);
  CheckRandomRoundTrips<uint16_t>(300);
  CheckRandomRoundTrips<int32_t>(300);
  CheckRandomRoundTrips<uint32_t>(300);
  CheckRandomRoundTrips<int64_t>(300);
  CheckRandomRoundTrips<uint64_t>(300);
  CheckRandomRoundTrips<long long>(300);
  CheckRandomRoundTrips<unsigned long long>(300);
  CheckRandomRoundTrips<float>(1000);
  CheckRandomRoundTrips<double>(1000);
}

TEST(CodecRoundTrip, Extremes) {
  EXPECT_EQ(RoundTrip(std::numeric_limits<int64_t>::min()), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(RoundTrip(std::numeric_limits<uint64_t>::max()), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(RoundTrip(std::numeric_limits<int8_t>::min()), std::numeric_limits<int8_t>::min());
  EXPECT_TRUE(std::isinf(RoundTrip(-std::numeric_limits<double>::infinity())));
  EXPECT_EQ(RoundTrip(std::numeric_limits<double>::denorm_min()),
            std::numeric_limits<double>::denorm_min());
  // NaNs keep their payload and sign, bit for bit.
  const uint64_t nan_bits = 0xfff4'0000'0000'1234ull;  // negative signalling NaN
  double nan;
  std::memcpy(&nan, &nan_bits, 8);
  EXPECT_TRUE(Same(RoundTrip(nan), nan));
  const uint32_t nanf_bits = 0x7fc0'0042u;
  float nanf;
  std::memcpy(&nanf, &nanf_bits, 4);
  EXPECT_TRUE(Same(RoundTrip(nanf), nanf));
  EXPECT_TRUE(Same(RoundTrip(std::vector<double>{nan, -0.0}), std::vector<double>{nan, -0.0}));
  EXPECT_EQ(std::signbit(RoundTrip(-0.0)), true);
}

TEST(CodecRoundTrip, Strings) {
  CheckRandomRoundTrips<std::string>(500);
  EXPECT_EQ(RoundTrip(std::string()), "");
  const std::string with_nuls("a\0b\0\0c", 6);
  EXPECT_EQ(RoundTrip(with_nuls), with_nuls);
}

TEST(CodecRoundTrip, HugeStringsWithNuls) {
  Rng rng(7);
  for (size_t size : {size_t{10} << 20, (size_t{10} << 20) + 3}) {  // referenced, copied
    std::string s(size, '\0');
    for (size_t i = 0; i < s.size(); i += 97) s[i] = static_cast<char>(rng());
    EXPECT_EQ(RoundTrip(s), s) << size;
  }
}

TEST(CodecRoundTrip, Vectors) {
  CheckRandomRoundTrips<std::vector<bool>>(200);
  CheckRandomRoundTrips<std::vector<char>>(200);
  CheckRandomRoundTrips<std::vector<int8_t>>(200);
  CheckRandomRoundTrips<std::vector<uint16_t>>(200);
  CheckRandomRoundTrips<std::vector<int32_t>>(200);
  CheckRandomRoundTrips<std::vector<uint64_t>>(200);
  CheckRandomRoundTrips<std::vector<float>>(200);
  CheckRandomRoundTrips<std::vector<double>>(200);
  CheckRandomRoundTrips<std::vector<std::string>>(200);
  CheckRandomRoundTrips<std::vector<std::vector<int32_t>>>(200);
  CheckRandomRoundTrips<std::vector<std::vector<std::string>>>(100);
}

TEST(CodecRoundTrip, Arrays) {
  CheckRandomRoundTrips<std::array<int32_t, 5>>(200);
  CheckRandomRoundTrips<std::array<double, 3>>(200);
  CheckRandomRoundTrips<std::array<bool, 7>>(200);
  CheckRandomRoundTrips<std::array<std::string, 4>>(200);
  CheckRandomRoundTrips<std::array<std::array<uint8_t, 3>, 2>>(200);
  CheckRandomRoundTrips<std::array<int32_t, 0>>(10);
}

TEST(CodecRoundTrip, MapsPairsTuplesOptionals) {
  CheckRandomRoundTrips<std::map<int32_t, std::string>>(200);
  CheckRandomRoundTrips<std::map<std::string, double>>(200);
  CheckRandomRoundTrips<std::unordered_map<std::string, int64_t>>(200);
  CheckRandomRoundTrips<std::unordered_map<uint64_t, std::vector<float>>>(200);
  CheckRandomRoundTrips<std::pair<int32_t, std::string>>(200);
  CheckRandomRoundTrips<std::tuple<int, double, std::string>>(200);
  CheckRandomRoundTrips<std::tuple<>>(10);
  CheckRandomRoundTrips<std::optional<int32_t>>(200);
  CheckRandomRoundTrips<std::optional<std::optional<std::string>>>(200);
  EXPECT_EQ(RoundTrip(std::optional<std::optional<int>>(std::optional<int>())),
            std::optional<std::optional<int>>(std::optional<int>()));
}

TEST(CodecRoundTrip, DeeplyNested) {
  using Nested =
      std::map<std::string, std::vector<std::optional<std::tuple<int, double, std::string>>>>;
  CheckRandomRoundTrips<Nested>(200);
  CheckRandomRoundTrips<std::unordered_map<int32_t, std::map<std::string, std::pair<bool, std::vector<double>>>>>(100);
  CheckRandomRoundTrips<std::vector<std::map<std::string, std::array<std::optional<uint8_t>, 2>>>>(100);
}

// optional<optional<...>>: nested std::vectors would do, but their debug-info
// names double with each level (vector<X, allocator<X>>).
template <int Depth>
struct Deep {
  using type = std::optional<typename Deep<Depth - 1>::type>;
  static type Make() { return Deep<Depth - 1>::Make(); }
};
template <>
struct Deep<0> {
  using type = int32_t;
  static type Make() { return 42; }
};

TEST(CodecRoundTrip, SixtyLevelsDeep) {
  const auto v = Deep<60>::Make();
  EXPECT_TRUE(RoundTrip(v) == v);
  EXPECT_THROW(RoundTrip(Deep<70>::Make()), CodecError);  // past the documented limit
}

TEST(CodecRoundTrip, EmptyContainers) {
  EXPECT_TRUE(RoundTrip(std::vector<double>()).empty());
  EXPECT_TRUE(RoundTrip(std::vector<std::string>()).empty());
  EXPECT_TRUE(RoundTrip(std::vector<bool>()).empty());
  EXPECT_TRUE(RoundTrip(std::map<int, int>()).empty());
  EXPECT_TRUE(RoundTrip(std::unordered_map<std::string, int>()).empty());
  EXPECT_FALSE(RoundTrip(std::optional<std::vector<int>>()).has_value());
  EXPECT_TRUE(RoundTrip(std::optional<std::vector<int>>(std::vector<int>()))->empty());
  EXPECT_TRUE(RoundTrip(std::vector<std::vector<int>>(3)) == std::vector<std::vector<int>>(3));
}

TEST(CodecRoundTrip, UserStructs) {
  EXPECT_EQ(RoundTrip(Person{"Ada", 36}), (Person{"Ada", 36}));
  CheckRandomRoundTrips<Team>(200);
  CheckRandomRoundTrips<std::vector<Team>>(30);
  CheckRandomRoundTrips<std::map<std::string, Person>>(100);
  EXPECT_EQ(RoundTrip(Secret(7, "x")), Secret(7, "x"));
  EXPECT_EQ(RoundTrip(Empty{}), Empty{});

  Wide w;
  w.f0 = -1;
  w.f3 = std::numeric_limits<int64_t>::min();
  w.f7 = ~0ull;
  w.f8 = 1.5f;
  w.f10 = true;
  w.f11 = 'z';
  w.f12 = "twelve";
  w.f13 = {1, 2, 3};
  w.f14 = 14.0;
  w.f15 = {15, "fifteen"};
  w.f17 = {Person{"a", 1}, Person{"b", 2}};
  EXPECT_EQ(RoundTrip(w), w);
}

TEST(CodecTypeName, Scalars) {
  EXPECT_EQ(TypeName<bool>(), "bool");
  EXPECT_EQ(TypeName<char>(), "char");
  EXPECT_EQ(TypeName<int8_t>(), "i8");
  EXPECT_EQ(TypeName<uint8_t>(), "u8");
  EXPECT_EQ(TypeName<int16_t>(), "i16");
  EXPECT_EQ(TypeName<uint16_t>(), "u16");
  EXPECT_EQ(TypeName<int32_t>(), "i32");
  EXPECT_EQ(TypeName<uint32_t>(), "u32");
  EXPECT_EQ(TypeName<int64_t>(), "i64");
  EXPECT_EQ(TypeName<long long>(), "i64");
  EXPECT_EQ(TypeName<uint64_t>(), "u64");
  EXPECT_EQ(TypeName<float>(), "f32");
  EXPECT_EQ(TypeName<double>(), "f64");
  EXPECT_EQ(TypeName<std::string>(), "str");
}

TEST(CodecTypeName, Composites) {
  EXPECT_EQ(TypeName<std::vector<double>>(), "vector<f64>");
  EXPECT_EQ((TypeName<std::array<int32_t, 4>>()), "array<i32,4>");
  EXPECT_EQ((TypeName<std::map<std::string, std::vector<std::optional<std::tuple<int, double, std::string>>>>>()),
            "map<str,vector<optional<tuple<i32,f64,str>>>>");
  EXPECT_EQ((TypeName<std::unordered_map<uint8_t, bool>>()), "umap<u8,bool>");
  EXPECT_EQ((TypeName<std::pair<char, float>>()), "pair<char,f32>");
  EXPECT_EQ(TypeName<std::tuple<>>(), "tuple<>");
  EXPECT_EQ(TypeName<Person>(), "{name:str,age:i32}");
  EXPECT_EQ(TypeName<Team>(),
            "{title:str,members:vector<{name:str,age:i32}>,lead:optional<{name:str,age:i32}>,"
            "scores:map<str,vector<i64>>}");
  EXPECT_EQ(TypeName<Secret>(), "{a_:u8,b_:str}");
  EXPECT_EQ(TypeName<Empty>(), "{}");
}

TEST(CodecTypeName, StoredTypeNameReadsTheSignature) {
  auto buffer = testing::EncodeToBuffer(Team{});
  EXPECT_EQ(StoredTypeName(buffer.data(), buffer.size()), TypeName<Team>());
}

}  // namespace
}  // namespace lumen::codec
