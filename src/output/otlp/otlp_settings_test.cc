#include <gtest/gtest.h>

#include "otlp_transport.h"
#include "volley/output/otlp_output.h"

namespace volley::output {
namespace {

using Env = std::map<std::string, std::string>;
using Opts = std::vector<std::pair<std::string, std::string>>;

OtlpSettings Parse(const std::string& url, const Opts& opts, const Env& env) {
  auto s = ParseOtlpSettings(url, opts, env);
  EXPECT_TRUE(s.has_value()) << s.error().message;
  return s.value_or(OtlpSettings{});
}

std::string ErrorOf(const std::string& url, const Opts& opts, const Env& env) {
  auto s = ParseOtlpSettings(url, opts, env);
  EXPECT_FALSE(s.has_value());
  return s ? "" : s.error().message;
}

TEST(OtlpSettings, Defaults) {
  const OtlpSettings s = Parse("", {}, {});
  EXPECT_EQ(s.endpoint, "http://localhost:4318/v1/metrics");
  EXPECT_EQ(s.interval, std::chrono::seconds(10));
  EXPECT_EQ(s.timeout, std::chrono::seconds(10));
  EXPECT_FALSE(s.gzip);
  EXPECT_EQ(s.service_name, "volley");
  EXPECT_EQ(s.queue_bytes, 16u << 20);
}

TEST(OtlpSettings, EndpointRules) {
  EXPECT_EQ(Parse("", {}, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}}).endpoint,
            "http://c:4318/v1/metrics");
  EXPECT_EQ(Parse("", {}, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/x/"}}).endpoint,
            "http://c:4318/x/v1/metrics");
  // The metrics variable is used as is; an empty path becomes "/".
  EXPECT_EQ(Parse("", {}, {{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://c:4318"}}).endpoint,
            "http://c:4318/");
  EXPECT_EQ(Parse("", {},
                  {{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:1/p"},
                   {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}})
                .endpoint,
            "http://m:1/p");
  // An explicit URL wins; without a path it gets /v1/metrics.
  EXPECT_EQ(
      Parse("http://u:9", {}, {{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:1/p"}}).endpoint,
      "http://u:9/v1/metrics");
  EXPECT_EQ(Parse("https://u:9/", {}, {}).endpoint, "https://u:9/v1/metrics");
  EXPECT_EQ(Parse("http://u:9/custom", {}, {}).endpoint, "http://u:9/custom");
  EXPECT_EQ(ErrorOf("ftp://x", {}, {}),
            "OTLP endpoint 'ftp://x/v1/metrics': must start with http:// or https:// (e.g. "
            "http://localhost:4318)");
}

TEST(OtlpSettings, HeadersTimeoutCompressionIntervalAndMetricsFormsWin) {
  const OtlpSettings s = Parse("", {},
                               {{"OTEL_EXPORTER_OTLP_HEADERS", "a=1"},
                                {"OTEL_EXPORTER_OTLP_METRICS_HEADERS", "api-key=s%3Dcret, x = y"},
                                {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
                                {"OTEL_EXPORTER_OTLP_COMPRESSION", "GZIP"},
                                {"OTEL_METRIC_EXPORT_INTERVAL", "1500"}});
  ASSERT_EQ(s.headers.size(), 2u);
  EXPECT_EQ(s.headers[0], (std::pair<std::string, std::string>{"api-key", "s=cret"}));
  EXPECT_EQ(s.headers[1], (std::pair<std::string, std::string>{"x", "y"}));
  EXPECT_EQ(s.timeout, std::chrono::milliseconds(2500));
  EXPECT_TRUE(s.gzip);
  EXPECT_EQ(s.interval, std::chrono::milliseconds(1500));
  // 0 means no limit: an hour, and Stop's deadline cuts it.
  EXPECT_EQ(Parse("", {}, {{"OTEL_EXPORTER_OTLP_TIMEOUT", "0"}}).timeout, std::chrono::hours(1));
}

TEST(OtlpSettings, ResourceAttributesAndServiceName) {
  OtlpSettings s = Parse("", {},
                         {{"OTEL_RESOURCE_ATTRIBUTES",
                           "service.name=fromattrs,deployment.environment=prod,team=load%2Ctest"}});
  EXPECT_EQ(s.service_name, "fromattrs");
  ASSERT_EQ(s.resource_attributes.size(), 2u);
  EXPECT_EQ(s.resource_attributes[1].second, "load,test");
  s = Parse("", {},
            {{"OTEL_RESOURCE_ATTRIBUTES", "service.name=fromattrs"}, {"OTEL_SERVICE_NAME", "svc"}});
  EXPECT_EQ(s.service_name, "svc");
  // A decode error discards the whole variable, with a warning.
  s = Parse("", {}, {{"OTEL_RESOURCE_ATTRIBUTES", "a=1,b=%zz"}});
  EXPECT_TRUE(s.resource_attributes.empty());
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_EQ(s.warnings[0], "OTEL_RESOURCE_ATTRIBUTES ignored: 'b=%zz' has a bad %-escape");
}

TEST(OtlpSettings, Options) {
  const OtlpSettings s = Parse("",
                               {{"include", "^volley_request"},
                                {"exclude", "_blocked_"},
                                {"label", "team=perf,env=ci"},
                                {"queue_bytes", "1MiB"},
                                {"buckets", "0.01, 0.1,1"},
                                {"interval", "2s"},
                                {"compression", "gzip"},
                                {"service_name", "lt"}},
                               {{"OTEL_METRIC_EXPORT_INTERVAL", "5000"}});
  EXPECT_EQ(s.include, std::vector<std::string>{"^volley_request"});
  EXPECT_EQ(s.exclude, std::vector<std::string>{"_blocked_"});
  ASSERT_EQ(s.labels.size(), 2u);
  EXPECT_EQ(s.labels[1], (std::pair<std::string, std::string>{"env", "ci"}));
  EXPECT_EQ(s.queue_bytes, 1u << 20);
  EXPECT_EQ(s.histogram_bounds, (std::vector<double>{0.01, 0.1, 1}));
  EXPECT_EQ(s.interval, std::chrono::seconds(2));  // the option wins over the variable
  EXPECT_TRUE(s.gzip);
  EXPECT_EQ(s.service_name, "lt");
}

TEST(OtlpSettings, EveryProblemIsReportedAtOnce) {
  const std::string msg = ErrorOf(
      "", {{"include", "(unclosed"}, {"buckets", "1,0.5"}, {"queue_bytes", "0"}, {"colour", "red"}},
      {{"OTEL_EXPORTER_OTLP_TIMEOUT", "10s"},
       {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
       {"OTEL_METRIC_EXPORT_INTERVAL", "0"},
       {"OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"}});
  for (const char* part :
       {"OTEL_EXPORTER_OTLP_TIMEOUT: '10s' is not a number of milliseconds",
        "OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' is not supported: volley speaks http/protobuf only",
        "OTEL_METRIC_EXPORT_INTERVAL: '0' is not a positive number of milliseconds",
        "OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' is not gzip or none",
        "otlp option include='(unclosed': not a regular expression (RE2): missing ): (unclosed",
        "otlp option buckets='1,0.5': want increasing finite bounds",
        "otlp option queue_bytes='0': want a size above 0", "otlp option 'colour' is unknown"}) {
    EXPECT_NE(msg.find(part), std::string::npos) << part << "\nin:\n" << msg;
  }
  EXPECT_EQ(std::count(msg.begin(), msg.end(), '\n'), 7);
}

TEST(OtlpSettings, TemporalityPreferenceOtherThanCumulativeIsAWarning) {
  const OtlpSettings s =
      Parse("", {}, {{"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta"}});
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("cumulative values only"), std::string::npos);
}

TEST(OtlpSettings, SplitUrl) {
  auto p = SplitOtlpUrl("http://h:4318/v1/metrics?x=1#frag");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->scheme_host_port, "http://h:4318");
  EXPECT_EQ(p->path, "/v1/metrics?x=1");
  EXPECT_EQ(SplitOtlpUrl("http://h")->path, "/");
  EXPECT_FALSE(SplitOtlpUrl("http:///x").has_value());
  EXPECT_FALSE(SplitOtlpUrl("h:4318").has_value());
}

TEST(OtlpSettings, EnvDocsNameEveryVariable) {
  const std::string docs = OtlpOutput::OtlpEnvDocs();
  for (const char* v : {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                        "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TIMEOUT",
                        "OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_METRIC_EXPORT_INTERVAL",
                        "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "queue_bytes"}) {
    EXPECT_NE(docs.find(v), std::string::npos) << v;
  }
}

}  // namespace
}  // namespace volley::output
