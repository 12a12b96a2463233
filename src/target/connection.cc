#include "connection.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "worker.h"

namespace volley::target {
namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr int kMaxIov = 64;

ConnectionHeader HeaderFor(const RequestInfo& r) {
  if (!r.keep_alive) return ConnectionHeader::kClose;
  return r.version_minor == 0 ? ConnectionHeader::kKeepAlive : ConnectionHeader::kNone;
}

}  // namespace

size_t InputBuffer::PrepareWrite() {
  if (!data_) {
    data_ = std::make_unique_for_overwrite<char[]>(kInitialCapacity);
    capacity_ = kInitialCapacity;
  }
  if (end_ == capacity_) {
    if (begin_ > 0) {
      memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    } else if (capacity_ < kMaxCapacity) {
      const size_t grown = std::min(capacity_ * 2, kMaxCapacity);
      auto bigger = std::make_unique_for_overwrite<char[]>(grown);
      memcpy(bigger.get(), data_.get(), end_);
      data_ = std::move(bigger);
      capacity_ = grown;
    }
  }
  return capacity_ - end_;
}

Connection::Connection(Worker& worker) : worker_(worker) {}

Connection::~Connection() {
  worker_.loop().Cancel(this);
  if (fd_ >= 0) ::close(fd_);
}

void Connection::Open(int fd) {
  fd_ = fd;
  interest_ = EPOLLIN;
  if (!worker_.loop().Add(fd_, interest_, this)) Close();
}

void Connection::Close() {
  if (fd_ < 0) return;
  // close() also drops the fd from the epoll set (it is never duplicated), which saves an
  // epoll_ctl per connection. The object is reused only by a later accept on this thread,
  // and epoll reports each fd once per batch, so no stale event can reach the new user.
  ::close(fd_);
  fd_ = -1;
  worker_.loop().Cancel(this);
  uint64_t unsent = 0;
  for (; count_ > 0; PopFront()) {
    const Pending& p = At(0);
    if (p.counted && p.status != 0) unsent += p.size - p.sent;
  }
  std::atomic<uint64_t>& bytes = worker_.counters().bytes_sent;
  bytes.store(bytes.load(std::memory_order_relaxed) - unsent, std::memory_order_relaxed);
  head_ = 0;
  in_.Clear();
  parser_.Reset();
  interest_ = 0;
  linger_bytes_ = 0;
  counted_connection_ = read_closed_ = no_more_requests_ = false;
  write_blocked_ = lingering_ = false;
  worker_.Release(this);
}

Connection::Pending& Connection::PushBack() {
  Pending& p = queue_[(head_ + count_) % kMaxQueuedResponses];
  ++count_;
  p.prepared = nullptr;
  p.owned.clear();
  p.due = Nanos::min();
  p.size = p.sent = 0;
  p.status = 0;
  p.head_only = p.close_after = p.counted = false;
  return p;
}

void Connection::PopFront() {
  head_ = (head_ + 1) % kMaxQueuedResponses;
  --count_;
}

void Connection::OnIo(uint32_t events) {
  if (events & (EPOLLERR | EPOLLHUP)) {
    Close();
    return;
  }
  if (lingering_) {
    Linger();
    return;
  }
  if (events & EPOLLOUT) write_blocked_ = false;
  if ((events & EPOLLIN) && !ReadInput()) return;
  if (!Drive()) return;
  UpdateInterest();
}

void Connection::OnTimer() {
  if (lingering_) {
    Close();
    return;
  }
  if (!Drive()) return;
  UpdateInterest();
}

