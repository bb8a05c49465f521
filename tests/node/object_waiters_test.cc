// ObjectWaiters: a Get waits for all its objects, a Wait for num_objects of
// them; a request satisfied at once is never filed; each filed one comes
// back exactly once, when its objects complete or its deadline passes.
#include "node/object_waiters.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <vector>

namespace lumen::internal {
namespace {

using Clock = ObjectWaiters::Clock;
const Clock::time_point kNone = Clock::time_point::max();

std::vector<ObjectID> Ids(int n) {
  std::vector<ObjectID> ids;
  for (int i = 0; i < n; ++i) ids.push_back(ObjectID::ForPut());
  return ids;
}

// The objects not complete yet, as the node's directory would say.
struct Pending {
  std::set<ObjectID> ids;
  bool operator()(const ObjectID& id) const { return ids.contains(id); }
};

ObjectRequest Get(int client, uint64_t id, std::vector<ObjectID> ids, Clock::time_point deadline = kNone) {
  return {.client = client, .id = id, .is_wait = false, .ids = std::move(ids), .num_objects = 0, .deadline = deadline};
}

ObjectRequest Wait(int client, uint64_t id, std::vector<ObjectID> ids, int num_objects,
                   Clock::time_point deadline = kNone) {
  return {.client = client, .id = id, .is_wait = true, .ids = std::move(ids), .num_objects = num_objects,
          .deadline = deadline};
}

std::vector<uint64_t> RequestIds(const std::vector<ObjectRequest>& requests) {
  std::vector<uint64_t> ids;
  for (const ObjectRequest& r : requests) ids.push_back(r.id);
  return ids;
}

TEST(ObjectWaitersTest, GetOfCompleteObjectsComesBackAtOnce) {
  ObjectWaiters waiters;
  auto ids = Ids(2);
  auto now = waiters.Add(Get(3, 7, ids), Pending{});
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->client, 3);
  EXPECT_EQ(now->id, 7u);
  EXPECT_EQ(now->ids, ids);
  EXPECT_EQ(waiters.size(), 0u);
  EXPECT_EQ(waiters.NextDeadline(), kNone);  // nothing filed: no deadline either
}

TEST(ObjectWaitersTest, GetOfNothingIsSatisfiedAtOnce) {
  ObjectWaiters waiters;
  EXPECT_TRUE(waiters.Add(Get(1, 1, {}), Pending{}).has_value());
  EXPECT_EQ(waiters.size(), 0u);
}

TEST(ObjectWaitersTest, GetWaitsForEveryObject) {
  ObjectWaiters waiters;
  auto ids = Ids(3);
  Pending pending{{ids[0], ids[2]}};
  EXPECT_FALSE(waiters.Add(Get(1, 9, ids), pending).has_value());
  EXPECT_EQ(waiters.size(), 1u);
  EXPECT_TRUE(waiters.Completed(ids[2]).empty());
  EXPECT_TRUE(waiters.Completed(ids[1]).empty());  // complete before the Get: it was never waited for
  auto due = waiters.Completed(ids[0]);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].id, 9u);
  EXPECT_EQ(due[0].ids, ids);  // handed back whole, for the reply
  EXPECT_EQ(waiters.size(), 0u);
}

TEST(ObjectWaitersTest, WaitIsAnsweredOnceNumObjectsComplete) {
  ObjectWaiters waiters;
  auto ids = Ids(4);
  Pending pending{{ids.begin(), ids.end()}};
  EXPECT_FALSE(waiters.Add(Wait(1, 5, ids, 2), pending).has_value());
  EXPECT_TRUE(waiters.Completed(ids[3]).empty());
  EXPECT_EQ(RequestIds(waiters.Completed(ids[1])), std::vector<uint64_t>{5});
  // Answered once only: later completions find nothing.
  EXPECT_TRUE(waiters.Completed(ids[0]).empty());
  EXPECT_TRUE(waiters.Completed(ids[2]).empty());
  EXPECT_EQ(waiters.size(), 0u);
}

