#include "volley/output/otlp_output.h"

#include <re2/re2.h>

#include <cstdio>
#include <system_error>
#include <utility>

#include "otlp_transport.h"
#include "retry_policy.h"
#include "volley/output/delivery.h"
#include "volley/output/delivery_sender.h"
#include "volley/output/delivery_ticker.h"
#include "volley/output/prometheus.h"
#include "volley/wire/otlp_metrics.h"

namespace volley::output {

// Include/exclude patterns on exported names, with the decision cached per name (a
// snapshot has few names and many series). Confined to the thread that collects.
struct OtlpOutput::Filter {
  std::vector<std::unique_ptr<RE2>> include;
  std::vector<std::unique_ptr<RE2>> exclude;
  std::map<std::string, bool, std::less<>> cache;

  bool Keep(const std::string& name) {
    auto it = cache.find(name);
    if (it != cache.end()) return it->second;
    bool keep = include.empty();
    for (const auto& re : include) keep = keep || RE2::PartialMatch(name, *re);
    for (const auto& re : exclude) keep = keep && !RE2::PartialMatch(name, *re);
    cache.emplace(name, keep);
    return keep;
  }
};

Result<std::unique_ptr<OtlpOutput>> OtlpOutput::Create(
    const std::string& url, const std::vector<std::pair<std::string, std::string>>& options,
    const std::map<std::string, std::string>& env, const OutputContext& ctx) {
  auto settings = ParseOtlpSettings(url, options, env);
  if (!settings) return tl::unexpected(settings.error());
  auto transport = MakeHttpTransport(*settings);
  if (!transport) return tl::unexpected(transport.error());
  return CreateWithTransport(std::move(*settings), ctx, std::move(*transport));
}

Result<std::unique_ptr<OtlpOutput>> OtlpOutput::CreateWithTransport(
    OtlpSettings settings, const OutputContext& ctx, std::unique_ptr<OtlpTransport> transport) {
  if (!transport) return MakeError(ErrorCode::kInvalidArgument, "otlp: no transport");
  if (ctx.clock == nullptr) return MakeError(ErrorCode::kInvalidArgument, "otlp: no clock");
  auto filter = std::make_unique<Filter>();
  for (auto* list : {&settings.include, &settings.exclude}) {
    for (const std::string& pattern : *list) {
      auto re = std::make_unique<RE2>(pattern, RE2::Quiet);
      if (!re->ok()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "otlp: bad pattern '" + pattern + "': " + re->error());
      }
      (list == &settings.include ? filter->include : filter->exclude).push_back(std::move(re));
    }
  }
  if (settings.histogram_bounds.empty()) settings.histogram_bounds = DefaultLeBounds();
  std::unique_ptr<OtlpOutput> out(new OtlpOutput(std::move(settings), ctx, std::move(transport)));
  out->filter_ = std::move(filter);
  return out;
}

OtlpOutput::OtlpOutput(OtlpSettings settings, const OutputContext& ctx,
                       std::unique_ptr<OtlpTransport> transport)
    : settings_(std::move(settings)), ctx_(ctx) {
  log_sink_ = [](const std::string& line) { fprintf(stderr, "volley: otlp: %s\n", line.c_str()); };
  delivery::SenderOptions o;
  o.endpoint = settings_.endpoint;
  o.queue_bytes = settings_.queue_bytes;
  o.timeout = settings_.timeout;
  o.backoff_initial = settings_.backoff_initial;
  o.backoff_max = settings_.backoff_max;
  o.dropped_counter = "otlp_dropped_batches_total";
  exporter_ = std::make_unique<delivery::Sender>(
      std::move(o), ctx_, std::move(transport),
      [this](const OtlpHttpReply& reply) { return Classify(reply); },
      [this](const std::string& line) { Log(line); });
  ticker_ = std::make_unique<delivery::Ticker>(*ctx_.clock, settings_.interval, [this](Nanos now) {
    if (auto batch = Collect(now)) exporter_->Enqueue(std::move(*batch));
  });
}

OtlpOutput::~OtlpOutput() {
  Stop(ctx_.clock->Now());
  ticker_.reset();    // joined before the exporter goes
  exporter_.reset();  // joins the exporter thread if Start failed half-way
}

void OtlpOutput::set_log_sink(std::function<void(const std::string&)> sink) {
  std::lock_guard<std::mutex> lock(log_mu_);
  log_sink_ = std::move(sink);
}

void OtlpOutput::Log(const std::string& line) {
  std::lock_guard<std::mutex> lock(log_mu_);
  if (log_sink_) log_sink_(line);
}

Result<void> OtlpOutput::Start(const metrics::Collector& collector) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return {};
  collector_ = &collector;
  if (auto r = exporter_->Start(); !r) return r;
  if (auto r = ticker_->Start("otlp"); !r) return r;
  started_ = true;
  return {};
}

void OtlpOutput::Stop(Nanos deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stopped_) return;
    stopped_ = true;
  }
  ticker_->Stop();
  // The last collection (the final values) goes to the exporter together with the switch
  // to flushing, so it is sent under the deadline like the rest of the backlog.
  exporter_->Finish(deadline, Collect(ctx_.clock->Now()));
}

