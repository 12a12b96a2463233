#include "volley/output/prometheus_rw_output.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "volley/output/delivery_sender.h"
#include "volley/output/delivery_ticker.h"
#include "volley/output/prometheus.h"
#include "volley/wire/prometheus_rw.h"

namespace volley::output {
namespace {

namespace rw = wire::prometheus;

constexpr const char* kUserAgent = "volley/0.1.0";
constexpr size_t kMaxLoggedBody = 200;  // of a rejection's body, in the log line

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    const size_t n = std::min<size_t>(3, in.size() - i);
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (n > 1) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (n > 2) v |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += n > 1 ? kAlphabet[(v >> 6) & 63] : '=';
    out += n > 2 ? kAlphabet[v & 63] : '=';
  }
  return out;
}

}  // namespace

RwReplyClass ClassifyRemoteWriteStatus(int status) {
  if (status >= 200 && status < 300) return RwReplyClass::kOk;
  if (status >= 500 || status == 429) return RwReplyClass::kRetryable;
  return RwReplyClass::kFatal;
}

struct PrometheusRwOutput::Impl {
  Impl(PrometheusRwSettings s, const OutputContext& c) : settings(std::move(s)), ctx(c) {}

  std::optional<delivery::Batch> Collect(Nanos now, bool last);
  delivery::Outcome Classify(const delivery::DeliveryReply& reply) const;
  void Log(const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mu);
    log_sink(line);
  }

  // Immutable after construction.
  const PrometheusRwSettings settings;
  const OutputContext ctx;
  ExpositionOptions exposition;
  std::unique_ptr<delivery::Sender> sender;
  std::unique_ptr<delivery::Ticker> ticker;

  std::mutex log_mu;
  std::function<void(const std::string&)> log_sink;  // guarded by log_mu

  // Confined to whoever collects (the ticker's thread, then Stop after joining it).
  const metrics::Collector* collector = nullptr;
  int64_t last_ms = 0;              // strictly increasing batch timestamps
  std::set<rw::Labels> written;     // every series sent, for the stale markers
  bool started = false;             // the owner's thread
  bool stopped = false;             // the owner's thread
  std::atomic<uint64_t> series{0};  // written.size(), for stats()
  std::atomic<uint64_t> bad_series{0};
};

