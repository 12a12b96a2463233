// Options and OTEL_* environment of the OTLP reporter (see ParseOtlpSettings in
// volley/output/otlp_output.h and OtlpEnvDocs below).
#include <re2/re2.h>

#include <cmath>
#include <string>
#include <string_view>

#include "otlp_transport.h"
#include "volley/common/duration.h"
#include "volley/common/http_lex.h"
#include "volley/common/parse.h"
#include "volley/common/problems.h"
#include "volley/common/strings.h"
#include "volley/output/otlp_output.h"

namespace volley::output {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string EnvOr(const std::map<std::string, std::string>& env, const std::string& metrics_name,
                  const std::string& general_name, std::string* which) {
  for (const std::string* name : {&metrics_name, &general_name}) {
    auto it = env.find(*name);
    if (it != env.end() && !Trim(it->second).empty()) {
      *which = *name;
      return std::string(Trim(it->second));
    }
  }
  return "";
}

// %XX decoding (W3C Baggage values, OTEL_RESOURCE_ATTRIBUTES). False on a bad escape.
bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = http::HexValue(in[i + 1]);
    const int lo = http::HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

// "k1=v1,k2=v2" (W3C Baggage form: no `;` properties; values percent-decoded). Returns
// false with `*why` on the first bad entry. Empty entries (",,") are skipped.
bool ParseKeyValueList(std::string_view text, Pairs* out, std::string* why) {
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || Trim(item.substr(0, eq)).empty()) {
      *why = "'" + std::string(item) + "' is not key=value";
      return false;
    }
    std::string key, value;
    if (!PercentDecode(Trim(item.substr(0, eq)), &key) ||
        !PercentDecode(Trim(item.substr(eq + 1)), &value)) {
      *why = "'" + std::string(item) + "' has a bad %-escape";
      return false;
    }
    out->emplace_back(std::move(key), std::move(value));
  }
  return true;
}

// A whole number of milliseconds (OTEL_*_TIMEOUT, OTEL_METRIC_EXPORT_INTERVAL).
bool ParseMillis(std::string_view text, Nanos* out) {
  const auto ms = ParseIntInRange(text, 0, 86'400'000'000);
  if (!ms) return false;
  *out = std::chrono::milliseconds(*ms);
  return true;
}

bool ParseBounds(std::string_view text, std::vector<double>* out) {
  out->clear();
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto v = ParseNumber(item);
    if (!v) return false;
    if (!out->empty() && *v <= out->back()) return false;
    out->push_back(*v);
  }
  return !out->empty();
}

// The metrics URL of a base endpoint (OTEL_EXPORTER_OTLP_ENDPOINT): base + "/v1/metrics",
// treating the base as ending in '/'.
std::string AppendMetricsPath(std::string base) {
  if (base.empty() || base.back() != '/') base += '/';
  return base + "v1/metrics";
}

// The path part of an http(s) URL ("" if none).
std::string_view PathOf(std::string_view url) {
  const size_t s = url.find("://");
  const size_t p = url.find('/', s == std::string_view::npos ? 0 : s + 3);
  return p == std::string_view::npos ? std::string_view() : url.substr(p);
}