std::optional<delivery::Batch> OtlpOutput::Collect(Nanos now) {
  metrics::Snapshot all = collector_->Cumulative();
  OtlpStats self = stats();
  all.Put({"otlp_exports_total", {{"result", "ok"}}},
          metrics::Counter{static_cast<double>(self.exports_ok)});
  all.Put({"otlp_exports_total", {{"result", "failed"}}},
          metrics::Counter{static_cast<double>(self.exports_failed)});
  all.Put({"otlp_exports_total", {{"result", "retried"}}},
          metrics::Counter{static_cast<double>(self.exports_retried)});
  all.Put({"otlp_dropped_batches_total"},
          metrics::Counter{static_cast<double>(self.dropped_batches)});
  metrics::Gauge queue_bytes;
  queue_bytes.Set(static_cast<double>(self.queue_bytes));
  all.Put({"otlp_queue_bytes"}, queue_bytes);

  metrics::Snapshot kept;
  for (const auto& [key, value] : all) {
    if (filter_->Keep(wire::OtlpMetricName(ctx_.metric_namespace, key.name))) kept.Put(key, value);
  }

  wire::OtlpEncodeOptions o;
  o.ns = ctx_.metric_namespace;
  o.resource_attributes.emplace_back("service.name", settings_.service_name);
  if (!ctx_.node_id.empty())
    o.resource_attributes.emplace_back("service.instance.id", ctx_.node_id);
  for (const auto& kv : settings_.resource_attributes) o.resource_attributes.push_back(kv);
  for (const auto& [k, v] : {std::pair{"node_id", &ctx_.node_id}, std::pair{"region", &ctx_.region},
                             std::pair{"run_id", &ctx_.run_id}}) {
    if (!v->empty()) o.point_attributes.emplace_back(k, *v);
  }
  // Configured labels come last, so they win over the automatic ones (NormalizeLabels).
  for (const auto& kv : settings_.labels) o.point_attributes.push_back(kv);
  o.histogram_bounds = settings_.histogram_bounds;
  o.start_unix_nanos = static_cast<uint64_t>(ctx_.wall_start_unix_nanos);
  uint64_t t =
      static_cast<uint64_t>(ctx_.wall_start_unix_nanos + (now - ctx_.collector_start).count());
  t = std::max(t, last_time_unix_ + 1);  // strictly increasing: one point per (series, time)
  last_time_unix_ = t;
  o.time_unix_nanos = t;

  std::string body = wire::EncodeOtlpMetrics(kept, o);
  if (settings_.gzip) {
    auto gz = GzipCompress(body);
    if (!gz) {
      Log(gz.error().message + "; this batch is dropped");
      return std::nullopt;
    }
    body = std::move(*gz);
  }
  const uint64_t seq = collections_.fetch_add(1) + 1;
  return delivery::Batch{seq, t, std::make_shared<const std::string>(std::move(body))};
}

OtlpStats OtlpOutput::stats() const {
  const delivery::SenderStats d = exporter_->Stats();
  OtlpStats s;
  s.batches = d.batches;
  s.exports_ok = d.exports_ok;
  s.exports_failed = d.exports_failed;
  s.exports_retried = d.exports_retried;
  s.partial_successes = partial_successes_.load();
  s.rejected_points = rejected_points_.load();
  s.dropped_batches = d.dropped_batches;
  s.unsent_at_stop = d.unsent_at_stop;
  s.queue_bytes = d.queue_bytes;
  s.queue_batches = d.queue_batches;
  return s;
}

delivery::Outcome OtlpOutput::Classify(const OtlpHttpReply& reply) {
  delivery::Outcome out;
  switch (otlp::ClassifyStatus(reply.status)) {
    case otlp::ReplyClass::kOk: {
      out.kind = delivery::Outcome::kOk;
      auto decoded = wire::DecodeOtlpExportResponse(reply.body);
      if (!decoded) {
        out.log_kind = "bad response";
        out.log_line = "endpoint answered " + std::to_string(reply.status) + " with " +
                       decoded.error().message + "; counted as success";
      } else if (decoded->partial) {
        ++partial_successes_;
        if (decoded->rejected_data_points > 0) {
          rejected_points_ += static_cast<uint64_t>(decoded->rejected_data_points);
        }
        out.log_kind = "partial";
        out.log_line = "partial success: " + std::to_string(decoded->rejected_data_points) +
                       " data points rejected: " + decoded->error_message +
                       " (not retried; logged once)";
      }
      return out;
    }
    case otlp::ReplyClass::kRetryable:
      out.kind = delivery::Outcome::kRetry;
      return out;
    case otlp::ReplyClass::kFatal: {
      out.kind = delivery::Outcome::kDrop;
      const std::string message = wire::DecodeOtlpErrorStatus(reply.body);
      out.log_kind = "status " + std::to_string(reply.status);
      out.log_line = "endpoint " + settings_.endpoint + " answered HTTP " +
                     std::to_string(reply.status) + (message.empty() ? "" : ": " + message) +
                     "; the batch is dropped (not retryable; logged once per status)";
      return out;
    }
  }
  return out;
}

uint64_t OtlpOutput::collections() const { return collections_.load(); }

std::vector<std::string> OtlpOutput::ReportLines() const {
  const OtlpStats s = stats();
  std::vector<std::string> lines;
  lines.push_back("otlp: " + std::to_string(s.batches) + " batches to " + settings_.endpoint +
                  ": " + std::to_string(s.exports_ok) + " exported, " +
                  std::to_string(s.exports_retried) + " retries, " +
                  std::to_string(s.exports_failed) + " rejected, " +
                  std::to_string(s.dropped_batches) + " dropped (queue full), " +
                  std::to_string(s.unsent_at_stop) + " unsent at stop");
  if (s.partial_successes > 0) {
    lines.push_back("otlp: " + std::to_string(s.partial_successes) + " partial successes, " +
                    std::to_string(s.rejected_points) + " data points rejected by the endpoint");
  }
  return lines;
}

}  // namespace volley::output
