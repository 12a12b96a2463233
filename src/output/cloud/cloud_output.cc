#include "volley/output/cloud_output.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <set>
#include <system_error>
#include <thread>

#include "aggregator.h"
#include "batcher.h"
#include "cloud_config.h"
#include "outbox.h"
#include "pusher.h"
#include "v1_body.h"
#include "volley/output/delivery.h"
#include "volley/wire/k6_metrics.h"

namespace volley::output {

using cloud::Outbox;
using cloud::PushRequest;
using cloud::Verdict;

namespace {

// Senders waiting for a time on the output's clock wake at least this often, so a
// FakeClock moved by a test is noticed; with the real clock it costs a few wake-ups.
constexpr Nanos kWaitSlice = std::chrono::milliseconds(20);

std::string FormatBytes(uint64_t bytes) {
  char buf[32];
  if (bytes < 10 * 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else if (bytes < 10ull * 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024));
  }
  return buf;
}

}  // namespace

struct CloudOutput::Impl {
  Impl(cloud::CloudConfig c, const OutputContext& context)
      : config(std::move(c)),
        ctx(context),
        clock(*context.clock),
        aggregator(config.aggregation_period),
        batcher(config),
        key_rng(std::random_device{}()),
        outbox(config.max_backlog_bytes, config.retries,
               cloud::BackoffPolicy(config.retry_backoff, config.max_retry_backoff),
               std::random_device{}()) {
    for (int i = 0; i < config.push_concurrency; ++i) {
      pushers.push_back(cloud::MakeCloudTransport(config));
    }
  }

  int64_t UnixNanos(Nanos t) const {
    return ctx.wall_start_unix_nanos + (t - ctx.collector_start).count();
  }
  void Log(const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mu);
    log(line);
  }
  // Logs `line` the first time `kind` is seen. Called with mu held.
  void LogOnceLocked(const std::string& kind, const std::string& line) {
    if (logged_kinds.insert(kind).second) Log(line);
  }

  void AggregationLoop(Nanos first_push);
  void Collect(bool final);
  std::string Encode(const cloud::Batch& batch) const;
  void SenderLoop(size_t index);
  void Settle(PushRequest request, const Verdict& verdict);
  bool SenderDone(Nanos now) const;  // with mu held

  // Immutable after construction.
  const cloud::CloudConfig config;
  const OutputContext ctx;
  const Clock& clock;
  std::vector<std::unique_ptr<delivery::DeliveryTransport>> pushers;  // one per sender
  LogFn log = [](const std::string& line) { std::fprintf(stderr, "volley: %s\n", line.c_str()); };
  std::mutex log_mu;  // serialises log()

  // Confined to the aggregation thread.
  const metrics::Collector* collector = nullptr;
  Nanos last_end{0};
  cloud::BucketAggregator aggregator;
  cloud::Batcher batcher;
  std::mt19937_64 key_rng;

  mutable std::mutex mu;
  std::condition_variable cv;          // outbox changes, state changes
  Outbox outbox;                       // guarded by mu
  bool started = false;                // guarded by mu
  bool stopping = false;               // guarded by mu: the aggregation thread's last round
  bool draining = false;               // guarded by mu: senders finish by `deadline`
  bool abort_sends = false;            // guarded by mu: senders exit now
  bool stopped = false;                // guarded by mu: Stop() has completed
  Nanos deadline = Nanos::max();       // guarded by mu
  int senders_running = 0;             // guarded by mu
  uint64_t late_buckets = 0;           // guarded by mu
  uint64_t missed_intervals = 0;       // guarded by mu
  std::set<std::string> logged_kinds;  // guarded by mu
  std::atomic<bool> refused{false};

  std::thread aggregation_thread;
  std::vector<std::thread> sender_threads;
};

void CloudOutput::Impl::AggregationLoop(Nanos first_push) {
  Nanos next = first_push;
  for (;;) {
    bool final = false;
    {
      std::unique_lock<std::mutex> lock(mu);
      delivery::WaitUntil(cv, lock, clock, next, [&] { return stopping; });
      final = stopping;
    }
    Collect(final);
    if (final) return;
    next += config.push_interval;
    const Nanos now = clock.Now();
    if (next <= now) next = now + config.push_interval;  // fell behind: do not catch up
  }
}