bool Connection::ReadInput() {
  const size_t room = in_.PrepareWrite();
  if (room == 0) {  // unreachable: the parser rejects anything that would not fit
    Close();
    return false;
  }
  const ssize_t n = ::read(fd_, in_.write_ptr(), room);
  if (n > 0) {
    in_.Commit(static_cast<size_t>(n));
    // Latency counts from when the bytes were read, not from the loop's last wake-up.
    if (worker_.shared().timed) worker_.loop().RefreshNow();
    return true;
  }
  if (n == 0) {
    read_closed_ = true;
    return true;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
  Close();
  return false;
}

bool Connection::Drive() {
  for (;;) {
    ParseInput();
    const size_t queued = count_;
    if (!Flush()) return false;
    if (lingering_) return true;
    const bool room_made = count_ < queued;
    if (!(room_made && in_.size() > 0 && !no_more_requests_ && !parser_.failed())) break;
  }
  if (read_closed_ && count_ == 0) {
    Close();
    return false;
  }
  return true;
}

void Connection::ParseInput() {
  // Two free slots: a request may need a 100 Continue and its answer.
  while (!no_more_requests_ && count_ + 2 <= kMaxQueuedResponses && in_.size() > 0) {
    const ParseStep step = parser_.Feed(in_.data(), in_.size());
    in_.Consume(step.consumed);
    switch (step.event) {
      case ParseEvent::kNeedMore:
        return;
      case ParseEvent::kHead:
        if (parser_.request().expect_continue) QueueBuilt(std::string(kContinue), 0, false);
        break;
      case ParseEvent::kComplete:
        HandleRequest();
        break;
      case ParseEvent::kError:
        HandleError(parser_.request());
        return;
    }
  }
}

void Connection::CountRequest() {
  WorkerCounters& c = worker_.counters();
  WorkerCounters::Bump(c.requests);
  if (!counted_connection_) {
    counted_connection_ = true;
    WorkerCounters::Bump(c.connections);
  }
}

void Connection::HandleRequest() {
  const RequestInfo& r = parser_.request();
  if (r.control != Control::kNone) {
    HandleControl(r);
    return;
  }
  CountRequest();
  int status = 0;
  const PreparedResponse& response = worker_.NextResponse(HeaderFor(r), &status);
  Pending& p = PushBack();
  p.prepared = &response;
  p.head_only = r.method == Method::kHead;
  p.size = response.Size(p.head_only);
  p.status = status;
  p.due = worker_.ResponseDue(worker_.loop().Now());
  p.close_after = !r.keep_alive;
  if (p.close_after) no_more_requests_ = true;
}

void Connection::HandleControl(const RequestInfo& r) {
  int code = 200;
  std::string body;
  std::string_view type = "application/json";
  std::string_view allow;
  const bool read_only = r.method == Method::kGet || r.method == Method::kHead;
  if (r.control == Control::kStats && read_only) {
    body = worker_.shared().stats_json();
    body += '\n';
  } else if (r.control == Control::kReset && r.method == Method::kPost) {
    worker_.shared().reset_stats();
    body = "{\"reset\":true}\n";
  } else if (r.control == Control::kUnknown) {
    code = 404;
    type = "text/plain";
    body = "unknown control path: use GET /__volley/stats or POST /__volley/reset\n";
  } else {
    code = 405;
    type = "text/plain";
    body = "method not allowed\n";
    allow = r.control == Control::kStats ? "Allow: GET, HEAD\r\n" : "Allow: POST\r\n";
  }
  std::string bytes = BuildResponse(code, type, body, HeaderFor(r), allow);
  if (r.method == Method::kHead) bytes.resize(bytes.size() - body.size());
  QueueBuilt(std::move(bytes), 0, !r.keep_alive);
}

void Connection::HandleError(const RequestInfo& r) {
  CountRequest();
  std::string body = r.error_reason;
  body += '\n';
  QueueBuilt(BuildResponse(r.error_status, "text/plain", body, ConnectionHeader::kClose),
             r.error_status, true);
}

void Connection::QueueBuilt(std::string bytes, int status, bool close_after) {
  Pending& p = PushBack();
  p.owned = std::move(bytes);
  p.size = p.owned.size();
  p.status = status;
  p.close_after = close_after;
  if (close_after) no_more_requests_ = true;
}

int Connection::AppendIov(const Pending& p, iovec* iov) {
  const char* first;
  size_t first_size;
  std::string_view second;
  if (p.prepared != nullptr) {
    first = p.prepared->bytes.data();
    first_size = p.head_only ? p.prepared->head_size : p.prepared->bytes.size();
    if (!p.head_only) second = p.prepared->tail;
  } else {
    first = p.owned.data();
    first_size = p.owned.size();
  }
  size_t skip = p.sent;
  int n = 0;
  if (skip < first_size) {
    iov[n++] = iovec{const_cast<char*>(first + skip), first_size - skip};
    skip = 0;
  } else {
    skip -= first_size;
  }
  if (skip < second.size()) {
    iov[n++] = iovec{const_cast<char*>(second.data() + skip), second.size() - skip};
  }
  return n;
}

bool Connection::Flush() {
  EventLoop& loop = worker_.loop();
  const Nanos now = loop.Now();
  WorkerCounters& counters = worker_.counters();
  while (count_ > 0 && !write_blocked_) {
    iovec iov[kMaxIov];
    int n = 0;
    size_t total = 0;
    for (size_t i = 0; i < count_ && n + 2 <= kMaxIov; ++i) {
      Pending& p = At(i);
      if (p.due > now) break;  // answers leave in order: later ones wait for this one
      if (!p.counted) {
        // Counted before the write, so that a client that has read the answer always finds
        // it in the stats. Bytes that never leave are taken back in Close().
        p.counted = true;
        if (p.status != 0) {
          WorkerCounters::Bump(counters.responses);
          WorkerCounters::Bump(counters.by_status[static_cast<size_t>(p.status)]);
          WorkerCounters::Bump(counters.bytes_sent, p.size);
        }
      }
      n += AppendIov(p, iov + n);
      total += p.size - p.sent;
      if (p.close_after) break;
    }
    if (n == 0) break;
    ssize_t written;
    if (n == 1) {
      written = ::send(fd_, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
    } else {
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<size_t>(n);
      written = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    }
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        write_blocked_ = true;
        break;
      }
      Close();
      return false;
    }
    size_t left = static_cast<size_t>(written);
    bool close_now = false;
    while (count_ > 0 && !close_now) {
      Pending& p = At(0);
      const size_t take = std::min(left, p.size - p.sent);
      p.sent += take;
      left -= take;
      if (p.sent < p.size) break;
      close_now = p.close_after;
      PopFront();
    }
    if (close_now) {
      BeginLingeringClose();
      return fd_ >= 0;
    }
    if (static_cast<size_t>(written) < total) write_blocked_ = true;
  }
  if (count_ > 0 && !write_blocked_ && At(0).due > now) {
    if (!armed() || deadline() != At(0).due) loop.Arm(this, At(0).due);
  } else if (armed()) {
    loop.Cancel(this);
  }
  return true;
}