std::vector<std::pair<std::string, std::string>> PrometheusRwOutput::RequestHeaders(
    const PrometheusRwSettings& s) {
  std::vector<std::pair<std::string, std::string>> h = {
      {"Content-Encoding", "snappy"},
      {"Content-Type", "application/x-protobuf"},
      {"User-Agent", kUserAgent},
      {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
  if (!s.bearer_token.empty()) h.emplace_back("Authorization", "Bearer " + s.bearer_token);
  if (!s.username.empty()) {
    h.emplace_back("Authorization", "Basic " + Base64(s.username + ":" + s.password));
  }
  for (const auto& kv : s.headers) h.push_back(kv);
  return h;
}

Result<std::unique_ptr<PrometheusRwOutput>> PrometheusRwOutput::Create(
    const std::string& url, const std::vector<std::pair<std::string, std::string>>& options,
    const std::map<std::string, std::string>& env, const OutputContext& ctx) {
  auto settings = ParsePrometheusRwSettings(url, options, env);
  if (!settings) return tl::unexpected(settings.error());
  delivery::HttpTransportOptions t;
  t.url = settings->url;
  for (const auto& [k, v] : RequestHeaders(*settings)) t.headers.Set(k, v);
  t.truncate_response = true;  // the body is only logged
  t.max_response_bytes = 64u << 10;
  return CreateWithTransport(std::move(*settings), ctx, delivery::MakeHttpTransport(t));
}

Result<std::unique_ptr<PrometheusRwOutput>> PrometheusRwOutput::CreateWithTransport(
    PrometheusRwSettings settings, const OutputContext& ctx,
    std::unique_ptr<delivery::DeliveryTransport> transport) {
  if (!transport) return MakeError(ErrorCode::kInvalidArgument, "prometheus-rw: no transport");
  if (ctx.clock == nullptr)
    return MakeError(ErrorCode::kInvalidArgument, "prometheus-rw: no clock");
  for (const auto& [k, v] : settings.labels) {
    if (auto r = rw::CanonicalLabels("x", {{k, v}}); !r || k.starts_with("__")) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "prometheus-rw: label '" + k + "=" + v +
                           "': names must be non-empty, not start with __, values non-empty");
    }
  }
  auto impl = std::make_unique<Impl>(std::move(settings), ctx);
  Impl* p = impl.get();
  p->log_sink = [](const std::string& line) {
    fprintf(stderr, "volley: prometheus-rw: %s\n", line.c_str());
  };
  p->exposition.ns = ctx.metric_namespace;
  for (const auto& [k, v] : {std::pair{"node_id", &ctx.node_id}, std::pair{"region", &ctx.region},
                             std::pair{"run_id", &ctx.run_id}}) {
    if (!v->empty()) p->exposition.const_labels.emplace_back(k, *v);
  }
  // Configured labels win over the automatic ones of the same name.
  for (const auto& kv : p->settings.labels) {
    std::erase_if(p->exposition.const_labels, [&](const auto& c) { return c.first == kv.first; });
    p->exposition.const_labels.push_back(kv);
  }
  delivery::SenderOptions o;
  o.endpoint = p->settings.url;
  o.queue_bytes = p->settings.queue_bytes;
  o.timeout = p->settings.timeout;
  o.backoff_initial = p->settings.backoff_initial;
  o.backoff_max = p->settings.backoff_max;
  o.dropped_counter = ctx.metric_namespace + "_prometheus_rw_dropped_batches_total";
  p->sender = std::make_unique<delivery::Sender>(
      std::move(o), ctx, std::move(transport),
      [p](const delivery::DeliveryReply& reply) { return p->Classify(reply); },
      [p](const std::string& line) { p->Log(line); });
  p->ticker =
      std::make_unique<delivery::Ticker>(*ctx.clock, p->settings.push_interval, [p](Nanos now) {
        if (auto b = p->Collect(now, false)) {
          p->sender->Enqueue(std::move(*b));
        }
      });
  return std::unique_ptr<PrometheusRwOutput>(new PrometheusRwOutput(std::move(impl)));
}

