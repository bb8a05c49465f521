// ClientCore's requests and what it makes of the node's replies: Get, Wait,
// actor creation and lookup, and Put, over the fake link and a store in
// this process.
#include <gtest/gtest.h>

#include <string>
#include <typeinfo>

#include "fake_node_link.h"
#include "lumen/errors.h"

namespace testns {
struct Counter {};
}  // namespace testns

namespace lumen::internal::testing {
namespace {

// Far above the inline limit (100 KiB), far below the store's 4 MiB.
constexpr size_t kLargeBytes = 1u << 20;

GetReplyMsg GetReply(const Message& request, std::vector<Payload> payloads) {
  return GetReplyMsg{RequestOf(request), false, std::move(payloads), 0};
}

TEST_F(ClientCoreTest, GetSendsItsIdsAndTimeoutAndReturnsInlineValues) {
  ObjectID x = NewObject(), y = NewObject();
  link_.respond = [](const Message& request) -> Message {
    return GetReply(request, {InlinePayload("first"), InlinePayload("second")});
  };
  auto values = Batched().Get({x, y}, 250);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(DecodeString(values[0]), "first");
  EXPECT_EQ(DecodeString(values[1]), "second");
  auto gets = link_.SentOf<GetMsg>();
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0].ids, (std::vector<ObjectID>{x, y}));
  EXPECT_EQ(gets[0].timeout_ms, 250);
  EXPECT_EQ(link_.awaited, std::vector<uint64_t>{gets[0].request});
}

TEST_F(ClientCoreTest, EachRequestGetsANewNumber) {
  link_.respond = [](const Message& request) -> Message {
    if (std::holds_alternative<WaitMsg>(request)) return WaitReplyMsg{RequestOf(request), {true}};
    return GetReply(request, {InlinePayload("v")});
  };
  ObjectID x = NewObject();
  Batched().Get({x}, -1);
  Batched().Wait({x}, 1, -1);
  Batched().Get({x}, -1);
  ASSERT_EQ(link_.awaited.size(), 3u);
  EXPECT_LT(link_.awaited[0], link_.awaited[1]);
  EXPECT_LT(link_.awaited[1], link_.awaited[2]);
}

TEST_F(ClientCoreTest, GetTimeoutSaysHowManyObjectsWereNotReady) {
  link_.respond = [](const Message& request) -> Message {
    return GetReplyMsg{RequestOf(request), /*timed_out=*/true, {}, /*not_ready=*/2};
  };
  try {
    Batched().Get({NewObject(), NewObject(), NewObject()}, 50);
    FAIL() << "Get did not time out";
  } catch (const GetTimeoutError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("2 of 3 objects not ready"), std::string::npos) << what;
    EXPECT_NE(what.find("50 ms"), std::string::npos) << what;
  }
}

TEST_F(ClientCoreTest, GetAnsweredWithTheWrongNumberOfObjectsThrows) {
  link_.respond = [](const Message& request) -> Message { return GetReply(request, {InlinePayload("v")}); };
  EXPECT_THROW(Batched().Get({NewObject(), NewObject()}, -1), Error);
}

TEST_F(ClientCoreTest, GetRethrowsAnObjectsErrorAsItsPublicType) {
  link_.respond = [](const Message& request) -> Message {
    return GetReply(request, {InlinePayload("fine"), ErrorPayload(ErrorKind::kActorDied, "actor c died")});
  };
  try {
    Batched().Get({NewObject(), NewObject()}, -1);
    FAIL() << "Get returned a failed object";
  } catch (const ActorDiedError& e) {
    EXPECT_STREQ(e.what(), "actor c died");
  }
}

