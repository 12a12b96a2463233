#include "volley/output/prometheus.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <string_view>
#include <utility>
#include <variant>

#include "volley/metrics/names.h"

namespace volley::output {
namespace {

namespace names = metrics::names;
using metrics::Labels;

constexpr std::string_view kTotalSuffix = "_total";

// HELP texts of the metrics volley measures (names.h); other names get a generic one.
const char* KnownHelp(std::string_view name) {
  static const std::pair<const char*, const char*> kHelp[] = {
      {names::kRequests, "HTTP requests that ended, with a response or an error."},
      {names::kStatusCodes, "HTTP responses by status code."},
      {names::kErrors,
       "Failed requests by category: client_error (4xx), server_error (5xx), network_error, "
       "timeout_error, tls_error, other_error."},
      {names::kDuration, "Request duration (sending + waiting + receiving) in seconds."},
      {names::kBlocked, "Time spent waiting for a free connection, in seconds."},
      {names::kConnecting, "Time spent establishing the TCP connection, in seconds."},
      {names::kTlsHandshaking, "Time spent in the TLS handshake, in seconds."},
      {names::kSending, "Time spent sending the request, in seconds."},
      {names::kWaiting, "Time to first byte of the response after sending, in seconds."},
      {names::kReceiving, "Time spent receiving the response, in seconds."},
      {names::kIntendedLatency,
       "Open models: from the intended send time to the end of the response, in seconds."},
      {names::kDataSent, "Bytes sent to the target."},
      {names::kDataReceived, "Bytes received from the target."},
      {names::kDroppedIterations,
       "Open models: arrivals not started because too many iterations were in flight."},
      {names::kConcurrentRequests, "Requests in flight at the last tick."},
      {names::kStaleRetries,
       "Requests sent again on a new connection: the server had closed their reused "
       "keep-alive connection before answering."},
  };
  for (const auto& [n, help] : kHelp) {
    if (name == n) return help;
  }
  return nullptr;
}

std::string HelpFor(const std::string& name, const char* type) {
  if (const char* help = KnownHelp(name)) return help;
  return std::string("volley ") + type + " " + name + ".";
}

// HELP lines escape `\` and newline only.
std::string EscapeHelp(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

bool IsNameChar(char c, bool first, bool colon_ok) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon_ok && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

// Replaces what [a-zA-Z_:][a-zA-Z0-9_:]* (metric) or [a-zA-Z_][a-zA-Z0-9_]* (label) does
// not allow with '_'.
std::string SanitizeName(std::string name, bool metric) {
  if (name.empty()) return "_";
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, metric)) name[i] = '_';
  }
  return name;
}

// The constant labels under the series' own (which win on a shared key), names sanitized,
// sorted by key.
Labels SeriesLabels(const Labels& own, const Labels& konst) {
  Labels all;
  all.reserve(konst.size() + own.size());
  for (const auto& [k, v] : konst) all.emplace_back(SanitizeName(k, false), v);
  for (const auto& [k, v] : own) all.emplace_back(SanitizeName(k, false), v);
  return metrics::NormalizeLabels(std::move(all));
}

// `{a="1",b="2"}`; "" when there are none.
std::string LabelText(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  bool first = true;
  auto add = [&](std::string_view k, const std::string& v) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += EscapeLabelValue(v);
    out += '"';
  };
  for (const auto& [k, v] : labels) add(k, v);
  out += '}';
  return out;
}

// One sample of a series: its labels, then an optional last label (le, quantile).
void AppendSample(std::vector<PromSample>& out, const std::string& name, const Labels& labels,
                  double value, std::string_view extra_key = {},
                  std::string_view extra_value = {}) {
  PromSample sample{name, labels, value};
  if (!extra_key.empty()) sample.labels.emplace_back(extra_key, extra_value);
  out.push_back(std::move(sample));
}

struct Family {
  const char* type = "";
  std::string help;
  std::map<Labels, std::vector<PromSample>> series;  // sorted by label set
};

