// ReadyQueue: deeper tasks first, then by resource shape, each bucket in
// submission order; ForEachBucket pops from bucket fronts and keeps size().
#include "node/ready_queue.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace lumen::internal {
namespace {

const ResourceShape kCpu{{"CPU", 1}};
const ResourceShape kGpu{{"CPU", 1}, {"GPU", 1}};

std::vector<TaskID> Ids(int n) {
  std::vector<TaskID> ids;
  for (int i = 0; i < n; ++i) ids.push_back(TaskID::Random());
  return ids;
}

// Every bucket visited, as (shape, tasks in it), without popping anything.
std::vector<std::pair<ResourceShape, std::vector<TaskID>>> Buckets(ReadyQueue& q) {
  std::vector<std::pair<ResourceShape, std::vector<TaskID>>> out;
  q.ForEachBucket([&](const Demand& demand, std::deque<TaskID>& ids) {
    out.emplace_back(demand.shape, std::vector<TaskID>(ids.begin(), ids.end()));
    return size_t{0};
  });
  return out;
}

TEST(ReadyQueueTest, StartsEmpty) {
  ReadyQueue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_TRUE(q.TakeAll().empty());
  EXPECT_TRUE(Buckets(q).empty());
}

TEST(ReadyQueueTest, KeepsSubmissionOrderWithinOneBucket) {
  ReadyQueue q;
  auto ids = Ids(5);
  for (const TaskID& id : ids) q.PushBack(id, 0, kCpu);
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.size(), 5u);
  EXPECT_EQ(q.TakeAll(), ids);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
}

TEST(ReadyQueueTest, DeeperTasksComeBeforeShallowerOnes) {
  ReadyQueue q;
  auto ids = Ids(4);
  q.PushBack(ids[0], 0, kCpu);
  q.PushBack(ids[1], 2, kCpu);
  q.PushBack(ids[2], 1, kCpu);
  q.PushBack(ids[3], 2, kCpu);
  EXPECT_EQ(q.TakeAll(), (std::vector<TaskID>{ids[1], ids[3], ids[2], ids[0]}));
}

TEST(ReadyQueueTest, DepthOutranksShapeAndArrivalOrder) {
  ReadyQueue q;
  auto ids = Ids(3);
  q.PushBack(ids[0], 0, kCpu);
  q.PushBack(ids[1], 0, kGpu);
  q.PushBack(ids[2], 3, kGpu);  // last in, but deepest
  auto all = q.TakeAll();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0], ids[2]);
}

TEST(ReadyQueueTest, TasksOfTwoJobsNeverShareABucket) {
  ReadyQueue q;
  auto ids = Ids(3);
  q.PushBack(ids[0], 0, kCpu, /*job=*/1);
  q.PushBack(ids[1], 0, kCpu, /*job=*/2);
  q.PushBack(ids[2], 0, kCpu, /*job=*/1);
  std::vector<std::pair<int, std::vector<TaskID>>> seen;
  q.ForEachBucket([&](const Demand& demand, std::deque<TaskID>& bucket) {
    seen.emplace_back(demand.job, std::vector<TaskID>(bucket.begin(), bucket.end()));
    return size_t{0};
  });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (std::pair<int, std::vector<TaskID>>{1, {ids[0], ids[2]}}));
  EXPECT_EQ(seen[1], (std::pair<int, std::vector<TaskID>>{2, {ids[1]}}));
}

TEST(ReadyQueueTest, GroupsTasksOfADepthByShape) {
  ReadyQueue q;
  auto ids = Ids(4);
  q.PushBack(ids[0], 0, kCpu);
  q.PushBack(ids[1], 0, kGpu);
  q.PushBack(ids[2], 0, kCpu);
  q.PushBack(ids[3], 0, kGpu);
  auto buckets = Buckets(q);
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_NE(buckets[0].first, buckets[1].first);
  for (const auto& [shape, tasks] : buckets) {
    if (shape == kCpu) EXPECT_EQ(tasks, (std::vector<TaskID>{ids[0], ids[2]}));
    else if (shape == kGpu) EXPECT_EQ(tasks, (std::vector<TaskID>{ids[1], ids[3]}));
    else ADD_FAILURE() << "unexpected shape";
  }
  EXPECT_EQ(q.size(), 4u);  // visiting without popping takes nothing
}

TEST(ReadyQueueTest, EqualShapesShareABucketHoweverBuilt) {
  ReadyQueue q;
  auto ids = Ids(2);
  ResourceShape a{{"GPU", 1}, {"CPU", 1}};
  ResourceShape b;
  b["CPU"] = 1;
  b["GPU"] = 1;
  q.PushBack(ids[0], 0, a);
  q.PushBack(ids[1], 0, b);
  EXPECT_EQ(Buckets(q).size(), 1u);
}

TEST(ReadyQueueTest, SameShapeAtDifferentDepthsIsTwoBuckets) {
  ReadyQueue q;
  auto ids = Ids(2);
  q.PushBack(ids[0], 0, kCpu);
  q.PushBack(ids[1], 1, kCpu);
  auto buckets = Buckets(q);
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(buckets[0].second, std::vector<TaskID>{ids[1]});
  EXPECT_EQ(buckets[1].second, std::vector<TaskID>{ids[0]});
}

