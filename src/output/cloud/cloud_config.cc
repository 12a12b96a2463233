#include "cloud_config.h"

#include <cmath>
#include <functional>

#include "volley/common/duration.h"
#include "volley/common/parse.h"
#include "volley/common/strings.h"
#include "volley/common/url.h"

namespace volley::output::cloud {
namespace {

using std::chrono::seconds;
constexpr Nanos kMillisecond = std::chrono::milliseconds(1);

// One setting: its option name, the suffix of its environment variables, whether k6 has
// the K6_CLOUD_ variant, and the help line.
struct Setting {
  const char* option;
  const char* env_suffix;
  bool k6_env;
  const char* default_text;
  const char* help;
};

constexpr Setting kSettings[] = {
    {"apiVersion", "API_VERSION", true, "2", "2: protobuf + snappy (k6 v2); 1: JSON (v1)"},
    {"host", "HOST", true, "-", "base URL when --out cloud= gives none, e.g. http://h:8080"},
    {"pushRefId", "PUSH_REF_ID", true, "run id", "test run id to push to"},
    {"token", "TOKEN", true, "-", "sent as 'Authorization: Token <token>'"},
    {"authScheme", "AUTH_SCHEME", false, "Token", "Token or Bearer"},
    {"aggregationPeriod", "AGGREGATION_PERIOD", true, "3s", "time bucket (whole seconds)"},
    {"waitPeriod", "AGGREGATION_WAIT_PERIOD", true, "8s",
     "a bucket is sent once its end is this old"},
    {"pushInterval", "METRIC_PUSH_INTERVAL", true, "1s", "how often buckets are pushed"},
    {"pushConcurrency", "METRIC_PUSH_CONCURRENCY", true, "1", "requests in flight (1-64)"},
    {"maxSeriesInBatch", "MAX_TIME_SERIES_IN_BATCH", true, "1000", "time series per request"},
    {"timeout", "TIMEOUT", true, "1m", "per request attempt"},
    {"stopOnError", "STOP_ON_ERROR", true, "false",
     "abort the test when the service refuses further metrics"},
    {"maxBacklog", "MAX_BACKLOG", false, "64MiB",
     "bytes of requests waiting to be sent; the oldest are dropped (and counted) beyond"},
    {"retries", "RETRIES", false, "3", "quick retries of a request before it is backlogged"},
    {"retryBackoff", "RETRY_BACKOFF", false, "500ms", "first retry delay (doubles each time)"},
    {"maxRetryBackoff", "MAX_RETRY_BACKOFF", false, "30s", "longest retry delay"},
    {"metricNames", "METRIC_NAMES", false, "volley",
     "volley (namespace_name) or k6 (http_reqs, http_req_duration in ms, ...)"},
};

const Setting* FindSetting(std::string_view option) {
  for (const Setting& s : kSettings) {
    if (option == s.option) return &s;
  }
  // Aliases.
  if (option == "aggregationWaitPeriod") return FindSetting("waitPeriod");
  if (option == "metricPushInterval") return FindSetting("pushInterval");
  if (option == "metricPushConcurrency") return FindSetting("pushConcurrency");
  if (option == "maxTimeSeriesInBatch") return FindSetting("maxSeriesInBatch");
  return nullptr;
}

std::string OptionList() {
  std::string out;
  for (const Setting& s : kSettings) {
    if (!out.empty()) out += ", ";
    out += s.option;
  }
  return out;
}

// A raw value and where it came from ("option timeout", "K6_CLOUD_TIMEOUT").
struct Raw {
  std::string value;
  std::string source;
};

Error Bad(const Raw& raw, const std::string& why, const std::string& example) {
  return Error{ErrorCode::kInvalidArgument, "cloud output: " + raw.source + ": " + why + ", got '" +
                                                raw.value + "' (e.g. " + example + ")"};
}

Result<int64_t> ParseInt(const Raw& raw, int64_t lo, int64_t hi, const std::string& example) {
  auto v = ParseIntInRange(Trim(raw.value), lo, hi);
  if (!v) {
    return tl::unexpected(
        Bad(raw, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi),
            example));
  }
  return v;
}

Result<Nanos> ParseDur(const Raw& raw, Nanos lo, const std::string& example) {
  auto d = ParseDuration(raw.value);
  if (!d || *d < lo) {
    return tl::unexpected(
        Bad(raw, "must be a duration of at least " + FormatDuration(lo), example));
  }
  return *d;
}

Result<bool> ParseBool(const Raw& raw) {
  auto b = ::volley::ParseBool(Trim(raw.value));
  if (!b) return tl::unexpected(Bad(raw, "must be true or false", "true"));
  return b;
}

// Splits "http://host:port/path/" into "http://host:port" and "/path" (common/url.h).
Result<void> ParseUrl(const Raw& raw, CloudConfig* c) {
  const std::string_view text = Trim(raw.value);
  auto url = ::volley::ParseUrl(text);
  if (!url) {
    return tl::unexpected(Bad(raw,
                              "must be an http:// or https:// URL with a host (and no user info)",
                              "http://ingest.example.com:8080"));
  }
  if (text.find_first_of("?#") != std::string_view::npos) {
    return tl::unexpected(Bad(raw, "must not have a query or fragment", "http://h:8080/base"));
  }
  std::string path = url->path == "/" ? "" : url->path;
  while (!path.empty() && path.back() == '/') path.pop_back();
  c->scheme_host_port = url->Origin();
  c->base_path = path;
  return {};
}

}  // namespace

