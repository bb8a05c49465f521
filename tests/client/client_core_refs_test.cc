// ClientCore's reference changes and submissions: in batched mode they ride
// on the next message, additions before it and removals after it; at once,
// each goes by itself. Submit names its task and drops transferred refs.
#include <gtest/gtest.h>

#include "fake_node_link.h"
#include "lumen/errors.h"

namespace lumen::internal::testing {
namespace {

TaskSpec Task(const std::string& function) {
  TaskSpec spec;
  spec.function = function;
  return spec;
}

TaskArg ByRef(const ObjectID& id, bool transfer) {
  TaskArg arg;
  arg.by_ref = true;
  arg.ref = id;
  arg.transfer_ref = transfer;
  return arg;
}

TEST_F(ClientCoreTest, BatchedAddRefWaitsForTheNextMessageAndGoesBeforeIt) {
  ObjectID a = NewObject(), x = NewObject();
  Batched().AddRef(a);
  EXPECT_TRUE(link_.batches.empty());
  Batched().Cancel(x);
  ASSERT_EQ(link_.batches.size(), 1u);
  ASSERT_EQ(link_.batches[0].size(), 2u);
  EXPECT_TRUE(IsRefs(link_.batches[0][0], Refs({a}, {})));
  EXPECT_EQ(As<CancelMsg>(link_.batches[0][1]).id, x);
}

TEST_F(ClientCoreTest, BatchedRemoveRefWaitsForTheNextMessageAndGoesAfterIt) {
  ObjectID r = NewObject();
  ActorID actor = ActorID::Random();
  Batched().RemoveRef(r);
  EXPECT_TRUE(link_.batches.empty());
  Batched().KillActor(actor, /*no_restart=*/true);
  ASSERT_EQ(link_.batches.size(), 1u);
  ASSERT_EQ(link_.batches[0].size(), 2u);
  const auto& kill = As<KillActorMsg>(link_.batches[0][0]);
  EXPECT_EQ(kill.id, actor);
  EXPECT_TRUE(kill.no_restart);
  EXPECT_TRUE(IsRefs(link_.batches[0][1], Refs({}, {r})));
}

TEST_F(ClientCoreTest, BatchedChangesSurroundTheMessageInOneSend) {
  ObjectID a1 = NewObject(), a2 = NewObject(), r1 = NewObject(), r2 = NewObject(), x = NewObject();
  Batched().AddRef(a1);
  Batched().RemoveRef(r1);
  Batched().AddRef(a2);
  Batched().RemoveRef(r2);
  Batched().Cancel(x);
  ASSERT_EQ(link_.batches.size(), 1u);
  ASSERT_EQ(link_.batches[0].size(), 3u);
  EXPECT_TRUE(IsRefs(link_.batches[0][0], Refs({a1, a2}, {})));
  EXPECT_EQ(As<CancelMsg>(link_.batches[0][1]).id, x);
  EXPECT_TRUE(IsRefs(link_.batches[0][2], Refs({}, {r1, r2})));
  // Sent once: the next message goes alone.
  Batched().Cancel(x);
  ASSERT_EQ(link_.batches.size(), 2u);
  EXPECT_EQ(link_.batches[1].size(), 1u);
}

TEST_F(ClientCoreTest, MessageWithNothingPendingGoesAlone) {
  ObjectID x = NewObject();
  Batched().Cancel(x);
  ASSERT_EQ(link_.batches.size(), 1u);
  ASSERT_EQ(link_.batches[0].size(), 1u);
  EXPECT_EQ(As<CancelMsg>(link_.batches[0][0]).id, x);
}

TEST_F(ClientCoreTest, SendWithoutRemovalsAfterKeepsThemForALaterMessage) {
  ObjectID a = NewObject(), r = NewObject(), x = NewObject(), y = NewObject();
  Batched().AddRef(a);
  Batched().RemoveRef(r);
  Batched().Send(CancelMsg{x}, /*removals_after=*/false);
  ASSERT_EQ(link_.batches.size(), 1u);
  ASSERT_EQ(link_.batches[0].size(), 2u);
  EXPECT_TRUE(IsRefs(link_.batches[0][0], Refs({a}, {})));
  EXPECT_EQ(As<CancelMsg>(link_.batches[0][1]).id, x);

  Batched().Send(CancelMsg{y});
  ASSERT_EQ(link_.batches.size(), 2u);
  ASSERT_EQ(link_.batches[1].size(), 2u);
  EXPECT_EQ(As<CancelMsg>(link_.batches[1][0]).id, y);
  EXPECT_TRUE(IsRefs(link_.batches[1][1], Refs({}, {r})));
}

TEST_F(ClientCoreTest, SendWithoutRemovalsAfterAndOnlyRemovalsPendingSendsTheMessageAlone) {
  ObjectID r = NewObject(), x = NewObject();
  Batched().RemoveRef(r);
  Batched().Send(CancelMsg{x}, /*removals_after=*/false);
  ASSERT_EQ(link_.batches.size(), 1u);
  ASSERT_EQ(link_.batches[0].size(), 1u);
  EXPECT_EQ(As<CancelMsg>(link_.batches[0][0]).id, x);
  Batched().FlushRefs();
  ASSERT_EQ(link_.batches.size(), 2u);
  ASSERT_EQ(link_.batches[1].size(), 1u);
  EXPECT_TRUE(IsRefs(link_.batches[1][0], Refs({}, {r})));
}

TEST_F(ClientCoreTest, FlushRefsSendsPendingChangesAloneInOneMessage) {
  ObjectID a = NewObject(), r = NewObject();
  Batched().AddRef(a);
  Batched().RemoveRef(r);
  Batched().FlushRefs();
  ASSERT_EQ(link_.batches.size(), 1u);
  ASSERT_EQ(link_.batches[0].size(), 1u);
  EXPECT_TRUE(IsRefs(link_.batches[0][0], Refs({a}, {r})));
  Batched().FlushRefs();  // nothing left
  EXPECT_EQ(link_.batches.size(), 1u);
}

TEST_F(ClientCoreTest, FlushRefsWithNothingPendingSendsNothing) {
  Batched().FlushRefs();
  EXPECT_TRUE(link_.batches.empty());
}

TEST_F(ClientCoreTest, AtOnceSendsEachReferenceChangeByItself) {
  ObjectID a = NewObject(), r = NewObject(), x = NewObject();
  AtOnce().AddRef(a);
  ASSERT_EQ(link_.batches.size(), 1u);
  ASSERT_EQ(link_.batches[0].size(), 1u);
  EXPECT_TRUE(IsRefs(link_.batches[0][0], Refs({a}, {})));
  AtOnce().RemoveRef(r);
  ASSERT_EQ(link_.batches.size(), 2u);
  ASSERT_EQ(link_.batches[1].size(), 1u);
  EXPECT_TRUE(IsRefs(link_.batches[1][0], Refs({}, {r})));
  AtOnce().Cancel(x);  // nothing held to ride on it
  ASSERT_EQ(link_.batches.size(), 3u);
  EXPECT_EQ(link_.batches[2].size(), 1u);
  AtOnce().FlushRefs();
  EXPECT_EQ(link_.batches.size(), 3u);
}

TEST_F(ClientCoreTest, SubmitSendsTheTaskTheReturnedObjectNames) {
  TaskSpec spec = Task("f");
  spec.max_retries = 5;
  spec.resources = {{"CPU", 2}};
  link_.respond = [](const Message& request) -> Message { return SubmitReplyMsg{RequestOf(request), {}}; };
  ObjectID result = Batched().Submit(spec);
  ASSERT_EQ(link_.batches.size(), 1u);
  ASSERT_EQ(link_.batches[0].size(), 1u);
  const auto& submit = As<SubmitMsg>(link_.batches[0][0]);
  EXPECT_FALSE(submit.id.IsNil());
  EXPECT_EQ(result, ObjectID::ForTaskReturn(submit.id, 0));
  EXPECT_EQ(result.Task(), submit.id);
  EXPECT_EQ(result.ReturnIndex(), 0u);
  EXPECT_EQ(submit.spec.function, "f");
  EXPECT_EQ(submit.spec.name, "f");  // an unnamed task is named after its function
  EXPECT_EQ(submit.spec.max_retries, 5);
  EXPECT_EQ(submit.spec.resources, (std::map<std::string, double>{{"CPU", 2}}));
}

TEST_F(ClientCoreTest, SubmitKeepsAGivenNameAndNamesEachTaskAnew) {
  TaskSpec spec = Task("f");
  spec.name = "step-1";
  ObjectID first = Batched().Submit(spec);
  ObjectID second = Batched().Submit(spec);
  auto submits = link_.SentOf<SubmitMsg>();
  ASSERT_EQ(submits.size(), 2u);
  EXPECT_EQ(submits[0].spec.name, "step-1");
  EXPECT_NE(first, second);
  EXPECT_NE(submits[0].id, submits[1].id);
  EXPECT_EQ(second.Task(), submits[1].id);
}

TEST_F(ClientCoreTest, SubmitCarriesPendingAdditionsBeforeIt) {
  ObjectID a = NewObject();
  Batched().AddRef(a);
  Batched().Submit(Task("f"));
  ASSERT_EQ(link_.batches.size(), 1u);
  ASSERT_EQ(link_.batches[0].size(), 2u);
  EXPECT_TRUE(IsRefs(link_.batches[0][0], Refs({a}, {})));
  EXPECT_TRUE(std::holds_alternative<SubmitMsg>(link_.batches[0][1]));
}

TEST_F(ClientCoreTest, BatchedSubmitDropsATransferredArgumentAfterTheSubmit) {
  ObjectID transferred = NewObject(), kept = NewObject(), x = NewObject();
  TaskSpec spec = Task("f");
  spec.args = {ByRef(transferred, true), ByRef(kept, false)};
  Batched().Submit(spec);
  ASSERT_EQ(link_.batches.size(), 1u);
  ASSERT_EQ(link_.batches[0].size(), 1u);  // not dropped before the node has the task
  const auto& submit = As<SubmitMsg>(link_.batches[0][0]);
  ASSERT_EQ(submit.spec.args.size(), 2u);
  EXPECT_EQ(submit.spec.args[0].ref, transferred);
  Batched().Cancel(x);
  ASSERT_EQ(link_.batches.size(), 2u);
  ASSERT_EQ(link_.batches[1].size(), 2u);
  EXPECT_TRUE(IsRefs(link_.batches[1][1], Refs({}, {transferred})));  // only the transferred one
}

TEST_F(ClientCoreTest, AtOnceSubmitDropsATransferredArgumentRightAfterTheSubmit) {
  ObjectID transferred = NewObject();
  TaskSpec spec = Task("f");
  spec.args = {ByRef(transferred, true)};
  AtOnce().Submit(spec);
  ASSERT_EQ(link_.batches.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<SubmitMsg>(link_.batches[0].at(0)));
  ASSERT_EQ(link_.batches[1].size(), 1u);
  EXPECT_TRUE(IsRefs(link_.batches[1][0], Refs({}, {transferred})));
}

TEST_F(ClientCoreTest, SubmitOfAnInvalidTaskThrowsAndSendsNothing) {
  TaskSpec bad_retries = Task("f");
  bad_retries.max_retries = -2;
  EXPECT_THROW(Batched().Submit(bad_retries), Error);
  TaskSpec bad_resources = Task("f");
  bad_resources.resources = {{"CPU", -1}};
  EXPECT_THROW(Batched().Submit(bad_resources), Error);
  TaskSpec transferring = Task("f");
  transferring.args = {ByRef(NewObject(), true)};
  transferring.max_retries = -5;
  EXPECT_THROW(Batched().Submit(transferring), Error);
  Batched().FlushRefs();  // a refused submission keeps the caller's reference
  EXPECT_TRUE(link_.batches.empty());
}

// A task asking for resources waits for the node's answer the first time its
// demand is seen; after an acceptance the same demand goes without waiting.
TEST_F(ClientCoreTest, ANewDemandWaitsForTheNodeOnceThenGoesWithoutWaiting) {
  link_.respond = [](const Message& request) -> Message { return SubmitReplyMsg{RequestOf(request), {}}; };
  TaskSpec plain = Task("f");
  Batched().Submit(plain);
  EXPECT_EQ(std::get<SubmitMsg>(link_.Sent().back()).request, 0u);  // nothing beyond the default: no answer asked
  TaskSpec gpu = Task("f");
  gpu.resources = {{"GPU", 1}};
  Batched().Submit(gpu);
  EXPECT_NE(std::get<SubmitMsg>(link_.Sent().back()).request, 0u);
  EXPECT_EQ(link_.awaited.size(), 1u);
  Batched().Submit(gpu);
  EXPECT_EQ(std::get<SubmitMsg>(link_.Sent().back()).request, 0u);
  EXPECT_EQ(link_.awaited.size(), 1u);
  gpu.resources = {{"GPU", 2}};  // another demand: asked again
  Batched().Submit(gpu);
  EXPECT_EQ(link_.awaited.size(), 2u);
}

TEST_F(ClientCoreTest, ARefusedDemandThrowsAtSubmitAndIsAskedAgainNextTime) {
  link_.respond = [](const Message& request) -> Message {
    return SubmitReplyMsg{RequestOf(request), {ErrorKind::kInfeasible, "task 'f' asks for {GPU: 2}", ""}};
  };
  TaskSpec gpu = Task("f");
  gpu.resources = {{"GPU", 2}};
  gpu.args = {ByRef(NewObject(), true)};
  EXPECT_THROW(Batched().Submit(gpu), InfeasibleError);
  EXPECT_THROW(Batched().Submit(gpu), InfeasibleError);
  EXPECT_EQ(link_.awaited.size(), 2u);
  Batched().FlushRefs();
  EXPECT_TRUE(link_.SentOf<RefsMsg>().empty());  // a refused submission keeps the caller's reference
}

}  // namespace
}  // namespace lumen::internal::testing
