// ClaimSlots: the page a node shares with a worker. Tested in one process:
// the node's side made with Create, the worker's opened on a duplicate of
// its fd, so both map the same memfd as two processes would.
#include "protocol/claim_slots.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <barrier>
#include <cerrno>
#include <memory>
#include <thread>
#include <vector>

namespace lumen::internal {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

class ClaimSlotsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = ClaimSlots::Create();
    ASSERT_NE(node_, nullptr);
    ASSERT_GE(node_->fd(), 0);
    int fd = ::dup(node_->fd());
    ASSERT_GE(fd, 0);
    worker_ = ClaimSlots::Open(fd);
    ASSERT_NE(worker_, nullptr);
  }
  std::unique_ptr<ClaimSlots> node_, worker_;
};

TEST_F(ClaimSlotsTest, CreatedPageHasAnInheritableFdAndTheOpenedOneNone) {
  EXPECT_TRUE(IsOpen(node_->fd()));
  EXPECT_TRUE(::fcntl(node_->fd(), F_GETFD) & FD_CLOEXEC);  // only passed on on purpose
  EXPECT_EQ(worker_->fd(), -1);
}

TEST(ClaimSlotsOpenTest, OpenClosesTheFdItIsGiven) {
  auto node = ClaimSlots::Create();
  ASSERT_NE(node, nullptr);
  int fd = ::dup(node->fd());
  ASSERT_GE(fd, 0);
  auto worker = ClaimSlots::Open(fd);
  ASSERT_NE(worker, nullptr);
  EXPECT_FALSE(IsOpen(fd));
}

TEST(ClaimSlotsOpenTest, OpenOfABadFdFails) {
  EXPECT_EQ(ClaimSlots::Open(-1), nullptr);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ::close(pipe_fds[1]);
  EXPECT_EQ(ClaimSlots::Open(pipe_fds[0]), nullptr);  // a pipe cannot be mapped
  EXPECT_FALSE(IsOpen(pipe_fds[0]));                  // closed even so
}

TEST_F(ClaimSlotsTest, WorkerClaimsAnOfferedTaskAndTheNodeCannotStealIt) {
  node_->Offer(1);
  EXPECT_TRUE(worker_->Claim(1));
  EXPECT_FALSE(node_->Steal(1));
}

TEST_F(ClaimSlotsTest, NodeStealsAnUnclaimedTaskAndTheWorkerCannotClaimIt) {
  node_->Offer(1);
  EXPECT_TRUE(node_->Steal(1));
  EXPECT_FALSE(worker_->Claim(1));
}

TEST_F(ClaimSlotsTest, EachSideWinsATaskAtMostOnce) {
  node_->Offer(1);
  node_->Offer(2);
  EXPECT_TRUE(worker_->Claim(1));
  EXPECT_FALSE(worker_->Claim(1));
  EXPECT_TRUE(node_->Steal(2));
  EXPECT_FALSE(node_->Steal(2));
}

TEST_F(ClaimSlotsTest, TaskNeverOfferedCanBeNeitherClaimedNorStolen) {
  EXPECT_FALSE(worker_->Claim(5));
  EXPECT_FALSE(node_->Steal(6));
  EXPECT_FALSE(worker_->Claim(ClaimSlots::kSlots));  // slot 0, still holding zero
}

TEST_F(ClaimSlotsTest, SlotsAreIndependent) {
  for (uint64_t seq = 1; seq <= ClaimSlots::kSlots; ++seq) node_->Offer(seq);
  for (uint64_t seq = 1; seq <= ClaimSlots::kSlots; ++seq) {
    if (seq % 2) EXPECT_TRUE(worker_->Claim(seq)) << seq;
    else EXPECT_TRUE(node_->Steal(seq)) << seq;
  }
  for (uint64_t seq = 1; seq <= ClaimSlots::kSlots; ++seq) {
    EXPECT_FALSE(worker_->Claim(seq)) << seq;
    EXPECT_FALSE(node_->Steal(seq)) << seq;
  }
}

TEST_F(ClaimSlotsTest, ReusedSlotBelongsToTheNewTaskOnly) {
  const uint64_t old_seq = 3, new_seq = 3 + ClaimSlots::kSlots;  // the same slot
  node_->Offer(old_seq);
  EXPECT_TRUE(worker_->Claim(old_seq));
  node_->Offer(new_seq);
  EXPECT_FALSE(worker_->Claim(old_seq));
  EXPECT_FALSE(node_->Steal(old_seq));
  EXPECT_TRUE(worker_->Claim(new_seq));
}

TEST_F(ClaimSlotsTest, StaleSequenceCannotClaimALaterTaskInItsSlot) {
  const uint64_t old_seq = 7, new_seq = 7 + ClaimSlots::kSlots;
  node_->Offer(old_seq);
  EXPECT_TRUE(node_->Steal(old_seq));
  node_->Offer(new_seq);
  EXPECT_FALSE(worker_->Claim(old_seq));  // a worker late with the stolen task
  EXPECT_TRUE(node_->Steal(new_seq));
}

TEST_F(ClaimSlotsTest, PageOutlivesTheNodeClosingItsFd) {
  node_->CloseFd();
  EXPECT_EQ(node_->fd(), -1);
  node_->CloseFd();  // twice is harmless
  node_->Offer(9);
  EXPECT_TRUE(worker_->Claim(9));
}

TEST_F(ClaimSlotsTest, WorkerKeepsThePageWhenTheNodeSideGoes) {
  node_->Offer(4);
  node_.reset();
  EXPECT_TRUE(worker_->Claim(4));
}

TEST_F(ClaimSlotsTest, PagesOfDifferentWorkersAreSeparate) {
  auto other = ClaimSlots::Create();
  ASSERT_NE(other, nullptr);
  EXPECT_NE(other->fd(), node_->fd());
  other->Offer(1);
  EXPECT_FALSE(worker_->Claim(1));
}

// The worker claims and the node steals the same tasks at once, from two
// threads: every task goes to exactly one side.
TEST_F(ClaimSlotsTest, ConcurrentClaimAndStealGiveEachTaskToExactlyOneSide) {
  constexpr uint64_t kRounds = 200;
  constexpr uint64_t kBatch = ClaimSlots::kSlots;
  std::vector<char> claimed(kRounds * kBatch + 1, 0), stolen(kRounds * kBatch + 1, 0);
  std::barrier sync(2);
  std::thread worker([&] {
    for (uint64_t r = 0; r < kRounds; ++r) {
      sync.arrive_and_wait();  // the batch is offered
      for (uint64_t i = 1; i <= kBatch; ++i) claimed[r * kBatch + i] = worker_->Claim(r * kBatch + i);
      sync.arrive_and_wait();  // both sides done
    }
  });
  for (uint64_t r = 0; r < kRounds; ++r) {
    for (uint64_t i = 1; i <= kBatch; ++i) node_->Offer(r * kBatch + i);
    sync.arrive_and_wait();
    for (uint64_t i = kBatch; i >= 1; --i) stolen[r * kBatch + i] = node_->Steal(r * kBatch + i);
    sync.arrive_and_wait();
  }
  worker.join();
  uint64_t claims = 0, steals = 0;
  for (uint64_t seq = 1; seq <= kRounds * kBatch; ++seq) {
    ASSERT_NE(claimed[seq], stolen[seq]) << "seq " << seq << (claimed[seq] ? " ran twice" : " never ran");
    claims += claimed[seq];
    steals += stolen[seq];
  }
  EXPECT_EQ(claims + steals, kRounds * kBatch);
}

}  // namespace
}  // namespace lumen::internal
