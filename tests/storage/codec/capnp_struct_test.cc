// A user's Cap'n Proto struct is stored as itself: encoded from Message<S> or
// S::Reader, decoded as Message<S>, viewed in place with ViewStruct<S>.

#include <capnp/message.h>
#include <gtest/gtest.h>
#include <lumen/storage/codec.h>

#include "codec_test_util.h"
#include "test_point.capnp.h"

namespace lumen::codec {
namespace {

Message<Point> MakePoint(double x, double y, const char* label, int samples) {
  Message<Point> p;
  p.Mutable().setX(x);
  p.Mutable().setY(y);
  p.Mutable().setLabel(label);
  auto list = p.Mutable().initSamples(samples);
  for (int i = 0; i < samples; ++i) list.set(i, (i % 1000) * (i % 1000));
  return p;
}

TEST(CodecCapnp, MessageRoundTrip) {
  const Message<Point> p = MakePoint(1.5, -2.5, "origin", 100);
  const Message<Point> back = testing::RoundTrip(p);
  EXPECT_EQ(back.Get().getX(), 1.5);
  EXPECT_EQ(back.Get().getY(), -2.5);
  EXPECT_EQ(std::string(back.Get().getLabel()), "origin");
  ASSERT_EQ(back.Get().getSamples().size(), 100u);
  EXPECT_EQ(back.Get().getSamples()[99], 99 * 99);
}

TEST(CodecCapnp, LargeStructsFitTheTraversalLimit) {
  const Message<Point> p = MakePoint(0, 0, "big", 1 << 20);
  const Message<Point> back = testing::RoundTrip(p);
  ASSERT_EQ(back.Get().getSamples().size(), 1u << 20);
  EXPECT_EQ(back.Get().getSamples()[1002], 4);
}

TEST(CodecCapnp, MessageIsAValue) {
  Message<Point> a = MakePoint(1, 2, "a", 1);
  Message<Point> b = a;  // deep copy
  b.Mutable().setX(10);
  EXPECT_EQ(a.Get().getX(), 1);
  EXPECT_EQ(b.Get().getX(), 10);
  a = b;
  EXPECT_EQ(a.Get().getX(), 10);
}

TEST(CodecCapnp, EncodeFromAReaderOfAnyMessage) {
  capnp::MallocMessageBuilder builder;
  auto line = builder.initRoot<Polyline>();
  line.setName("zigzag");
  auto points = line.initPoints(3);
  for (int i = 0; i < 3; ++i) points[i].setX(i);

  testing::Buffer buffer = testing::EncodeToBuffer(line.asReader());
  EXPECT_EQ(StoredTypeName(buffer.data(), buffer.size()), TypeName<Message<Polyline>>());
  auto back = Decode<Message<Polyline>>(buffer.data(), buffer.size());
  EXPECT_EQ(std::string(back.Get().getName()), "zigzag");
  EXPECT_EQ(back.Get().getPoints()[2].getX(), 2);
}

TEST(CodecCapnp, NestedInsideOtherValues) {
  std::vector<std::pair<std::string, Message<Point>>> v;
  v.emplace_back("p", MakePoint(3, 4, "x", 2));
  v.emplace_back("q", Message<Point>());
  auto back = testing::RoundTrip(v);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].second.Get().getY(), 4);
  EXPECT_EQ(back[1].second.Get().getLabel().size(), 0u);
}

TEST(CodecCapnp, ViewReadsInPlace) {
  testing::Buffer buffer = testing::EncodeToBuffer(MakePoint(5, 6, "view", 1000));
  StructView<Point> view = ViewStruct<Point>(buffer.data(), buffer.size());
  EXPECT_EQ(view->getX(), 5);
  auto label = view.Get().getLabel();
  EXPECT_EQ(std::string(label), "view");
  EXPECT_GE(reinterpret_cast<const uint8_t*>(label.begin()), buffer.data());
  EXPECT_LT(reinterpret_cast<const uint8_t*>(label.begin()), buffer.data() + buffer.size());

  // Repeated reads are not stopped by a traversal limit, and the view moves.
  StructView<Point> moved = std::move(view);
  int64_t sum = 0;
  for (int round = 0; round < 2000; ++round) {
    for (int32_t s : moved->getSamples()) sum += s;
  }
  EXPECT_EQ(sum, 2000 * int64_t{999} * 1000 * 1999 / 6);
}

TEST(CodecCapnp, TypeNamesAreSchemaIds) {
  EXPECT_EQ(TypeName<Message<Point>>(), "capnp@" + [] {
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx",
                  static_cast<unsigned long long>(capnp::typeId<Point>()));
    return std::string(buf);
  }());
  EXPECT_EQ(TypeName<Point::Reader>(), TypeName<Message<Point>>());
  EXPECT_NE(TypeName<Message<Point>>(), TypeName<Message<Polyline>>());
}

TEST(CodecCapnp, MismatchedStructsAreRejected) {
  testing::Buffer buffer = testing::EncodeToBuffer(MakePoint(1, 2, "p", 0));
  EXPECT_THROW(Decode<Message<Polyline>>(buffer.data(), buffer.size()), CodecError);
  EXPECT_THROW(ViewStruct<Polyline>(buffer.data(), buffer.size()), CodecError);
  testing::Buffer ints = testing::EncodeToBuffer(std::vector<int>{1, 2});
  EXPECT_THROW(ViewStruct<Point>(ints.data(), ints.size()), CodecError);
}

}  // namespace
}  // namespace lumen::codec
