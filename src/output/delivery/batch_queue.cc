#include <utility>

#include "volley/output/delivery_queue.h"

namespace volley::output::delivery {

uint64_t BatchQueue::Push(Batch batch) {
  const size_t keep_first = sending_ ? 1 : 0;  // the batch in flight stays
  const uint64_t reserved = sending_ ? batches_.front().bytes() : 0;
  if (reserved + batch.bytes() > max_bytes_) {  // cannot fit: keep the older ones
    ++dropped_;
    return 1;
  }
  uint64_t dropped = 0;
  while (batches_.size() > keep_first && bytes_ + batch.bytes() > max_bytes_) {
    auto victim = batches_.begin() + static_cast<std::ptrdiff_t>(keep_first);
    bytes_ -= victim->bytes();
    batches_.erase(victim);
    ++dropped;
  }
  bytes_ += batch.bytes();
  batches_.push_back(std::move(batch));
  dropped_ += dropped;
  return dropped;
}

const Batch* BatchQueue::BeginSend() {
  if (batches_.empty()) return nullptr;
  sending_ = true;
  return &batches_.front();
}

void BatchQueue::EndSend(bool done) {
  if (!sending_) return;
  sending_ = false;
  if (done && !batches_.empty()) {
    bytes_ -= batches_.front().bytes();
    batches_.pop_front();
  }
}

uint64_t BatchQueue::Clear() {
  const uint64_t n = batches_.size();
  batches_.clear();
  bytes_ = 0;
  sending_ = false;
  return n;
}

}  // namespace volley::output::delivery