void ApplyEnvironment(const std::map<std::string, std::string>& env, OtlpSettings* s, Problems* p) {
  std::string which;
  if (std::string v = EnvOr(env, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "", &which); !v.empty()) {
    s->endpoint = PathOf(v).empty() ? v + "/" : v;  // used as is; an empty path is "/"
  } else if (v = EnvOr(env, "OTEL_EXPORTER_OTLP_ENDPOINT", "", &which); !v.empty()) {
    s->endpoint = AppendMetricsPath(v);
  }
  if (std::string v =
          EnvOr(env, "OTEL_EXPORTER_OTLP_METRICS_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS", &which);
      !v.empty()) {
    std::string why;
    if (!ParseKeyValueList(v, &s->headers, &why))
      p->Add(which + ": " + why + " (want k1=v1,k2=v2)");
  }
  if (std::string v =
          EnvOr(env, "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT", &which);
      !v.empty()) {
    if (!ParseMillis(v, &s->timeout))
      p->Add(which + ": '" + v + "' is not a number of milliseconds");
  }
  if (std::string v = EnvOr(env, "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
                            "OTEL_EXPORTER_OTLP_COMPRESSION", &which);
      !v.empty()) {
    if (EqualsIgnoreCase(v, "gzip") || EqualsIgnoreCase(v, "none")) {
      s->gzip = EqualsIgnoreCase(v, "gzip");
    } else {
      p->Add(which + ": '" + v + "' is not gzip or none");
    }
  }
  if (std::string v =
          EnvOr(env, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL", &which);
      !v.empty() && v != "http/protobuf") {
    p->Add(which + ": '" + v + "' is not supported: volley speaks http/protobuf only");
  }
  if (std::string v = EnvOr(env, "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "", &which);
      !v.empty() && !EqualsIgnoreCase(v, "cumulative")) {
    s->warnings.push_back(which + "=" + v +
                          " ignored: volley exports cumulative values only (re-sends after a "
                          "failure are then idempotent)");
  }
  if (std::string v = EnvOr(env, "OTEL_METRIC_EXPORT_INTERVAL", "", &which); !v.empty()) {
    if (!ParseMillis(v, &s->interval) || s->interval.count() == 0) {
      p->Add(which + ": '" + v + "' is not a positive number of milliseconds");
    }
  }
  if (std::string v = EnvOr(env, "OTEL_RESOURCE_ATTRIBUTES", "", &which); !v.empty()) {
    Pairs attrs;
    std::string why;
    if (ParseKeyValueList(v, &attrs, &why)) {
      for (auto& [k, val] : attrs) {
        if (k == "service.name") {
          s->service_name = val;
        } else {
          s->resource_attributes.emplace_back(std::move(k), std::move(val));
        }
      }
    } else {  // the spec: a decode error discards the whole variable
      s->warnings.push_back(which + " ignored: " + why);
    }
  }
  if (std::string v = EnvOr(env, "OTEL_SERVICE_NAME", "", &which); !v.empty()) {
    s->service_name = v;
  }
}

void ApplyOption(const std::string& key, const std::string& value, OtlpSettings* s, Problems* p) {
  const std::string where = "otlp option " + key + "='" + value + "': ";
  std::string why;
  if (key == "include" || key == "exclude") {
    RE2 re(value, RE2::Quiet);
    if (!re.ok()) {
      p->Add(where + "not a regular expression (RE2): " + re.error());
    } else {
      (key == "include" ? s->include : s->exclude).push_back(value);
    }
  } else if (key == "label" || key == "labels") {
    Pairs pairs;
    if (!ParseKeyValueList(value, &pairs, &why)) p->Add(where + why + " (want k1=v1,k2=v2)");
    for (auto& kv : pairs) s->labels.push_back(std::move(kv));
  } else if (key == "header" || key == "headers") {
    if (!ParseKeyValueList(value, &s->headers, &why)) p->Add(where + why + " (want k1=v1,k2=v2)");
  } else if (key == "queue_bytes" || key == "queue") {
    auto size = ParseSize(value);
    if (!size || *size == 0) {
      p->Add(where + "want a size above 0 such as 16MiB, 512k or 1048576");
    } else {
      s->queue_bytes = *size;
    }
  } else if (key == "buckets" || key == "histogram_bounds") {
    if (!ParseBounds(value, &s->histogram_bounds)) {
      p->Add(where + "want increasing finite bounds in seconds, e.g. 0.005,0.01,0.1,1");
    }
  } else if (key == "interval" || key == "timeout" || key == "backoff" || key == "backoff_max") {
    auto d = ParseDuration(value);
    if (!d || d->count() <= 0) {
      p->Add(where + "want a positive duration such as 10s or 500ms");
    } else {
      (key == "interval"  ? s->interval
       : key == "timeout" ? s->timeout
       : key == "backoff" ? s->backoff_initial
                          : s->backoff_max) = *d;
    }
  } else if (key == "compression") {
    if (value == "gzip" || value == "none") {
      s->gzip = value == "gzip";
    } else {
      p->Add(where + "want gzip or none");
    }
  } else if (key == "service_name") {
    s->service_name = value;
  } else {
    p->Add("otlp option '" + key +
           "' is unknown; known: include, exclude, label(s), header(s), queue_bytes, buckets, "
           "interval, timeout, compression, service_name, backoff, backoff_max");
  }
}

}  // namespace

Result<OtlpSettings> ParseOtlpSettings(const std::string& url, const Pairs& options,
                                       const std::map<std::string, std::string>& env) {
  OtlpSettings s;
  Problems p;
  ApplyEnvironment(env, &s, &p);
  if (!url.empty()) {
    const std::string_view path = PathOf(url);
    s.endpoint = path.empty() || path == "/" ? AppendMetricsPath(url) : url;
  }
  for (const auto& [key, value] : options) ApplyOption(key, value, &s, &p);
  if (s.timeout.count() == 0) s.timeout = std::chrono::hours(1);  // "0: no limit"; Stop cuts it
  if (s.backoff_max < s.backoff_initial) s.backoff_max = s.backoff_initial;
  if (auto parts = SplitOtlpUrl(s.endpoint); !parts) p.Add(parts.error().message);
  if (!p.empty()) return tl::unexpected(p.ToError());
  return s;
}

std::string OtlpOutput::OtlpEnvDocs() {
  return R"(OTLP metrics export (--out otlp[=URL], or `outputs: [{type: otlp, ...}]` in a plan):
  every interval, the node's cumulative metrics are POSTed as OTLP/HTTP protobuf, retried on
  429/502/503/504 and network errors with exponential backoff (Retry-After honoured).
  URL            http(s)://host:port[/path]; without a path /v1/metrics is appended
  OTEL_EXPORTER_OTLP_ENDPOINT          base URL; /v1/metrics is appended (default
                                       http://localhost:4318)
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT  the full metrics URL, used as is
  OTEL_EXPORTER_OTLP_HEADERS           k1=v1,k2=v2 request headers (values %-encoded)
  OTEL_EXPORTER_OTLP_TIMEOUT           per-request timeout in ms (default 10000; 0: none)
  OTEL_EXPORTER_OTLP_COMPRESSION       gzip or none (default none)
  OTEL_METRIC_EXPORT_INTERVAL          ms between exports (default 10000)
  OTEL_SERVICE_NAME                    resource service.name (default volley)
  OTEL_RESOURCE_ATTRIBUTES             k1=v1,k2=v2 resource attributes (values %-encoded)
  (each OTEL_EXPORTER_OTLP_* also has an OTEL_EXPORTER_OTLP_METRICS_* form, which wins)
  Options (plan entry or --out otlp=URL with the plan's options), which win over variables:
  include=RE / exclude=RE   RE2 on metric names such as volley_requests_total (repeatable)
  label=k=v[,k=v]           extra attributes on every data point (node_id, region and
                            run_id are always set)
  queue_bytes=16MiB         bound of the batches waiting to be sent; when full, the oldest
                            batch is dropped and counted (otlp_dropped_batches_total)
  buckets=0.005,0.01,...    histogram bounds in seconds (default: the Prometheus buckets)
  interval=10s timeout=10s compression=gzip service_name=NAME header=k=v
  backoff=1s backoff_max=30s
)";
}

}  // namespace volley::output