void CloudOutput::Impl::Collect(bool final) {
  uint64_t missed = 0;
  for (metrics::Interval& iv : collector->IntervalsAfter(last_end)) {
    if (iv.start > last_end) ++missed;  // the ring dropped intervals before we read them
    aggregator.Add(UnixNanos(iv.start), iv.delta);
    last_end = iv.end;
  }
  const uint64_t late_before = aggregator.late_buckets();
  std::vector<cloud::Bucket> buckets =
      final ? aggregator.TakeAll() : aggregator.TakeDue(UnixNanos(clock.Now()), config.wait_period);
  std::vector<cloud::Batch> batches = batcher.Cut(buckets);
  for (const std::string& w : batcher.TakeWarnings()) Log(w);
  std::vector<PushRequest> requests;
  for (const cloud::Batch& b : batches) {
    PushRequest r;
    r.idempotency_key = cloud::IdempotencyKey(key_rng());
    r.body = Encode(b);
    r.samples = b.samples;
    requests.push_back(std::move(r));
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    late_buckets += aggregator.late_buckets() - late_before;
    if (missed > 0) {
      missed_intervals += missed;
      LogOnceLocked("missed",
                    "cloud output: collector intervals were dropped before they "
                    "could be read; their measurements are not pushed");
    }
    for (PushRequest& r : requests) {
      outbox.Add(std::move(r));
      if (refused.load()) outbox.DropWaiting(cloud::DropReason::kRefused);
    }
  }
  cv.notify_all();
}

std::string CloudOutput::Impl::Encode(const cloud::Batch& batch) const {
  if (config.api_version == 1) return cloud::EncodeV1Body(batch.data);
  return wire::k6::SnappyCompress(wire::k6::EncodeMetricSet(batch.data));
}

bool CloudOutput::Impl::SenderDone(Nanos now) const {
  if (abort_sends || refused.load()) return true;
  if (!draining) return false;
  return cloud::DrainFinished(outbox, now, deadline);
}

void CloudOutput::Impl::SenderLoop(size_t index) {
  delivery::DeliveryTransport& pusher = *pushers[index];
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    const Nanos now = clock.Now();
    if (SenderDone(now)) break;
    std::optional<PushRequest> request = outbox.Take(now);
    if (!request) {
      Nanos until = outbox.NextReady();
      if (draining) until = std::min(until, deadline);
      // Woken by new requests, settled requests and state changes.
      cv.wait_for(
          lock, std::clamp(until == Nanos::max() ? kWaitSlice : until - now, Nanos(0), kWaitSlice));
      continue;
    }
    Nanos timeout = config.timeout;
    if (draining) timeout = std::max(std::min(timeout, deadline - now), Nanos(1'000'000));
    lock.unlock();
    const Verdict verdict =
        cloud::VerdictOf(pusher.Post({request->body, request->idempotency_key}, timeout),
                         UnixNanos(clock.Now()) / 1'000'000'000);
    lock.lock();
    Settle(std::move(*request), verdict);
    cv.notify_all();
  }
  --senders_running;
  cv.notify_all();
}

void CloudOutput::Impl::Settle(PushRequest request, const Verdict& verdict) {
  switch (verdict.kind) {
    case Verdict::kOk:
      outbox.Succeeded(request);
      return;
    case Verdict::kRetry:
      LogOnceLocked("retry " + verdict.what.substr(0, verdict.what.find(':')),
                    "cloud output: push failed (" + verdict.what +
                        "); retrying with backoff (further failures of this kind are only "
                        "counted in the final report)");
      outbox.Failed(std::move(request), clock.Now(), verdict.retry_after);
      return;
    case Verdict::kReject:
      LogOnceLocked("reject " + std::to_string(verdict.status),
                    "cloud output: the service rejected a batch (" + verdict.what +
                        "); it is dropped and counted (further ones of this kind only counted)");
      outbox.Rejected(request, cloud::DropReason::kRejected);
      return;
    case Verdict::kRefused:
      outbox.Rejected(request, cloud::DropReason::kRefused);
      outbox.DropWaiting(cloud::DropReason::kRefused);
      if (!refused.exchange(true)) {
        Log("cloud output: the service accepts no more metrics (" + verdict.what +
            "); pushing stopped" +
            (config.stop_on_error ? ", stopping the test (stopOnError)" : ""));
      }
      return;
  }
}

CloudOutput::CloudOutput(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CloudOutput::~CloudOutput() { Stop(impl_->clock.Now()); }

Result<std::unique_ptr<CloudOutput>> CloudOutput::Create(
    const std::string& url, const std::vector<std::pair<std::string, std::string>>& options,
    const std::map<std::string, std::string>& env, const OutputContext& ctx) {
  auto config = cloud::ParseCloudConfig(url, options, env, ctx.run_id, ctx.metric_namespace);
  if (!config) return tl::unexpected(config.error());
  if (ctx.clock == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "cloud output: OutputContext has no clock");
  }
  return std::unique_ptr<CloudOutput>(
      new CloudOutput(std::make_unique<Impl>(std::move(*config), ctx)));
}

std::string CloudOutput::CloudEnvDocs() { return cloud::CloudConfigDocs(); }

void CloudOutput::SetLogger(LogFn log) {
  if (log) impl_->log = std::move(log);
}