TEST(ObjectWaitersTest, WaitCountsObjectsCompleteAlready) {
  ObjectWaiters waiters;
  auto ids = Ids(3);
  // Two of three complete, two wanted: satisfied now.
  EXPECT_TRUE(waiters.Add(Wait(1, 1, ids, 2), Pending{{ids[0]}}).has_value());
  // One complete, two wanted: waits for one more, whichever.
  EXPECT_FALSE(waiters.Add(Wait(1, 2, ids, 2), Pending{{ids[0], ids[1]}}).has_value());
  EXPECT_EQ(RequestIds(waiters.Completed(ids[1])), std::vector<uint64_t>{2});
}

TEST(ObjectWaitersTest, WaitForNoObjectsIsSatisfiedAtOnce) {
  ObjectWaiters waiters;
  auto ids = Ids(2);
  EXPECT_TRUE(waiters.Add(Wait(1, 1, ids, 0), Pending{{ids.begin(), ids.end()}}).has_value());
  EXPECT_EQ(waiters.size(), 0u);
}

TEST(ObjectWaitersTest, RepeatedIdCountsEachTime) {
  ObjectWaiters waiters;
  auto ids = Ids(1);
  ObjectID x = ids[0];
  EXPECT_FALSE(waiters.Add(Wait(1, 1, {x, x}, 2), Pending{{x}}).has_value());
  EXPECT_FALSE(waiters.Add(Get(1, 2, {x, x}), Pending{{x}}).has_value());
  EXPECT_EQ(RequestIds(waiters.Completed(x)), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(waiters.size(), 0u);
}

TEST(ObjectWaitersTest, ManyWaitersOnOneObjectComeBackInFilingOrder) {
  ObjectWaiters waiters;
  auto ids = Ids(2);
  Pending pending{{ids.begin(), ids.end()}};
  std::vector<uint64_t> expected;
  for (uint64_t i = 1; i <= 100; ++i) {
    // Every third also needs the other object: it stays filed.
    std::vector<ObjectID> wants = i % 3 == 0 ? ids : std::vector<ObjectID>{ids[0]};
    EXPECT_FALSE(waiters.Add(Get(static_cast<int>(i % 4), i, wants), pending).has_value());
    if (i % 3 != 0) expected.push_back(i);
  }
  EXPECT_EQ(RequestIds(waiters.Completed(ids[0])), expected);
  EXPECT_EQ(waiters.size(), 33u);
  EXPECT_EQ(waiters.Completed(ids[1]).size(), 33u);
  EXPECT_EQ(waiters.size(), 0u);
}

TEST(ObjectWaitersTest, AFailedObjectEndsTheWaitLikeAReadyOne) {
  // The class is not told how an object completed: a failure satisfies the
  // Get, whose reply then carries the error (the node's PayloadOf).
  ObjectWaiters waiters;
  auto ids = Ids(1);
  EXPECT_FALSE(waiters.Add(Get(1, 1, ids), Pending{{ids[0]}}).has_value());
  EXPECT_EQ(waiters.Completed(ids[0]).size(), 1u);
}

TEST(ObjectWaitersTest, CompletingAnObjectNobodyWaitsForReturnsNothing) {
  ObjectWaiters waiters;
  EXPECT_TRUE(waiters.Completed(ObjectID::ForPut()).empty());
}

TEST(ObjectWaitersTest, TimeoutOfZeroExpiresAtTheNextCheck) {
  ObjectWaiters waiters;
  auto ids = Ids(1);
  Clock::time_point now = Clock::now();
  EXPECT_FALSE(waiters.Add(Wait(1, 4, ids, 1, now), Pending{{ids[0]}}).has_value());
  EXPECT_EQ(waiters.NextDeadline(), now);
  EXPECT_EQ(RequestIds(waiters.Expired(now)), std::vector<uint64_t>{4});
  EXPECT_EQ(waiters.NextDeadline(), kNone);
  EXPECT_TRUE(waiters.Completed(ids[0]).empty());  // timed out: not answered again
}

TEST(ObjectWaitersTest, TimeoutOfZeroOnReadyObjectsIsAnsweredAtOnce) {
  ObjectWaiters waiters;
  auto ids = Ids(1);
  EXPECT_TRUE(waiters.Add(Get(1, 1, ids, Clock::now()), Pending{}).has_value());
  EXPECT_EQ(waiters.NextDeadline(), kNone);
}

TEST(ObjectWaitersTest, NoTimeoutNeverExpires) {
  ObjectWaiters waiters;
  auto ids = Ids(1);
  EXPECT_FALSE(waiters.Add(Get(1, 1, ids), Pending{{ids[0]}}).has_value());
  EXPECT_EQ(waiters.NextDeadline(), kNone);
  EXPECT_TRUE(waiters.Expired(Clock::now() + std::chrono::hours(24 * 365)).empty());
  EXPECT_EQ(waiters.Completed(ids[0]).size(), 1u);
}

TEST(ObjectWaitersTest, ExpiresOnlyWhatIsDueSoonestFirst) {
  ObjectWaiters waiters;
  auto ids = Ids(1);
  Pending pending{{ids[0]}};
  Clock::time_point t0 = Clock::now();
  using std::chrono::milliseconds;
  EXPECT_FALSE(waiters.Add(Get(1, 30, ids, t0 + milliseconds(30)), pending).has_value());
  EXPECT_FALSE(waiters.Add(Get(1, 10, ids, t0 + milliseconds(10)), pending).has_value());
  EXPECT_FALSE(waiters.Add(Get(1, 20, ids, t0 + milliseconds(20)), pending).has_value());
  EXPECT_FALSE(waiters.Add(Get(1, 99, ids), pending).has_value());
  EXPECT_EQ(waiters.NextDeadline(), t0 + milliseconds(10));
  EXPECT_TRUE(waiters.Expired(t0 + milliseconds(5)).empty());
  EXPECT_EQ(RequestIds(waiters.Expired(t0 + milliseconds(25))), (std::vector<uint64_t>{10, 20}));
  EXPECT_EQ(waiters.NextDeadline(), t0 + milliseconds(30));
  // The object completes: the two left are answered, the one without a
  // deadline too, and nothing expires afterwards.
  EXPECT_EQ(RequestIds(waiters.Completed(ids[0])), (std::vector<uint64_t>{30, 99}));
  EXPECT_TRUE(waiters.Expired(t0 + milliseconds(60)).empty());
  EXPECT_EQ(waiters.NextDeadline(), kNone);
}

TEST(ObjectWaitersTest, AnsweredRequestsDeadlineStaysAsAnEarlyWakeOnly) {
  ObjectWaiters waiters;
  auto ids = Ids(1);
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(5);
  EXPECT_FALSE(waiters.Add(Get(1, 1, ids, deadline), Pending{{ids[0]}}).has_value());
  EXPECT_EQ(waiters.Completed(ids[0]).size(), 1u);
  EXPECT_EQ(waiters.NextDeadline(), deadline);  // the loop may wake for it...
  EXPECT_TRUE(waiters.Expired(deadline).empty());  // ...and finds nothing to answer
  EXPECT_EQ(waiters.NextDeadline(), kNone);
}

TEST(ObjectWaitersTest, DroppedClientsRequestsAreNeverAnswered) {
  ObjectWaiters waiters;
  auto ids = Ids(1);
  Clock::time_point soon = Clock::now();
  Pending pending{{ids[0]}};
  EXPECT_FALSE(waiters.Add(Get(1, 1, ids, soon), pending).has_value());
  EXPECT_FALSE(waiters.Add(Get(2, 2, ids, soon), pending).has_value());
  EXPECT_FALSE(waiters.Add(Wait(1, 3, ids, 1), pending).has_value());
  waiters.DropClient(1);
  EXPECT_EQ(waiters.size(), 1u);
  auto expired = waiters.Expired(soon);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].client, 2);
  EXPECT_TRUE(waiters.Completed(ids[0]).empty());
  EXPECT_EQ(waiters.size(), 0u);
}

TEST(ObjectWaitersTest, WaitForMoreThanItNamesOnlyEndsAtItsDeadline) {
  // As the node has always done: such a Wait cannot be satisfied (the
  // client checks num_objects first), so only its deadline answers it.
  ObjectWaiters waiters;
  auto ids = Ids(2);
  Clock::time_point deadline = Clock::now();
  EXPECT_FALSE(waiters.Add(Wait(1, 1, ids, 3, deadline), Pending{{ids[0]}}).has_value());
  EXPECT_TRUE(waiters.Completed(ids[0]).empty());
  EXPECT_EQ(waiters.Expired(deadline).size(), 1u);
}

}  // namespace
}  // namespace lumen::internal
