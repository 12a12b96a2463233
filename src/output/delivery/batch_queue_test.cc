#include <gtest/gtest.h>

#include "volley/output/delivery_queue.h"

namespace volley::output::delivery {
namespace {

Batch Make(uint64_t seq, size_t bytes) {
  return Batch{seq, seq * 1000, std::make_shared<const std::string>(bytes, 'x')};
}

TEST(BatchQueue, OldestFirstAndByteAccounting) {
  BatchQueue q(1000);
  EXPECT_EQ(q.Push(Make(1, 100)), 0u);
  EXPECT_EQ(q.Push(Make(2, 200)), 0u);
  EXPECT_EQ(q.bytes(), 300u);
  const Batch* b = q.BeginSend();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->seq, 1u);
  q.EndSend(false);  // retry: stays first
  EXPECT_EQ(q.BeginSend()->seq, 1u);
  q.EndSend(true);
  EXPECT_EQ(q.bytes(), 200u);
  EXPECT_EQ(q.BeginSend()->seq, 2u);
  q.EndSend(true);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.BeginSend(), nullptr);
}

TEST(BatchQueue, FullQueueDropsTheOldestExactly) {
  BatchQueue q(1000);
  for (uint64_t i = 1; i <= 10; ++i) EXPECT_EQ(q.Push(Make(i, 100)), 0u);
  EXPECT_EQ(q.bytes(), 1000u);
  EXPECT_EQ(q.Push(Make(11, 100)), 1u);  // drops 1
  EXPECT_EQ(q.Push(Make(12, 250)), 3u);  // drops 2, 3, 4
  EXPECT_EQ(q.dropped(), 4u);
  EXPECT_EQ(q.size(), 8u);  // 5..12
  EXPECT_EQ(q.bytes(), 950u);
  EXPECT_EQ(q.BeginSend()->seq, 5u);
}

TEST(BatchQueue, TheBatchBeingSentIsNeverDropped) {
  BatchQueue q(300);
  q.Push(Make(1, 100));
  q.Push(Make(2, 100));
  q.Push(Make(3, 100));
  ASSERT_EQ(q.BeginSend()->seq, 1u);
  EXPECT_EQ(q.Push(Make(4, 150)), 2u);  // 2 and 3 go, 1 is in flight
  q.EndSend(false);
  EXPECT_EQ(q.BeginSend()->seq, 1u);
  q.EndSend(true);
  EXPECT_EQ(q.BeginSend()->seq, 4u);
  q.EndSend(true);
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(BatchQueue, OversizedBatchIsDroppedItself) {
  BatchQueue q(100);
  q.Push(Make(1, 50));
  EXPECT_EQ(q.Push(Make(2, 101)), 1u);  // too big alone: dropped, batch 1 stays
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.dropped(), 1u);
  q.BeginSend();
  q.EndSend(true);
  q.Push(Make(3, 60));
  q.BeginSend();
  EXPECT_EQ(q.Push(Make(4, 60)), 1u);  // does not fit beside the batch in flight
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.dropped(), 2u);
  EXPECT_EQ(q.Clear(), 1u);
  EXPECT_FALSE(q.sending());
}

}  // namespace
}  // namespace volley::output::delivery