TEST_F(ClientCoreTest, GetReadsAStoredPayloadFromTheStoreAndPinsItWhileHeld) {
  const std::string big(kLargeBytes, 'z');
  ObjectID id = NewObject();
  Payload stored = Batched().Store(id, codec::Encode(big), {});
  ASSERT_EQ(stored.kind, Payload::kInStore);
  ASSERT_TRUE(store_.store()->Contains(id));
  link_.respond = [&](const Message& request) -> Message { return GetReply(request, {stored}); };
  {
    auto values = Batched().Get({id}, -1);
    ASSERT_EQ(values.size(), 1u);
    EXPECT_EQ(DecodeString(values[0]), big);
    EXPECT_GE(store_.store()->Stats().pinned_bytes, big.size());
  }
  EXPECT_EQ(store_.store()->Stats().pinned_bytes, 0u);  // released with the value
}

TEST_F(ClientCoreTest, GetOfAnObjectEvictedBeforeItIsReadAsksTheNodeAgain) {
  ObjectID x = NewObject(), evicted = NewObject();
  Payload gone;
  gone.kind = Payload::kInStore;  // the node saw it, the store no longer has it
  int calls = 0;
  link_.respond = [&](const Message& request) -> Message {
    if (++calls == 1) return GetReply(request, {InlinePayload("x"), gone});
    return GetReply(request, {InlinePayload("rebuilt")});
  };
  auto values = Batched().Get({x, evicted}, -1);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(DecodeString(values[0]), "x");
  EXPECT_EQ(DecodeString(values[1]), "rebuilt");
  auto gets = link_.SentOf<GetMsg>();
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_EQ(gets[1].ids, std::vector<ObjectID>{evicted});  // only the missing one
}

TEST_F(ClientCoreTest, GetGivesUpOnAnObjectThatStaysMissing) {
  Payload gone;
  gone.kind = Payload::kInStore;
  link_.respond = [&](const Message& request) -> Message { return GetReply(request, {gone}); };
  EXPECT_THROW(Batched().Get({NewObject()}, -1), ObjectLostError);
  // It asked again, backing off (not spinning), until its bound of a few seconds passed.
  EXPECT_GT(link_.SentOf<GetMsg>().size(), 10u);
  EXPECT_LT(link_.SentOf<GetMsg>().size(), 1000u);
}

TEST_F(ClientCoreTest, WaitSendsItsArgumentsAndReturnsTheReplysFlags) {
  ObjectID a = NewObject(), b = NewObject(), c = NewObject();
  link_.respond = [](const Message& request) -> Message {
    return WaitReplyMsg{RequestOf(request), {true, false, true}};
  };
  EXPECT_EQ(Batched().Wait({a, b, c}, 2, 100), (std::vector<bool>{true, false, true}));
  auto waits = link_.SentOf<WaitMsg>();
  ASSERT_EQ(waits.size(), 1u);
  EXPECT_EQ(waits[0].ids, (std::vector<ObjectID>{a, b, c}));
  EXPECT_EQ(waits[0].num_objects, 2);
  EXPECT_EQ(waits[0].timeout_ms, 100);
}

TEST_F(ClientCoreTest, WaitAnsweredWithTheWrongNumberOfFlagsThrows) {
  link_.respond = [](const Message& request) -> Message { return WaitReplyMsg{RequestOf(request), {true}}; };
  EXPECT_THROW(Batched().Wait({NewObject(), NewObject()}, 1, -1), Error);
}

TEST_F(ClientCoreTest, GetNamedActorReturnsTheActorFound) {
  ActorID actor = ActorID::Random();
  link_.respond = [&](const Message& request) -> Message { return LookupReplyMsg{RequestOf(request), true, actor}; };
  EXPECT_EQ(Batched().GetNamedActor("counter", "jobs"), actor);
  auto lookups = link_.SentOf<LookupActorMsg>();
  ASSERT_EQ(lookups.size(), 1u);
  EXPECT_EQ(lookups[0].name, "counter");
  EXPECT_EQ(lookups[0].ns, "jobs");
}

TEST_F(ClientCoreTest, GetNamedActorOfAnUnknownNameIsEmpty) {
  link_.respond = [](const Message& request) -> Message {
    return LookupReplyMsg{RequestOf(request), false, ActorID::Random()};
  };
  EXPECT_EQ(Batched().GetNamedActor("nobody", ""), std::nullopt);
}