std::string CloudConfig::PushPath() const {
  return base_path + (api_version == 1 ? "/v1/metrics/" : "/v2/metrics/") + run_id;
}

Result<CloudConfig> ParseCloudConfig(const std::string& url, const KeyValues& options,
                                     const std::map<std::string, std::string>& env,
                                     const std::string& run_id, const std::string& ns) {
  // Collect the winning raw value of every setting: option > VOLLEY_CLOUD_ > K6_CLOUD_.
  std::map<std::string, Raw> raw;
  for (const Setting& s : kSettings) {
    for (const char* prefix : {"K6_CLOUD_", "VOLLEY_CLOUD_"}) {
      if (prefix[0] == 'K' && !s.k6_env) continue;
      const std::string var = std::string(prefix) + s.env_suffix;
      if (auto it = env.find(var); it != env.end() && !Trim(it->second).empty()) {
        raw[s.option] = Raw{it->second, var};
      }
    }
  }
  for (const auto& [key, value] : options) {
    const Setting* s = FindSetting(Trim(key));
    if (s == nullptr) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "cloud output: unknown option '" + key + "'; known: " + OptionList());
    }
    raw[s->option] = Raw{value, "option " + std::string(s->option)};
  }

  CloudConfig c;
  c.run_id = run_id;
  c.metric_namespace = ns;
  // Each handler parses one setting into `c`.
  using Handler = std::function<Result<void>(const Raw&)>;
  auto integer = [](int* field, int64_t lo, int64_t hi, std::string example) -> Handler {
    return [=](const Raw& r) -> Result<void> {
      auto v = ParseInt(r, lo, hi, example);
      if (!v) return tl::unexpected(v.error());
      *field = static_cast<int>(*v);
      return {};
    };
  };
  auto duration = [](Nanos* field, Nanos lo, std::string example) -> Handler {
    return [=](const Raw& r) -> Result<void> {
      auto d = ParseDur(r, lo, example);
      if (!d) return tl::unexpected(d.error());
      *field = *d;
      return {};
    };
  };
  // One of `choices` (case-insensitive), stored as written in `choices`.
  auto choice = [](std::string* field, std::vector<std::string> choices,
                   std::string example) -> Handler {
    return [=](const Raw& r) -> Result<void> {
      const std::string v = ToLower(Trim(r.value));
      for (const std::string& ch : choices) {
        if (v == ToLower(ch)) {
          *field = ch;
          return {};
        }
      }
      return tl::unexpected(Bad(r, "must be " + choices[0] + " or " + choices[1], example));
    };
  };
  int max_series = 1000;
  std::string names = "volley";
  const std::map<std::string, Handler> handlers = {
      {"apiVersion", integer(&c.api_version, 1, 2, "apiVersion=2")},
      {"host", [&](const Raw& r) { return ParseUrl(r, &c); }},
      {"pushRefId",
       [&](const Raw& r) -> Result<void> {
         std::string id(Trim(r.value));
         if (id.find_first_of("/?#% ") != std::string::npos) {
           return tl::unexpected(Bad(r, "must not contain / ? # % or spaces", "run-42"));
         }
         c.run_id = id;
         return {};
       }},
      {"token",
       [&](const Raw& r) -> Result<void> {
         c.token = std::string(Trim(r.value));
         if (c.token.find_first_of("\r\n") != std::string::npos) {
           return tl::unexpected(Error{ErrorCode::kInvalidArgument,
                                       "cloud output: " + r.source + ": must be one line"});
         }
         return {};
       }},
      {"authScheme", choice(&c.auth_scheme, {"Token", "Bearer"}, "authScheme=Bearer")},
      {"aggregationPeriod",
       [&](const Raw& r) -> Result<void> {
         auto d = ParseDur(r, seconds(1), "aggregationPeriod=3s");
         if (!d || d->count() % 1'000'000'000 != 0 || *d > std::chrono::hours(1)) {
           return tl::unexpected(
               Bad(r, "must be whole seconds from 1s to 1h", "aggregationPeriod=3s"));
         }
         c.aggregation_period = *d;
         return {};
       }},
      {"waitPeriod", duration(&c.wait_period, Nanos(0), "waitPeriod=8s")},
      {"pushInterval", duration(&c.push_interval, kMillisecond, "pushInterval=1s")},
      {"pushConcurrency", integer(&c.push_concurrency, 1, 64, "pushConcurrency=2")},
      {"maxSeriesInBatch", integer(&max_series, 1, 1'000'000, "maxSeriesInBatch=1000")},
      {"timeout", duration(&c.timeout, kMillisecond, "timeout=30s")},
      {"stopOnError",
       [&](const Raw& r) -> Result<void> {
         auto b = ParseBool(r);
         if (!b) return tl::unexpected(b.error());
         c.stop_on_error = *b;
         return {};
       }},
      {"maxBacklog",
       [&](const Raw& r) -> Result<void> {
         auto size = ParseSize(r.value);
         if (!size) return tl::unexpected(Bad(r, "must be a size", "maxBacklog=64MiB"));
         c.max_backlog_bytes = *size;
         return {};
       }},
      {"retries", integer(&c.retries, 0, 100, "retries=3")},
      {"retryBackoff", duration(&c.retry_backoff, kMillisecond, "retryBackoff=500ms")},
      {"maxRetryBackoff", duration(&c.max_retry_backoff, kMillisecond, "maxRetryBackoff=30s")},
      {"metricNames", choice(&names, {"volley", "k6"}, "metricNames=k6")},
  };
  // The URL argument (--out cloud=URL, the plan entry's url) wins over `host`.
  if (!Trim(url).empty()) raw["host"] = Raw{url, "URL"};
  for (const Setting& s : kSettings) {
    auto it = raw.find(s.option);
    if (it == raw.end()) continue;
    if (auto r = handlers.at(s.option)(it->second); !r) return tl::unexpected(r.error());
  }
  if (c.scheme_host_port.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cloud output: no URL: use --out cloud=http://HOST:PORT, the plan's "
                     "outputs[].url, or K6_CLOUD_HOST");
  }
  if (c.run_id.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cloud output: no test run id: set the pushRefId option or "
                     "K6_CLOUD_PUSH_REF_ID");
  }
  if (c.max_retry_backoff < c.retry_backoff) c.max_retry_backoff = c.retry_backoff;
  c.max_series_in_batch = static_cast<size_t>(max_series);
  c.metric_names = names == "k6" ? MetricNames::kK6 : MetricNames::kVolley;
  return c;
}

std::string CloudConfigDocs() {
  std::string out =
      "Cloud output (--out cloud=URL, or outputs: [{type: cloud, url: URL, options...}]).\n"
      "Options (plan/flag) win over environment variables, VOLLEY_CLOUD_* over K6_CLOUD_*:\n";
  for (const Setting& s : kSettings) {
    std::string vars = std::string("VOLLEY_CLOUD_") + s.env_suffix;
    if (s.k6_env) vars = std::string("K6_CLOUD_") + s.env_suffix + ", " + vars;
    out += "  " + std::string(s.option) + " (" + vars + "; default " + s.default_text +
           "): " + s.help + "\n";
  }
  return out;
}

}  // namespace volley::output::cloud
