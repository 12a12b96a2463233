#include "worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connection.h"

namespace volley::target {
namespace {

constexpr int kMaxAcceptsPerWakeup = 64;
constexpr Nanos kAcceptPause{100'000'000};  // after EMFILE: retry in 100 ms

}  // namespace

void WorkerCounters::AddTo(CounterTotals* totals) const {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  totals->requests += requests.load(kRelaxed);
  totals->responses += responses.load(kRelaxed);
  totals->connections += connections.load(kRelaxed);
  totals->bytes_sent += bytes_sent.load(kRelaxed);
  for (size_t i = 0; i < kStatusSlots; ++i) totals->by_status[i] += by_status[i].load(kRelaxed);
}

Worker::Worker(const SharedState& shared, int listen_fd, uint64_t seed)
    : shared_(shared),
      loop_(SteadyClock::Instance()),
      listen_fd_(listen_fd),
      rotation_(shared.options.status_mix),
      rng_(seed) {
  for (size_t i = 0; i < rotation_.size(); ++i) {
    std::array<const PreparedResponse*, 3> variants{};
    for (size_t c = 0; c < variants.size(); ++c) {
      variants[c] = shared_.table.Find(rotation_.code(i), static_cast<ConnectionHeader>(c));
    }
    rotation_responses_.push_back(variants);
  }
}

Worker::~Worker() {
  loop_.Cancel(this);
  connections_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

Result<void> Worker::Init() {
  if (auto ok = loop_.Init(); !ok) return ok;
  return loop_.Add(listen_fd_, EPOLLIN, this);
}

void Worker::Run() { loop_.Run(); }

void Worker::Stop() { loop_.Stop(); }

void Worker::CloseAll() {
  loop_.Cancel(this);
  if (listen_fd_ >= 0) {
    loop_.Remove(listen_fd_);
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  for (auto& c : connections_) c->Close();
}

void Worker::OnIo(uint32_t /*events*/) {
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // The listener stays readable; stop watching it for a while instead of spinning.
        if (loop_.Modify(listen_fd_, 0, this)) loop_.Arm(this, loop_.Now() + kAcceptPause);
      }
      return;  // EAGAIN: nothing more to accept
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Connection* c;
    if (free_.empty()) {
      connections_.push_back(std::make_unique<Connection>(*this));
      c = connections_.back().get();
    } else {
      c = free_.back();
      free_.pop_back();
    }
    c->Open(fd);
  }
}

void Worker::OnTimer() {
  if (listen_fd_ >= 0 && !loop_.Modify(listen_fd_, EPOLLIN, this)) {
    loop_.Arm(this, loop_.Now() + kAcceptPause);
  }
}

const PreparedResponse& Worker::NextResponse(ConnectionHeader connection, int* status) {
  const size_t i = rotation_.Next();
  *status = rotation_.code(i);
  return *rotation_responses_[i][static_cast<size_t>(connection)];
}

uint64_t Worker::NextRandom() {  // splitmix64
  uint64_t z = (rng_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Nanos Worker::ResponseDue(Nanos now) {
  if (!shared_.timed) return Nanos::min();
  const TargetOptions& o = shared_.options;
  Nanos due = now + o.latency_min;
  const int64_t span = (o.latency_max - o.latency_min).count();
  if (span > 0) due += Nanos(static_cast<int64_t>(NextRandom() % static_cast<uint64_t>(span + 1)));
  const int64_t period = o.stall_period.count();
  if (period > 0) {
    const int64_t since = (due - shared_.start_time).count();
    if (since >= 0) {
      const int64_t phase = since % period;
      if (phase < o.stall_duration.count()) due += Nanos(o.stall_duration.count() - phase);
    }
  }
  return due;
}

}  // namespace volley::target