TEST_F(ClientCoreTest, CreateActorReturnsTheIdItSentWithTheClassNameDemangled) {
  link_.respond = [](const Message& request) -> Message { return CreateActorReplyMsg{RequestOf(request), ""}; };
  TaskSpec factory;
  factory.function = "Counter::New";
  ActorOptions options;
  options.class_name = typeid(testns::Counter).name();
  options.name = "c";
  ActorID id = Batched().CreateActor(factory, options);
  auto creates = link_.SentOf<CreateActorMsg>();
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(creates[0].id, id);
  EXPECT_FALSE(id.IsNil());
  EXPECT_EQ(creates[0].options.class_name, "testns::Counter");
  EXPECT_EQ(creates[0].options.name, "c");
  EXPECT_EQ(creates[0].factory.function, "Counter::New");
}

TEST_F(ClientCoreTest, CreateActorRefusedByTheNodeThrowsItsError) {
  ObjectID arg = NewObject();
  link_.respond = [](const Message& request) -> Message {
    if (std::holds_alternative<GetMsg>(request)) return GetReply(request, {InlinePayload("ready")});
    return CreateActorReplyMsg{RequestOf(request), "the actor name 'c' is taken"};
  };
  TaskSpec factory;
  factory.function = "Counter::New";
  TaskArg by_ref;
  by_ref.by_ref = true;
  by_ref.ref = arg;
  by_ref.transfer_ref = true;
  factory.args = {by_ref};
  try {
    Batched().CreateActor(factory, ActorOptions{});
    FAIL() << "CreateActor did not throw";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "the actor name 'c' is taken");
  }
  // Its by-ref argument was waited for first, and its transferred reference is dropped.
  auto sent = link_.Sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(As<GetMsg>(sent[0]).ids, std::vector<ObjectID>{arg});
  EXPECT_TRUE(std::holds_alternative<CreateActorMsg>(sent[1]));
  Batched().FlushRefs();
  EXPECT_TRUE(IsRefs(link_.Sent().back(), Refs({}, {arg})));
}

TEST_F(ClientCoreTest, CreateActorWithInvalidOptionsThrowsAndSendsNothing) {
  TaskSpec factory;
  factory.function = "Counter::New";
  ActorOptions options;
  options.max_concurrency = 0;
  EXPECT_THROW(Batched().CreateActor(factory, options), Error);
  EXPECT_TRUE(link_.batches.empty());
}

TEST_F(ClientCoreTest, PutOfASmallValueSendsItInline) {
  ObjectID nested = NewObject();
  const std::string value = "hello";
  ObjectID id = Batched().Put(codec::Encode(value), {nested});
  auto puts = link_.SentOf<PutMsg>();
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].id, id);
  EXPECT_EQ(id.ReturnIndex(), 0u);
  ASSERT_EQ(puts[0].payload.kind, Payload::kInline);
  ASSERT_NE(puts[0].payload.bytes, nullptr);
  EXPECT_EQ(DecodeString({puts[0].payload.bytes->data(), puts[0].payload.bytes->size(), nullptr}), "hello");
  EXPECT_EQ(puts[0].payload.nested_refs, std::vector<ObjectID>{nested});
  EXPECT_FALSE(store_.store()->Contains(id));
}

TEST_F(ClientCoreTest, PutOfALargeValueGoesToTheStore) {
  const std::string big(kLargeBytes, 'q');
  ObjectID id = Batched().Put(codec::Encode(big), {});
  auto puts = link_.SentOf<PutMsg>();
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].payload.kind, Payload::kInStore);
  EXPECT_GE(puts[0].payload.size, kLargeBytes);
  EXPECT_TRUE(store_.store()->Contains(id));
}

TEST_F(ClientCoreTest, PutLargerThanTheStoreThrowsObjectStoreFullAndSendsNothing) {
  const std::string huge(8u << 20, 'h');  // the store holds 4 MiB
  EXPECT_THROW(Batched().Put(codec::Encode(huge), {}), ObjectStoreFullError);
  EXPECT_TRUE(link_.batches.empty());
}

}  // namespace
}  // namespace lumen::internal::testing