// Families by full name: the std::map sorts them.
class FamilyBuilder {
 public:
  explicit FamilyBuilder(const ExpositionOptions& options) : options_(options) {
    for (double b : options.le_bounds) {
      if (std::isfinite(b)) le_.push_back(b);
    }
    std::sort(le_.begin(), le_.end());
    le_.erase(std::unique(le_.begin(), le_.end()), le_.end());
    for (double b : le_) le_text_.push_back(FormatPromValue(b));
    for (double q : options.quantiles) {
      if (q >= 0 && q <= 1) quantiles_.push_back(q);
    }
    std::sort(quantiles_.begin(), quantiles_.end());
    quantiles_.erase(std::unique(quantiles_.begin(), quantiles_.end()), quantiles_.end());
  }

  std::string FullName(const std::string& name) const {
    return SanitizeName(options_.ns.empty() ? name : options_.ns + "_" + name, true);
  }

  // The slot for one series of family `full` with `labels`; nullptr when the family has
  // another type or the series is already there (first one wins).
  std::vector<PromSample>* Slot(const std::string& full, const char* type, const std::string& help,
                                const Labels& labels) {
    auto [it, inserted] = families_.try_emplace(full);
    Family& f = it->second;
    if (inserted) {
      f.type = type;
      f.help = help;
    } else if (std::string_view(f.type) != type) {
      return nullptr;
    }
    auto [s, fresh] = f.series.try_emplace(labels);
    return fresh ? &s->second : nullptr;
  }

  void AddCounter(const std::string& name, const Labels& labels, double value) {
    const bool total = name.ends_with(kTotalSuffix);
    const char* type = total ? "counter" : "untyped";
    const std::string full = FullName(name);
    if (std::vector<PromSample>* out = Slot(full, type, HelpFor(name, "counter"), labels)) {
      AppendSample(*out, full, labels, value);
    }
  }

  void AddGauge(const std::string& name, const Labels& labels, double value) {
    const std::string full = FullName(name);
    if (std::vector<PromSample>* out = Slot(full, "gauge", HelpFor(name, "gauge"), labels)) {
      AppendSample(*out, full, labels, value);
    }
  }

  void AddRate(const std::string& name, const Labels& labels, const metrics::Rate& rate) {
    std::string base = name;
    if (base.ends_with(kTotalSuffix)) base.resize(base.size() - kTotalSuffix.size());
    const char* help = KnownHelp(name);
    const std::string what = help ? help : "volley rate " + name + ".";
    const std::string all = FullName(base + "_total");
    if (std::vector<PromSample>* out = Slot(all, "counter", what + " All samples.", labels)) {
      AppendSample(*out, all, labels, static_cast<double>(rate.total));
    }
    const std::string nonzero = FullName(base + "_nonzero_total");
    if (std::vector<PromSample>* out =
            Slot(nonzero, "counter", what + " Non-zero samples.", labels)) {
      AppendSample(*out, nonzero, labels, static_cast<double>(rate.nonzero));
    }
  }

  void AddTrend(const std::string& name, Labels labels, const metrics::Histogram& h) {
    std::erase_if(labels,
                  [](const auto& kv) { return kv.first == "le" || kv.first == "quantile"; });
    const std::string full = FullName(name);
    const std::string help = HelpFor(name, "trend");
    const double sum = h.count() == 0 ? 0 : h.sum();
    const auto count = static_cast<double>(h.count());
    if (std::vector<PromSample>* out = Slot(full, "histogram", help, labels)) {
      const std::string bucket = full + "_bucket";
      for (size_t i = 0; i < le_.size(); ++i) {
        AppendSample(*out, bucket, labels, static_cast<double>(h.CountAtOrBelow(le_[i])), "le",
                     le_text_[i]);
      }
      AppendSample(*out, bucket, labels, count, "le", "+Inf");
      AppendSample(*out, full + "_sum", labels, sum);
      AppendSample(*out, full + "_count", labels, count);
    }
    const std::string qname = full + "_quantile";
    const std::string qhelp = "Quantiles (cumulative since the start) of " + full + ".";
    if (std::vector<PromSample>* out = Slot(qname, "summary", qhelp, labels)) {
      for (double q : quantiles_) {
        const double v = h.count() == 0 ? std::nan("") : h.Percentile(q * 100);
        AppendSample(*out, qname, labels, v, "quantile", FormatPromValue(q));
      }
      AppendSample(*out, qname + "_sum", labels, sum);
      AppendSample(*out, qname + "_count", labels, count);
    }
  }

