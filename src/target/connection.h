// One accepted connection of the target: reads requests, queues their answers in order and
// writes each answer when it is due. Objects are pooled by their Worker and reused.
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "request_parser.h"
#include "response_table.h"
#include "volley/common/event_loop.h"

namespace volley::target {

class Worker;

// Answers queued per connection; a client pipelining more waits until some are sent.
inline constexpr size_t kMaxQueuedResponses = 32;
// After the last answer before a close, unread input is drained for at most this long (and
// this many bytes) so that the kernel does not reset the connection under the answer.
inline constexpr Nanos kLingerTimeout{1'000'000'000};
inline constexpr size_t kMaxLingerBytes = 1 << 20;

// Input bytes not yet parsed, at most kMaxHeaderBytes; grows from 4 KiB on demand and keeps
// its capacity while the connection object is reused.
class InputBuffer {
 public:
  static constexpr size_t kInitialCapacity = 4096;
  static constexpr size_t kMaxCapacity = kMaxHeaderBytes;

  const char* data() const { return data_.get() + begin_; }
  size_t size() const { return end_ - begin_; }
  size_t capacity() const { return capacity_; }
  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void Clear() { begin_ = end_ = 0; }
  // Makes room at the end (moving unread bytes to the front, growing up to kMaxCapacity) and
  // returns how much there is.
  size_t PrepareWrite();
  char* write_ptr() { return data_.get() + end_; }
  void Commit(size_t n) { end_ += n; }

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// Confined to its worker's thread.
class Connection final : public IoHandler, public Timer {
 public:
  // `worker` must outlive the connection.
  explicit Connection(Worker& worker);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts serving the accepted non-blocking socket `fd`, which it owns from now on. On
  // failure the socket is closed and the connection goes back to the pool.
  void Open(int fd);
  bool is_open() const { return fd_ >= 0; }
  // Closes the socket at once and returns the connection to the pool.
  void Close();

  void OnIo(uint32_t events) override;
  void OnTimer() override;

 private:
  // An answer waiting to be written.
  struct Pending {
    const PreparedResponse* prepared = nullptr;  // a table response, or null: use `owned`
    std::string owned;                           // a built response (control, errors, 100)
    Nanos due{0};
    size_t size = 0;  // bytes in all
    size_t sent = 0;  // bytes written so far
    int status = 0;   // code counted in the stats; 0 = not counted (control, 100 Continue)
    bool head_only = false;
    bool close_after = false;
    bool counted = false;
  };

  Pending& At(size_t i) { return queue_[(head_ + i) % kMaxQueuedResponses]; }
  Pending& PushBack();
  void PopFront();

  bool ReadInput();  // false if the connection closed
  bool Drive();      // parse what is buffered and write what is due; false if closed
  void ParseInput();
  void HandleRequest();
  void HandleControl(const RequestInfo& request);
  void HandleError(const RequestInfo& request);
  void QueueBuilt(std::string bytes, int status, bool close_after);
  void CountRequest();
  bool Flush();  // false if the connection closed
  int AppendIov(const Pending& p, iovec* iov);
  void BeginLingeringClose();
  void Linger();
  void UpdateInterest();

  Worker& worker_;
  int fd_ = -1;
  uint32_t interest_ = 0;
  InputBuffer in_;
  RequestParser parser_;
  std::array<Pending, kMaxQueuedResponses> queue_;
  size_t head_ = 0;
  size_t count_ = 0;
  size_t linger_bytes_ = 0;
  bool counted_connection_ = false;  // counted in the stats once it sends a request
  bool read_closed_ = false;         // the peer finished sending
  bool no_more_requests_ = false;    // a closing answer is queued; input is ignored
  bool write_blocked_ = false;       // the socket buffer is full; wait for EPOLLOUT
  bool lingering_ = false;           // answers done, write side shut, draining input
};

}  // namespace volley::target