Result<void> CloudOutput::Start(const metrics::Collector& collector) {
  Impl& d = *impl_;
  {
    std::lock_guard<std::mutex> lock(d.mu);
    if (d.started) return MakeError(ErrorCode::kInternal, "cloud output: started twice");
    d.started = true;
    d.senders_running = static_cast<int>(d.pushers.size());
  }
  d.collector = &collector;
  d.last_end = d.ctx.collector_start;
  try {
    // The first push is due a push interval after Start(), however late the thread runs.
    const Nanos first_push = d.clock.Now() + d.config.push_interval;
    d.aggregation_thread = std::thread([&d, first_push] { d.AggregationLoop(first_push); });
    for (size_t i = 0; i < d.pushers.size(); ++i) {
      d.sender_threads.emplace_back([&d, i] { d.SenderLoop(i); });
    }
  } catch (const std::system_error& e) {
    {
      std::lock_guard<std::mutex> lock(d.mu);
      d.senders_running = static_cast<int>(d.sender_threads.size());
    }
    Stop(d.clock.Now());
    return MakeError(ErrorCode::kInternal,
                     std::string("cloud output: cannot start a thread: ") + e.what());
  }
  return {};
}

void CloudOutput::Stop(Nanos deadline) {
  Impl& d = *impl_;
  {
    std::lock_guard<std::mutex> lock(d.mu);
    if (d.stopped) return;
    d.stopped = true;
    d.stopping = true;
    d.deadline = deadline;
  }
  d.cv.notify_all();
  // The last collection: every bucket left, whatever its age.
  if (d.aggregation_thread.joinable()) d.aggregation_thread.join();
  {
    std::unique_lock<std::mutex> lock(d.mu);
    d.draining = true;
    d.cv.notify_all();
    // Senders leave when done or at the deadline; past it, in-flight requests are cut.
    while (d.senders_running > 0) {
      if (d.clock.Now() >= deadline) {
        d.abort_sends = true;
        lock.unlock();
        for (auto& p : d.pushers) p->Cancel();
        lock.lock();
      }
      d.cv.wait_for(lock, kWaitSlice);
    }
  }
  for (std::thread& t : d.sender_threads) t.join();
  std::lock_guard<std::mutex> lock(d.mu);
  d.outbox.DropWaiting(d.refused.load() ? cloud::DropReason::kRefused : cloud::DropReason::kUnsent);
}

bool CloudOutput::WantsAbort() const {
  return impl_->refused.load() && impl_->config.stop_on_error;
}

CloudStats CloudOutput::stats() const {
  const Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  const cloud::OutboxStats& o = d.outbox.stats();
  CloudStats s;
  s.batches_sent = o.batches_sent;
  s.samples_sent = o.samples_sent;
  s.bytes_sent = o.bytes_sent;
  s.attempts = o.attempts;
  s.retries = o.retries;
  s.backlogged = o.backlogged;
  s.backlog_bytes = d.outbox.waiting_bytes();
  s.batches_dropped = o.DroppedBatches();
  s.samples_dropped = o.DroppedSamples();
  for (size_t i = 0; i < cloud::kNumDropReasons; ++i) {
    if (o.dropped_batches[i] == 0) continue;
    s.dropped_by_reason[cloud::DropReasonName(static_cast<cloud::DropReason>(i))] = {
        o.dropped_batches[i], o.dropped_samples[i]};
  }
  s.late_buckets = d.late_buckets;
  s.missed_intervals = d.missed_intervals;
  s.refused = d.refused.load();
  return s;
}

std::vector<std::string> CloudOutput::ReportLines() const {
  const CloudStats s = stats();
  const cloud::CloudConfig& c = impl_->config;
  std::vector<std::string> lines;
  lines.push_back("cloud: " + std::to_string(s.batches_sent) + " requests (" +
                  std::to_string(s.samples_sent) + " samples, " + FormatBytes(s.bytes_sent) +
                  ") to " + c.scheme_host_port + c.PushPath() + ", " + std::to_string(s.retries) +
                  " retries, " + std::to_string(s.backlogged) + " backlogged, " +
                  std::to_string(s.batches_dropped) + " batches dropped");
  for (const auto& [reason, counts] : s.dropped_by_reason) {
    lines.push_back("cloud: DROPPED " + std::to_string(counts.first) + " batches (" +
                    std::to_string(counts.second) + " samples): " + reason);
  }
  if (s.refused) lines.push_back("cloud: the service refused further metrics; pushing stopped");
  if (s.late_buckets > 0) {
    lines.push_back("cloud: " + std::to_string(s.late_buckets) +
                    " buckets sent again for late measurements");
  }
  if (s.missed_intervals > 0) {
    lines.push_back("cloud: LOST " + std::to_string(s.missed_intervals) +
                    " stretches of collector intervals dropped before they could be pushed");
  }
  return lines;
}

}  // namespace volley::output
