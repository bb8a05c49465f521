// The placement-group frames a joined driver and its head exchange: a peer
// that sends a group id of the wrong size, a strategy, state or error kind
// out of range, is refused with ProtocolError, as every other frame is.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <functional>

#include "lumen/protocol/frames.capnp.h"
#include "sample_messages.h"

namespace lumen::internal::testing {
namespace {

// DecodeFrame of the frame `build` writes.
Message DecodeBuilt(const std::function<void(frames::Frame::Builder)>& build) {
  capnp::MallocMessageBuilder builder;
  build(builder.initRoot<frames::Frame>());
  kj::Array<capnp::word> words = capnp::messageToFlatArray(builder);
  return DecodeFrame(reinterpret_cast<const uint64_t*>(words.begin()), words.size());
}

const uint8_t kShortId[15] = {};

TEST(PlacementGroupFrames, GroupIdsOfTheWrongSizeAreRefused) {
  EXPECT_THROW(DecodeBuilt([](frames::Frame::Builder f) {
                 f.initRemovePlacementGroup().setId(capnp::Data::Reader(kShortId, sizeof kShortId));
               }),
               ProtocolError);
  EXPECT_THROW(DecodeBuilt([](frames::Frame::Builder f) {
                 f.initPlacementGroupQuery().setId(capnp::Data::Reader(kShortId, sizeof kShortId));
               }),
               ProtocolError);
  EXPECT_THROW(DecodeBuilt([](frames::Frame::Builder f) { f.initPlacementGroupReply().initGroups(1); }),
               ProtocolError);  // an empty id
  TaskID id = IdOf<TaskID>(7);
  Message ok = DecodeBuilt([&](frames::Frame::Builder f) {
    f.initPlacementGroupQuery().setId(capnp::Data::Reader(id.data(), TaskID::kSize));
  });
  EXPECT_EQ(std::get<PlacementGroupQueryMsg>(ok).id, id);
}

TEST(PlacementGroupFrames, StrategiesStatesAndErrorKindsOutOfRangeAreRefused) {
  EXPECT_THROW(DecodeBuilt([](frames::Frame::Builder f) {
                 f.initCreatePlacementGroup().setStrategy(static_cast<frames::PlacementStrategy>(4));
               }),
               ProtocolError);
  TaskID id = IdOf<TaskID>(8);
  auto reply_with = [&](uint16_t strategy, uint16_t state, uint8_t kind) {
    return [=](frames::Frame::Builder f) {
      auto reply = f.initPlacementGroupReply();
      reply.setErrorKind(kind);
      auto group = reply.initGroups(1)[0];
      group.setId(capnp::Data::Reader(id.data(), TaskID::kSize));
      group.setStrategy(static_cast<frames::PlacementStrategy>(strategy));
      group.setState(static_cast<frames::PlacementGroupState>(state));
    };
  };
  EXPECT_NO_THROW(DecodeBuilt(reply_with(3, 2, 9)));
  EXPECT_THROW(DecodeBuilt(reply_with(9, 0, 0)), ProtocolError);
  EXPECT_THROW(DecodeBuilt(reply_with(0, 3, 0)), ProtocolError);
  EXPECT_THROW(DecodeBuilt(reply_with(0, 0, 200)), ProtocolError);
}

// A reply the client waits for is matched by its request number.
TEST(PlacementGroupFrames, TheReplyAnswersItsRequest) {
  EXPECT_EQ(RequestAnswered(PlacementGroupReplyMsg{42, "", ErrorKind::kBadCall, {}}), 42u);
  EXPECT_EQ(RequestAnswered(PlacementGroupQueryMsg{43, PlacementGroupQueryMsg::kAll, TaskID(), ""}), 0u);
}

}  // namespace
}  // namespace lumen::internal::testing