PrometheusRwOutput::PrometheusRwOutput(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PrometheusRwOutput::~PrometheusRwOutput() {
  Stop(impl_->ctx.clock->Now());
  impl_->ticker.reset();  // joined before the sender goes
}

void PrometheusRwOutput::set_log_sink(std::function<void(const std::string&)> sink) {
  std::lock_guard<std::mutex> lock(impl_->log_mu);
  if (sink) impl_->log_sink = std::move(sink);
}

Result<void> PrometheusRwOutput::Start(const metrics::Collector& collector) {
  if (impl_->started) return {};
  impl_->collector = &collector;
  if (auto r = impl_->sender->Start(); !r) return r;
  if (auto r = impl_->ticker->Start("prometheus-rw"); !r) return r;
  impl_->started = true;
  return {};
}

void PrometheusRwOutput::Stop(Nanos deadline) {
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  impl_->ticker->Stop();
  // The final values and the stale markers go with the switch to flushing, so they are
  // sent under the deadline like the rest of the backlog.
  impl_->sender->Finish(deadline, impl_->Collect(impl_->ctx.clock->Now(), true));
}

std::optional<delivery::Batch> PrometheusRwOutput::Impl::Collect(Nanos now, bool last) {
  metrics::Snapshot all = collector->Cumulative();
  const delivery::SenderStats self = sender->Stats();
  all.Put({"prometheus_rw_dropped_batches_total"},
          metrics::Counter{static_cast<double>(self.dropped_batches)});
  all.Put({"prometheus_rw_writes_total", {{"result", "ok"}}},
          metrics::Counter{static_cast<double>(self.exports_ok)});
  all.Put({"prometheus_rw_writes_total", {{"result", "failed"}}},
          metrics::Counter{static_cast<double>(self.exports_failed)});
  all.Put({"prometheus_rw_writes_total", {{"result", "retried"}}},
          metrics::Counter{static_cast<double>(self.exports_retried)});

  int64_t ms = (ctx.wall_start_unix_nanos + (now - ctx.collector_start).count()) / 1'000'000;
  ms = std::max(ms, last_ms + 1);  // strictly increasing: one sample per (series, time)
  last_ms = ms;

  std::vector<rw::RwSeries> out;
  std::set<rw::Labels> now_written;
  for (const PromSample& s : PrometheusSamples(all, exposition)) {
    metrics::Labels labels;
    for (const auto& kv : s.labels) {
      if (!kv.second.empty()) labels.push_back(kv);  // Prometheus reads "" as absent
    }
    auto canonical = rw::CanonicalLabels(s.name, labels);
    if (!canonical) {
      if (bad_series.fetch_add(1) == 0) Log(canonical.error().message + "; series left out");
      continue;
    }
    rw::RwSeries series{std::move(*canonical), {{ms, s.value}}};
    if (last) now_written.insert(series.labels);
    written.insert(series.labels);
    out.push_back(std::move(series));
  }
  if (last && settings.stale_markers) {
    // Every series ever written ends one millisecond after the last collection.
    for (rw::RwSeries& s : out) s.samples.push_back({ms + 1, rw::StaleNaN()});
    for (const rw::Labels& labels : written) {
      if (!now_written.contains(labels)) out.push_back({labels, {{ms + 1, rw::StaleNaN()}}});
    }
  }
  series.store(written.size());
  std::string body = rw::EncodeBody(out);
  delivery::Batch batch;
  batch.seq = static_cast<uint64_t>(ms);
  batch.time_unix_nanos = static_cast<uint64_t>(ms) * 1'000'000;
  batch.body = std::make_shared<const std::string>(std::move(body));
  return batch;
}

delivery::Outcome PrometheusRwOutput::Impl::Classify(const delivery::DeliveryReply& reply) const {
  delivery::Outcome out;
  switch (ClassifyRemoteWriteStatus(reply.status)) {
    case RwReplyClass::kOk:
      out.kind = delivery::Outcome::kOk;
      return out;
    case RwReplyClass::kRetryable:
      out.kind = delivery::Outcome::kRetry;
      return out;
    case RwReplyClass::kFatal: {
      out.kind = delivery::Outcome::kDrop;
      std::string body = reply.body.substr(0, kMaxLoggedBody);
      std::replace(body.begin(), body.end(), '\n', ' ');
      out.log_kind = "status " + std::to_string(reply.status);
      out.log_line = "endpoint " + settings.url + " answered HTTP " + std::to_string(reply.status) +
                     (body.empty() ? "" : ": " + body) +
                     "; the batch is dropped (not retryable; logged once per status)";
      return out;
    }
  }
  return out;
}

const PrometheusRwSettings& PrometheusRwOutput::settings() const { return impl_->settings; }

PrometheusRwStats PrometheusRwOutput::stats() const {
  const delivery::SenderStats d = impl_->sender->Stats();
  PrometheusRwStats s;
  s.batches = d.batches;
  s.writes_ok = d.exports_ok;
  s.writes_failed = d.exports_failed;
  s.writes_retried = d.exports_retried;
  s.dropped_batches = d.dropped_batches;
  s.unsent_at_stop = d.unsent_at_stop;
  s.queue_bytes = d.queue_bytes;
  s.series = impl_->series.load();
  return s;
}

std::vector<std::string> PrometheusRwOutput::ReportLines() const {
  const PrometheusRwStats s = stats();
  return {"prometheus-rw: " + std::to_string(s.batches) + " batches to " + impl_->settings.url +
          ": " + std::to_string(s.writes_ok) + " written, " + std::to_string(s.writes_retried) +
          " retries, " + std::to_string(s.writes_failed) + " rejected, " +
          std::to_string(s.dropped_batches) + " dropped (backlog full), " +
          std::to_string(s.unsent_at_stop) + " unsent at stop; " + std::to_string(s.series) +
          " series"};
}

}  // namespace volley::output