void Connection::BeginLingeringClose() {
  lingering_ = true;
  while (count_ > 0) PopFront();
  in_.Clear();
  if (read_closed_) {
    Close();
    return;
  }
  // Send FIN after the answer, then read until the peer closes: closing with unread input
  // would make the kernel send RST, which can destroy the answer before the peer reads it.
  ::shutdown(fd_, SHUT_WR);
  worker_.loop().Arm(this, worker_.loop().Now() + kLingerTimeout);
  UpdateInterest();
}

void Connection::Linger() {
  for (;;) {
    in_.Clear();
    const size_t room = in_.PrepareWrite();
    const ssize_t n = ::read(fd_, in_.write_ptr(), room);
    if (n > 0) {
      linger_bytes_ += static_cast<size_t>(n);
      if (linger_bytes_ <= kMaxLingerBytes) continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (errno == EINTR) continue;
      return;
    }
    Close();  // EOF, an error, or too much input
    return;
  }
}

void Connection::UpdateInterest() {
  uint32_t want = 0;
  if (lingering_) {
    want = EPOLLIN;
  } else {
    if (!read_closed_ && !no_more_requests_ && count_ + 2 <= kMaxQueuedResponses) want |= EPOLLIN;
    if (write_blocked_) want |= EPOLLOUT;
  }
  if (want == interest_) return;
  if (!worker_.loop().Modify(fd_, want, this)) {
    Close();
    return;
  }
  interest_ = want;
}

}  // namespace volley::target