TEST(ReadyQueueTest, PushFrontGoesAheadOfItsBucketOnly) {
  ReadyQueue q;
  auto ids = Ids(4);
  q.PushBack(ids[0], 1, kCpu);
  q.PushBack(ids[1], 0, kCpu);
  q.PushBack(ids[2], 0, kCpu);
  q.PushFront(ids[3], 0, kCpu);  // handed back: ahead of its bucket, not of deeper work
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.TakeAll(), (std::vector<TaskID>{ids[0], ids[3], ids[1], ids[2]}));
}

TEST(ReadyQueueTest, PushFrontIntoANewBucketCreatesIt) {
  ReadyQueue q;
  auto ids = Ids(1);
  q.PushFront(ids[0], 4, kGpu);
  EXPECT_EQ(q.size(), 1u);
  auto buckets = Buckets(q);
  ASSERT_EQ(buckets.size(), 1u);
  EXPECT_EQ(buckets[0].first, kGpu);
}

TEST(ReadyQueueTest, ForEachBucketVisitsInPriorityOrder) {
  ReadyQueue q;
  auto ids = Ids(3);
  q.PushBack(ids[0], 0, kCpu);
  q.PushBack(ids[1], 5, kCpu);
  q.PushBack(ids[2], 2, kCpu);
  std::vector<TaskID> fronts;
  q.ForEachBucket([&](const Demand&, std::deque<TaskID>& bucket) {
    fronts.push_back(bucket.front());
    return size_t{0};
  });
  EXPECT_EQ(fronts, (std::vector<TaskID>{ids[1], ids[2], ids[0]}));
}

TEST(ReadyQueueTest, ForEachBucketPoppingPartOfABucketKeepsTheRest) {
  ReadyQueue q;
  auto ids = Ids(3);
  for (const TaskID& id : ids) q.PushBack(id, 0, kCpu);
  std::vector<TaskID> started;
  q.ForEachBucket([&](const Demand&, std::deque<TaskID>& bucket) {
    started.push_back(bucket.front());
    bucket.pop_front();
    return size_t{1};
  });
  EXPECT_EQ(started, std::vector<TaskID>{ids[0]});
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.TakeAll(), (std::vector<TaskID>{ids[1], ids[2]}));
}

TEST(ReadyQueueTest, ForEachBucketDropsBucketsItEmpties) {
  ReadyQueue q;
  auto ids = Ids(3);
  q.PushBack(ids[0], 1, kCpu);
  q.PushBack(ids[1], 0, kCpu);
  q.PushBack(ids[2], 0, kGpu);
  // Start everything of the CPU shape, nothing of the GPU one (it does not fit).
  q.ForEachBucket([](const Demand& demand, std::deque<TaskID>& bucket) {
    if (demand.shape != kCpu) return size_t{0};
    size_t n = bucket.size();
    bucket.clear();
    return n;
  });
  EXPECT_EQ(q.size(), 1u);
  EXPECT_FALSE(q.empty());
  auto buckets = Buckets(q);
  ASSERT_EQ(buckets.size(), 1u);
  EXPECT_EQ(buckets[0].first, kGpu);
  EXPECT_EQ(buckets[0].second, std::vector<TaskID>{ids[2]});
}

TEST(ReadyQueueTest, ForEachBucketEmptyingEverythingLeavesAnEmptyQueue) {
  ReadyQueue q;
  auto ids = Ids(4);
  q.PushBack(ids[0], 0, kCpu);
  q.PushBack(ids[1], 0, kGpu);
  q.PushBack(ids[2], 2, kCpu);
  q.PushFront(ids[3], 2, kGpu);
  std::vector<TaskID> started;
  q.ForEachBucket([&](const Demand&, std::deque<TaskID>& bucket) {
    size_t n = bucket.size();
    started.insert(started.end(), bucket.begin(), bucket.end());
    bucket.clear();
    return n;
  });
  EXPECT_EQ(started.size(), 4u);
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(Buckets(q).empty());
  // Still usable afterwards.
  q.PushBack(ids[0], 0, kCpu);
  EXPECT_EQ(q.size(), 1u);
}

TEST(ReadyQueueTest, TakeAllEmptiesEveryBucketInPriorityOrder) {
  ReadyQueue q;
  auto ids = Ids(5);
  q.PushBack(ids[0], 0, kCpu);
  q.PushBack(ids[1], 1, kGpu);
  q.PushBack(ids[2], 1, kGpu);
  q.PushBack(ids[3], 0, kCpu);
  q.PushFront(ids[4], 1, kGpu);
  EXPECT_EQ(q.TakeAll(), (std::vector<TaskID>{ids[4], ids[1], ids[2], ids[0], ids[3]}));
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(Buckets(q).empty());
  EXPECT_TRUE(q.TakeAll().empty());
}

}  // namespace
}  // namespace lumen::internal
