// A push output's backlog (the delivery path's queue): encoded batches waiting to be sent, oldest
// first, bounded in bytes. Not thread-safe: delivery::Sender guards it with its mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace volley::output::delivery {

// One export request, ready to POST (gzipped when the settings say so).
struct Batch {
  uint64_t seq = 0;              // 1, 2, ... in collection order
  uint64_t time_unix_nanos = 0;  // the batch's timestamp (time_unix_nano of its points)
  // Shared so the exporter can send it without holding the queue's lock or copying it.
  std::shared_ptr<const std::string> body;
  size_t bytes() const { return body ? body->size() : 0; }
};

class BatchQueue {
 public:
  // `max_bytes` bounds the sum of bytes() of the queued batches, the one being sent
  // included.
  explicit BatchQueue(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // Appends `batch`, first dropping the oldest batches (never the one being sent) until it
  // fits. A batch that cannot fit even then (larger than the bound, or than what the batch
  // being sent leaves) is dropped itself and nothing else is. Returns how many batches were
  // dropped (the new one included, if it was).
  uint64_t Push(Batch batch);

  // The oldest batch, marked as being sent (so Push does not drop it); nullptr if empty.
  // The pointer is valid until the next Push or EndSend: copy what is needed (the body's
  // shared_ptr) before unlocking. Call EndSend before the next BeginSend.
  const Batch* BeginSend();
  // Ends the send started by BeginSend: `done` removes the batch (sent, or rejected for
  // good); otherwise it stays first in line for a retry.
  void EndSend(bool done);

  bool empty() const { return batches_.empty(); }
  size_t size() const { return batches_.size(); }
  uint64_t bytes() const { return bytes_; }
  bool sending() const { return sending_; }
  // Batches dropped by Push since construction.
  uint64_t dropped() const { return dropped_; }
  // Removes every batch; returns how many there were.
  uint64_t Clear();

 private:
  const uint64_t max_bytes_;
  std::deque<Batch> batches_;
  uint64_t bytes_ = 0;
  uint64_t dropped_ = 0;
  bool sending_ = false;  // batches_.front() is being sent
};

}  // namespace volley::output::delivery
