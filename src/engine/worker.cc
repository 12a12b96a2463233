#include "worker.h"

#include <sched.h>

#include <algorithm>
#include <string>

namespace volley::engine {
namespace {

constexpr size_t kReadBufferSize = 64 * 1024;
// Closed models: after a loop turn that found fewer ready connections than this, the
// worker yields its CPU before waiting again (see Worker::Run).
constexpr int kYieldBelow = 4;

// Durations are recorded in microseconds, rounded up (the histogram's 1 µs resolution).
inline uint64_t Micros(Nanos d) {
  return d.count() <= 0 ? 0 : static_cast<uint64_t>((d.count() + 999) / 1000);
}

}  // namespace

const char* CategoryName(ErrorCategory c) {
  const auto i = static_cast<size_t>(c);
  return i < kErrorCategoryCount ? names::kCategories[i] : "other_error";
}

Worker::Worker(const RunShared& shared, const WorkerShare& share, metrics::Collector& collector)
    : shared_(shared),
      share_(share),
      collector_(collector),
      loop_(SteadyClock::Instance()),
      read_buffer_(kReadBufferSize),
      status_(1000, nullptr),
      budget_(share.budget) {
  open_ = shared.schedule.has_value();
  next_arrival_ = static_cast<uint64_t>(share.index);
  if (open_) queue_.resize(std::max<uint64_t>(1, share.max_in_flight));
  for (auto* t : {&pace_timer_, &tick_timer_, &deadline_timer_, &grace_timer_}) t->worker = this;
  pace_timer_.fn = &Worker::OnPace;
  tick_timer_.fn = &Worker::OnTick;
  deadline_timer_.fn = &Worker::OnDeadline;
  grace_timer_.fn = &Worker::OnGraceOver;
  BindMetrics();
  if (shared.program) {
    BindScenarioMetrics();
    rng_.seed(static_cast<uint64_t>(MonotonicNow().count()) ^
              (static_cast<uint64_t>(share.index) << 32));
  }
}

Worker::~Worker() {
  for (auto* t : {&pace_timer_, &tick_timer_, &deadline_timer_, &grace_timer_}) loop_.Cancel(t);
  for (auto& u : users_) loop_.Cancel(u.get());
  side_connections_.clear();
  connections_.clear();
}

void Worker::BindMetrics() {
  using metrics::SeriesKey;
  m_.requests = shard_.GetCounter(SeriesKey(names::kRequests));
  for (size_t i = 0; i < kErrorCategoryCount; ++i) {
    m_.errors[i] = shard_.GetCounter(SeriesKey(
        names::kErrors, {{names::kCategoryLabel, CategoryName(static_cast<ErrorCategory>(i))}}));
  }
  m_.sent = shard_.GetCounter(SeriesKey(names::kDataSent));
  m_.received = shard_.GetCounter(SeriesKey(names::kDataReceived));
  m_.dropped = shard_.GetCounter(SeriesKey(names::kDroppedIterations));
  m_.stale_retries = shard_.GetCounter(SeriesKey(names::kStaleRetries));
  m_.duration = shard_.GetTrend(SeriesKey(names::kDuration));
  m_.blocked = shard_.GetTrend(SeriesKey(names::kBlocked));
  m_.connecting = shard_.GetTrend(SeriesKey(names::kConnecting));
  m_.tls = shard_.GetTrend(SeriesKey(names::kTlsHandshaking));
  m_.sending = shard_.GetTrend(SeriesKey(names::kSending));
  m_.waiting = shard_.GetTrend(SeriesKey(names::kWaiting));
  m_.receiving = shard_.GetTrend(SeriesKey(names::kReceiving));
  m_.intended = open_ ? shard_.GetTrend(SeriesKey(names::kIntendedLatency)) : nullptr;
}

metrics::Counter* Worker::StatusCounter(int code) {
  if (code < 0 || code > 999) code = 0;
  metrics::Counter*& c = status_[static_cast<size_t>(code)];
  if (!c) {  // first sight of this code: one registration, then a pointer
    c = shard_.GetCounter(
        metrics::SeriesKey(names::kStatusCodes, {{names::kStatusLabel, std::to_string(code)}}));
  }
  return c;
}

void Worker::Run() {
  if (auto r = loop_.Init(); !r) {
    init_error_ = r.error();
    return;
  }
  loop_.RefreshNow();
  for (int i = 0; i < share_.connections; ++i) {
    connections_.push_back(std::make_unique<Connection>(
        loop_, *this, shared_.endpoint, shared_.tls, read_buffer_.data(), read_buffer_.size(),
        shared_.connect_timeout, shared_.request_timeout, static_cast<uint32_t>(i)));
  }
  connect_failures_.assign(connections_.size(), 0);
  for (auto& c : connections_) c->set_keep_alive(shared_.reuse);
  if (shared_.program) {
    for (auto& c : connections_) {
      auto u = std::make_unique<VirtualUser>();
      u->worker = this;
      u->connection = c.get();
      u->vars = scenario::Variables(&shared_.program->variables);
      u->hosts.push_back(c.get());
      users_.push_back(std::move(u));
    }
    active_users_ = static_cast<int>(users_.size());
    side_per_user_ = shared_.side_endpoints.size();
    auto id = static_cast<uint32_t>(connections_.size());
    for (auto& u : users_) {
      for (size_t h = 0; h < side_per_user_; ++h) {
        side_connections_.push_back(std::make_unique<Connection>(
            loop_, *this, shared_.side_endpoints[h], shared_.side_tls[h], read_buffer_.data(),
            read_buffer_.size(), shared_.connect_timeout, shared_.request_timeout, id++));
        side_connections_.back()->set_keep_alive(shared_.reuse);
        u->hosts.push_back(side_connections_.back().get());
      }
    }
    connect_failures_.assign(id, 0);
  }
  next_tick_ = shared_.start + shared_.tick;
  loop_.Arm(&tick_timer_, next_tick_);
  loop_.Arm(&deadline_timer_, shared_.deadline);
  // Connect everything at the start (open models pre-warm their pool).
  for (auto& c : connections_) c->ConnectAt(shared_.start);
  if (open_) ScheduleNextArrival();
  if (budget_ == 0) BeginStop();
  while (!finished_) {
    const int ready = loop_.RunOnce(std::chrono::seconds(1));
    // When the target shares this machine's cores, a closed-model worker that goes back to
    // epoll after a nearly empty turn is woken again for one or two responses at a time,
    // and each wake-up pre-empts the target. Yielding first lets a runnable target thread
    // on this core finish its burst, so the next turn finds a batch. Measured on 2 cores
    // with nginx in the same scheduling group (2 threads, 200 connections): 7 % more
    // throughput, 12 % less client CPU per request. A yield does not cross scheduling
    // groups (e.g. Linux autogroups: client and target started from different sessions),
    // and with nothing else runnable it returns at once. Open models never yield: their
    // sends are due at set times.
    if (!open_ && ready < kYieldBelow) sched_yield();
  }
  collector_.AddDelta(shard_.TakeDelta());
  in_flight_published_.store(0, std::memory_order_relaxed);
}

void Worker::RequestStop() {
  loop_.Post([this] {
    interrupting_ = true;
    InterruptUsers();
    BeginStop();
    MaybeFinish();
  });
}

// ---- closed model -------------------------------------------------------------------

void Worker::StartIteration(Connection& c) {
  if (stopping_ || budget_ == 0) {
    if (budget_ == 0) BeginStop();
    return;
  }
  --budget_;
  if (shared_.program) {
    StartScenarioIteration(c, loop_.Now());
    return;
  }
  ++in_flight_;
  c.tag = loop_.Now();
  c.Send(shared_.request, shared_.head, shared_.replayable);
}

// ---- open models ----------------------------------------------------------------------

void Worker::ScheduleNextArrival() {
  next_arrival_time_ = ArrivalAt(next_arrival_);
  if (!next_arrival_time_ || shared_.start + *next_arrival_time_ >= shared_.deadline) {
    next_arrival_time_.reset();
    if (!shared_.hold) BeginStop();  // no more arrivals: drain and end
    return;
  }
  loop_.Arm(&pace_timer_, shared_.start + *next_arrival_time_);
}

std::optional<Nanos> Worker::ArrivalAt(uint64_t k) const {
  return shared_.schedule->ArrivalTime(shared_.segment.index +
                                       static_cast<uint64_t>(shared_.segment.count) * k);
}

void Worker::OnPace() {
  const Nanos now = loop_.Now();
  // Bounded work per call, so that I/O, the deadline and stop requests still run when a
  // huge rate (or a long stall of this thread) leaves many arrivals due at once.
  int quota = 4096;
  while (next_arrival_time_ && shared_.start + *next_arrival_time_ <= now && !stopping_) {
    if (--quota == 0) {
      loop_.Arm(&pace_timer_, now + Nanos(1));  // +1: timers due at `now` already fired
      return;
    }
    const Nanos intended = shared_.start + *next_arrival_time_;
    if (budget_ == 0) {
      BeginStop();
      return;
    }
    --budget_;
    if (static_cast<uint64_t>(in_flight_) + queue_size_ >= share_.max_in_flight) {
      m_.dropped->value += 1;  // over the in-flight cap: counted, never silently skipped
    } else if (!idle_.empty()) {
      Connection* c = idle_.back();
      idle_.pop_back();
      c->pool_slot = -1;
      Dispatch(*c, intended);
    } else {
      queue_[(queue_head_ + queue_size_) % queue_.size()] = intended;
      ++queue_size_;
    }
    next_arrival_ += static_cast<uint64_t>(shared_.threads);
    next_arrival_time_ = ArrivalAt(next_arrival_);
    if (!next_arrival_time_ || shared_.start + *next_arrival_time_ >= shared_.deadline) {
      next_arrival_time_.reset();
    }
  }
  if (!next_arrival_time_) {
    if (!shared_.hold) BeginStop();
    return;
  }
  if (!stopping_) loop_.Arm(&pace_timer_, shared_.start + *next_arrival_time_);
}

void Worker::Dispatch(Connection& c, Nanos intended) {
  if (shared_.program) {
    StartScenarioIteration(c, intended);
    return;
  }
  ++in_flight_;
  c.tag = intended;
  c.Send(shared_.request, shared_.head, shared_.replayable);
}

// ---- connection callbacks -------------------------------------------------------------

void Worker::OnReady(Connection& c) {
  connect_failures_[c.id()] = 0;
  if (shared_.program && (IsSide(c) || UserOf(c).phase != VirtualUser::Phase::kIdle)) {
    // A user mid-iteration: its step waiting for this connection goes now; a sleeping one
    // keeps the connection. Another host's connection never joins the pool.
    VirtualUser& u = UserOf(c);
    if (WaitsOn(c)) SendStep(u, u.intended);
    return;
  }
  if (!open_) {
    StartIteration(c);
  } else if (queue_size_ > 0) {
    const Nanos intended = queue_[queue_head_];
    queue_head_ = (queue_head_ + 1) % queue_.size();
    --queue_size_;
    Dispatch(c, intended);
  } else {
    c.pool_slot = static_cast<int32_t>(idle_.size());
    idle_.push_back(&c);
  }
  MaybeFinish();
}

void Worker::OnResponse(Connection& c, const ResponseParser& response) {
  RecordResponse(c, response);
  if (shared_.program) {
    OnScenarioResponse(c, response);
    if (AwaitsReconnect(c)) Reconnect(c);  // Connection: close
    MaybeFinish();
    return;
  }
  c.tag = Nanos(0);
  --in_flight_;
  if (c.idle()) {
    OnReady(c);
  } else {
    Reconnect(c);  // the server closed it (Connection: close)
    MaybeFinish();
  }
}

void Worker::RecordResponse(Connection& c, const ResponseParser& response) {
  const RequestTimings& t = c.timings();
  const int code = response.status_code();
  m_.requests->value += 1;
  StatusCounter(code)->value += 1;
  if (code >= 500) {
    m_.errors[static_cast<size_t>(ErrorCategory::kServer)]->value += 1;
  } else if (code >= 400) {
    m_.errors[static_cast<size_t>(ErrorCategory::kClient)]->value += 1;
  }
  m_.sent->value += static_cast<double>(t.bytes_sent);
  m_.received->value += static_cast<double>(t.bytes_received);
  m_.sending->RecordUnits(Micros(t.send_end - t.send_start));
  m_.waiting->RecordUnits(Micros(t.first_byte - t.send_end));
  m_.receiving->RecordUnits(Micros(t.done - t.first_byte));
  m_.duration->RecordUnits(Micros(t.done - t.send_start));
  Nanos connect_cost{0};
  if (c.fresh()) {
    m_.connecting->RecordUnits(Micros(t.connect_end - t.connect_start));
    if (t.tls_end > Nanos(0)) m_.tls->RecordUnits(Micros(t.tls_end - t.connect_end));
    if (t.connect_start >= c.tag)
      connect_cost = std::max(t.connect_end, t.tls_end) - t.connect_start;
  }
  m_.blocked->RecordUnits(Micros(t.send_start - c.tag - connect_cost));
  if (m_.intended) m_.intended->RecordUnits(Micros(t.done - c.tag));
}

void Worker::CountFailure(ErrorCategory category, const char* what) {
  m_.requests->value += 1;
  m_.errors[static_cast<size_t>(category)]->value += 1;
  const char*& first = first_reason_[static_cast<size_t>(category)];
  if (!first) first = what;
}

void Worker::OnFailure(Connection& c, ErrorCategory category, const char* what) {
  if (shared_.program) {
    OnScenarioFailure(c, category, what);
    return;
  }
  // An idle pooled connection that failed leaves the pool until it reconnects.
  LeavePool(c);
  if (c.tag != Nanos(0)) {
    // The iteration on this connection failed.
    CountFailure(category, what);
    m_.sent->value += static_cast<double>(c.timings().bytes_sent);
    m_.received->value += static_cast<double>(c.timings().bytes_received);
    c.tag = Nanos(0);
    --in_flight_;
    if (c.timings().send_start == Nanos(0)) ++connect_failures_[c.id()];
  } else {
    // An idle connection failed to (re)connect. A closed-model user counts it as a failed
    // iteration; in open models it fails the oldest queued arrival, if any, so that a dead
    // target shows up as errors rather than only as drops.
    ++connect_failures_[c.id()];
    if (!open_) {
      if (!stopping_ && budget_ > 0) {
        --budget_;
        CountFailure(category, what);
      }
    } else if (queue_size_ > 0) {
      queue_head_ = (queue_head_ + 1) % queue_.size();
      --queue_size_;
      CountFailure(category, what);
    }
  }
  Reconnect(c);
  MaybeFinish();
}

void Worker::OnIdleClosed(Connection& c) {
  // A keep-alive connection the server closed between requests: not an error.
  LeavePool(c);
  Reconnect(c);
  MaybeFinish();
}

void Worker::OnStaleRetry(Connection&) { m_.stale_retries->value += 1; }

void Worker::LeavePool(Connection& c) {
  if (c.pool_slot < 0) return;
  // Swap-remove: O(1) whatever the pool size (a keep-alive timeout can close many at once).
  Connection* last = idle_.back();
  idle_[static_cast<size_t>(c.pool_slot)] = last;
  last->pool_slot = c.pool_slot;
  idle_.pop_back();
  c.pool_slot = -1;
}

Nanos Worker::ReconnectDelay(const Connection& c) const {
  const uint32_t n = connect_failures_[c.id()];
  // Back off only after connect failures, so a dead target does not spin the CPU:
  // 1 ms, 2 ms, ... up to 1 s.
  return n == 0 ? Nanos(0) : std::chrono::milliseconds(1 << std::min(n - 1, 10u));
}

void Worker::Reconnect(Connection& c) {
  // Another host's connection reopens only for a step that waits for it.
  if (IsSide(c)) {
    if (WaitsOn(c)) c.ConnectAt(loop_.Now() + ReconnectDelay(c));
    return;
  }
  // Closed model: once the budget is spent no user starts another iteration, so there is
  // nothing to reconnect for (and a target refusing the reconnect would otherwise keep
  // the run alive until its deadline).
  if (!open_ && budget_ == 0 && !UserNeedsConnection(c)) {
    BeginStop();
    return;
  }
  // While stopping, only connections that queued arrivals still need are reopened.
  if (stopping_ && (!open_ || queue_size_ == 0) && !UserNeedsConnection(c)) return;
  c.ConnectAt(loop_.Now() + ReconnectDelay(c));
}

// ---- lifecycle -------------------------------------------------------------------------

void Worker::OnTick() {
  collector_.AddDelta(shard_.TakeDelta());
  in_flight_published_.store(in_flight_ + static_cast<int64_t>(queue_size_),
                             std::memory_order_relaxed);
  // Ticks stay on the T0 + k * tick grid shared by every worker, so the collector's
  // interval (closed a little after each grid point) holds one delta from each of them.
  while (next_tick_ <= loop_.Now()) next_tick_ += shared_.tick;
  loop_.Arm(&tick_timer_, next_tick_);
}

void Worker::OnDeadline() { BeginStop(); }

void Worker::BeginStop() {
  if (stopping_) return;
  stopping_ = true;
  loop_.Cancel(&pace_timer_);
  loop_.Arm(&grace_timer_, loop_.Now() + shared_.grace);
  // Connections that carry no request are of no more use, unless queued arrivals still
  // wait for them (open models drain their queue within the grace period).
  if (queue_size_ == 0) {
    for (auto& c : connections_) {
      if (!c->busy() && c->tag == Nanos(0) && !UserNeedsConnection(*c)) c->Close();
    }
    for (auto& c : side_connections_) {
      if (!c->busy() && c->tag == Nanos(0) && !UserNeedsConnection(*c)) c->Close();
    }
    for (Connection* c : idle_) c->pool_slot = -1;
    idle_.clear();
  }
  MaybeFinish();
}

void Worker::MaybeFinish() {
  if (stopping_ && in_flight_ == 0 && queue_size_ == 0 && !finished_) Finish();
}

void Worker::OnGraceOver() {
  abandoned_ = static_cast<uint64_t>(in_flight_) + queue_size_;
  in_flight_ = 0;
  queue_size_ = 0;
  Finish();
}

void Worker::Finish() {
  finished_ = true;
  for (auto* t : {&pace_timer_, &tick_timer_, &deadline_timer_, &grace_timer_}) loop_.Cancel(t);
  for (auto& u : users_) loop_.Cancel(u.get());
  for (auto& c : connections_) c->Close();
  for (auto& c : side_connections_) c->Close();
}

}  // namespace volley::engine
