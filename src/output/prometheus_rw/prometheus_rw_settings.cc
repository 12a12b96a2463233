// Options and K6_PROMETHEUS_RW_* environment of the remote write output (see
// ParsePrometheusRwSettings in volley/output/prometheus_rw_output.h and EnvDocs below).
#include <string>
#include <string_view>

#include "volley/common/duration.h"
#include "volley/common/http_lex.h"
#include "volley/common/parse.h"
#include "volley/common/problems.h"
#include "volley/common/strings.h"
#include "volley/config/values.h"
#include "volley/output/prometheus_rw_output.h"

namespace volley::output {
namespace {

constexpr std::string_view kEnvPrefix = "K6_PROMETHEUS_RW_";
constexpr std::string_view kHeaderPrefix = "K6_PROMETHEUS_RW_HEADERS_";

// "k1=v1,k2=v2" (extra labels). Empty entries are skipped.
Result<metrics::Labels> ParseLabelList(std::string_view text) {
  metrics::Labels out;
  std::string bad;
  http::ForEachListElement(text, [&](std::string_view item) {
    if (item.empty()) return true;
    const size_t eq = item.find('=');
    const std::string_view name = eq == std::string_view::npos ? "" : Trim(item.substr(0, eq));
    const std::string_view value = eq == std::string_view::npos ? "" : Trim(item.substr(eq + 1));
    if (name.empty() || value.empty()) {
      bad = std::string(item);
      return false;
    }
    out.emplace_back(std::string(name), std::string(value));
    return true;
  });
  if (!bad.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "'" + bad + "' is not name=value (e.g. env=staging,team=web)");
  }
  return out;
}

// One setting, from an option or a variable: `where` names it in messages.
void Apply(std::string_view key, std::string_view value, const std::string& where,
           PrometheusRwSettings* s, Problems* p) {
  const std::string v(Trim(value));
  auto duration = [&](Nanos* out) {
    const auto d = ParseDuration(v);
    if (!d || *d <= Nanos(0)) {
      p->Add(where, "want a positive duration such as 5s or 500ms, got '" + v + "'");
    } else {
      *out = *d;
    }
  };
  if (key == "server_url" || key == "url") {
    s->url = v;
  } else if (key == "push_interval") {
    duration(&s->push_interval);
  } else if (key == "timeout") {
    duration(&s->timeout);
  } else if (key == "backoff") {
    duration(&s->backoff_initial);
  } else if (key == "backoff_max") {
    duration(&s->backoff_max);
  } else if (key == "username") {
    s->username = v;
  } else if (key == "password") {
    s->password = std::string(value);  // as given: spaces may be part of a password
  } else if (key == "bearer_token") {
    s->bearer_token = v;
  } else if (key == "http_headers" || key == "headers") {
    auto h = config::ParseHeaderList(v);
    if (p->Check(where, h)) s->headers.insert(s->headers.end(), h->begin(), h->end());
  } else if (key == "labels") {
    auto l = ParseLabelList(v);
    if (p->Check(where, l)) s->labels.insert(s->labels.end(), l->begin(), l->end());
  } else if (key == "stale_markers") {
    auto b = ParseBool(v);
    if (p->Check(where, b)) s->stale_markers = *b;
  } else if (key == "queue_bytes") {
    auto n = ParseSize(v);
    if (!n || *n < 1024) {
      p->Add(where, "want a size of at least 1KiB such as 32MiB, got '" + v + "'");
    } else {
      s->queue_bytes = *n;
    }
  } else {
    p->Add(where, "unknown setting (see volley run --help: prometheus-rw)");
  }
}

}  // namespace

Result<PrometheusRwSettings> ParsePrometheusRwSettings(
    const std::string& url, const std::vector<std::pair<std::string, std::string>>& options,
    const std::map<std::string, std::string>& env) {
  PrometheusRwSettings s;
  Problems p;
  for (const auto& [name, value] : env) {
    if (!name.starts_with(kEnvPrefix) || Trim(value).empty()) continue;
    if (name.starts_with(kHeaderPrefix)) {  // K6_PROMETHEUS_RW_HEADERS_<Name>=value
      const std::string header = name.substr(kHeaderPrefix.size());
      auto h = config::ParseHeaderList(header + ": " + value);
      if (p.Check(name, h)) s.headers.insert(s.headers.end(), h->begin(), h->end());
      continue;
    }
    const std::string key = ToLower(std::string_view(name).substr(kEnvPrefix.size()));
    // k6's TLS and trend settings have no meaning here (curl's CA store, classic
    // histograms and quantiles): not an error, so a k6 environment works unchanged.
    if (key == "insecure_skip_tls_verify" || key == "tls_min_version" ||
        key == "trend_as_native_histogram" || key == "trend_stats" ||
        key.starts_with("client_certificate")) {
      continue;
    }
    if (key == "url" || key == "headers") {  // option names only
      p.Add(name, "unknown variable (the URL is K6_PROMETHEUS_RW_SERVER_URL)");
      continue;
    }
    Apply(key, value, name, &s, &p);
  }
  for (const auto& [key, value] : options) Apply(ToLower(key), value, "option " + key, &s, &p);
  if (!url.empty()) s.url = url;
  if (!s.url.starts_with("http://") && !s.url.starts_with("https://")) {
    p.Add("prometheus-rw", "URL '" + s.url +
                               "' must start with http:// or https:// (e.g. "
                               "--out prometheus-rw=http://127.0.0.1:9090/api/v1/write)");
  }
  if (!s.bearer_token.empty() && (!s.username.empty() || !s.password.empty())) {
    p.Add("prometheus-rw", "both a bearer token and a username/password are set: keep one");
  }
  if (s.username.empty() != s.password.empty()) {
    p.Add("prometheus-rw", "basic auth needs both a username and a password");
  }
  if (auto r = p.Done(); !r) return tl::unexpected(r.error());
  return s;
}

std::string PrometheusRwOutput::EnvDocs() {
  return R"(Prometheus remote write (--out prometheus-rw[=URL], or `outputs: [{type: prometheus-rw, ...}]`):
  Remote write 1.0 (snappy WriteRequest) to Prometheus (--web.enable-remote-write-receiver),
  Mimir, Thanos, VictoriaMetrics... The series are the ones /metrics serves.
  Options (plan entry), which win over the variables (k6's names):
    url / K6_PROMETHEUS_RW_SERVER_URL       default http://localhost:9090/api/v1/write
    push_interval / K6_PROMETHEUS_RW_PUSH_INTERVAL   default 5s
    username, password / K6_PROMETHEUS_RW_USERNAME, K6_PROMETHEUS_RW_PASSWORD  basic auth
    bearer_token / K6_PROMETHEUS_RW_BEARER_TOKEN     Authorization: Bearer
    headers / K6_PROMETHEUS_RW_HTTP_HEADERS  "Name: value,Name2: value2"; also
                                              K6_PROMETHEUS_RW_HEADERS_<Name>=value
    stale_markers / K6_PROMETHEUS_RW_STALE_MARKERS   default true (mark series stale at the end)
    labels / K6_PROMETHEUS_RW_LABELS        extra labels "env=staging,team=web"
    timeout / K6_PROMETHEUS_RW_TIMEOUT      per request, default 10s
    queue_bytes / K6_PROMETHEUS_RW_QUEUE_BYTES  backlog bound, default 64MiB
    backoff, backoff_max                    retry backoff (±20 % jitter), default 1s, 30s
  5xx and 429 are retried (429 after its Retry-After), other statuses dropped and counted;
  labels and timeout, queue_bytes and the backoffs are volley's (not k6 settings).
)";
}

}  // namespace volley::output