  void AddNodeInfo() {
    bool has_node = false, has_region = false;
    for (const auto& [k, v] : options_.const_labels) {
      has_node = has_node || k == "node_id";
      has_region = has_region || k == "region";
    }
    if (!has_node || !has_region) return;
    const Labels labels = SeriesLabels({{"state", options_.node_state}}, options_.const_labels);
    const std::string full = FullName("cluster_node_info");
    const char* help = "This node: its identity, region and state (standalone when not clustered).";
    if (std::vector<PromSample>* out = Slot(full, "gauge", help, labels)) {
      AppendSample(*out, full, labels, 1);
    }
  }

  std::string Render() const {
    std::string out;
    for (const auto& [name, f] : families_) {
      if (f.series.empty()) continue;
      out += "# HELP " + name + " " + EscapeHelp(f.help) + "\n";
      out += "# TYPE " + name + " " + f.type + "\n";
      for (const auto& [labels, samples] : f.series) {
        for (const PromSample& sample : samples) {
          out += sample.name;
          out += LabelText(sample.labels);
          out += ' ';
          out += FormatPromValue(sample.value);
          out += '\n';
        }
      }
    }
    return out;
  }

  std::vector<PromSample> Samples() const {
    std::vector<PromSample> out;
    for (const auto& [name, f] : families_) {
      for (const auto& [labels, samples] : f.series) {
        out.insert(out.end(), samples.begin(), samples.end());
      }
    }
    return out;
  }

 private:
  const ExpositionOptions& options_;
  std::vector<double> le_;
  std::vector<std::string> le_text_;
  std::vector<double> quantiles_;
  std::map<std::string, Family> families_;
};

}  // namespace

std::vector<double> DefaultLeBounds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};
}

std::string FormatPromValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::trunc(value) && std::fabs(value) < 9.2e18) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);  // shortest round trip
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

FamilyBuilder Build(const metrics::Snapshot& snapshot, const ExpositionOptions& options) {
  FamilyBuilder builder(options);
  // The first type seen for a name decides its family (series of other types are left out).
  std::map<std::string, metrics::MetricType, std::less<>> first_type;
  for (const auto& [key, value] : snapshot) {
    const auto type = metrics::TypeOf(value);
    auto [it, inserted] = first_type.try_emplace(key.name, type);
    if (!inserted && it->second != type) continue;
    const Labels labels = SeriesLabels(key.labels, options.const_labels);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, metrics::Counter>) {
            builder.AddCounter(key.name, labels, v.value);
          } else if constexpr (std::is_same_v<T, metrics::Gauge>) {
            builder.AddGauge(key.name, labels, v.last);
          } else if constexpr (std::is_same_v<T, metrics::Rate>) {
            builder.AddRate(key.name, labels, v);
          } else {
            builder.AddTrend(key.name, labels, v);
          }
        },
        value);
  }
  builder.AddNodeInfo();
  return builder;
}

}  // namespace

std::string RenderPrometheus(const metrics::Snapshot& snapshot, const ExpositionOptions& options) {
  return Build(snapshot, options).Render();
}

std::vector<PromSample> PrometheusSamples(const metrics::Snapshot& snapshot,
                                          const ExpositionOptions& options) {
  return Build(snapshot, options).Samples();
}

}  // namespace volley::output
