#include "cloud_config.h"

#include <gtest/gtest.h>

namespace volley::output::cloud {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Result<CloudConfig> Parse(const std::string& url, const KeyValues& options,
                          const std::map<std::string, std::string>& env = {}) {
  return ParseCloudConfig(url, options, env, "run-1", "volley");
}

TEST(CloudConfig, DefaultsAreK6s) {
  auto c = Parse("http://127.0.0.1:8080", {});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->api_version, 2);
  EXPECT_EQ(c->scheme_host_port, "http://127.0.0.1:8080");
  EXPECT_EQ(c->base_path, "");
  EXPECT_EQ(c->PushPath(), "/v2/metrics/run-1");
  EXPECT_EQ(c->aggregation_period, seconds(3));
  EXPECT_EQ(c->wait_period, seconds(8));
  EXPECT_EQ(c->push_interval, seconds(1));
  EXPECT_EQ(c->push_concurrency, 1);
  EXPECT_EQ(c->max_series_in_batch, 1000u);
  EXPECT_EQ(c->timeout, seconds(60));
  EXPECT_EQ(c->retries, 3);
  EXPECT_FALSE(c->stop_on_error);
  EXPECT_EQ(c->max_backlog_bytes, 64u << 20);
  EXPECT_EQ(c->metric_names, MetricNames::kVolley);
  EXPECT_EQ(c->run_id, "run-1");
}

TEST(CloudConfig, OptionsWinOverVolleyEnvWhichWinsOverK6Env) {
  const std::map<std::string, std::string> env = {
      {"K6_CLOUD_AGGREGATION_PERIOD", "5s"},
      {"VOLLEY_CLOUD_AGGREGATION_PERIOD", "7s"},
      {"K6_CLOUD_AGGREGATION_WAIT_PERIOD", "2s"},
      {"K6_CLOUD_METRIC_PUSH_INTERVAL", "250ms"},
      {"K6_CLOUD_METRIC_PUSH_CONCURRENCY", "3"},
      {"K6_CLOUD_MAX_TIME_SERIES_IN_BATCH", "10"},
      {"K6_CLOUD_TIMEOUT", "5s"},
      {"K6_CLOUD_TOKEN", "secret"},
      {"K6_CLOUD_PUSH_REF_ID", "ref-9"},
      {"K6_CLOUD_STOP_ON_ERROR", "true"},
      {"K6_CLOUD_API_VERSION", "1"},
      {"VOLLEY_CLOUD_MAX_BACKLOG", "1MiB"},
  };
  auto c = Parse("http://h:1/base/", {{"aggregationPeriod", "9s"}, {"pushConcurrency", "2"}}, env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->aggregation_period, seconds(9));    // option
  EXPECT_EQ(c->push_concurrency, 2);               // option over K6_ env
  EXPECT_EQ(c->wait_period, seconds(2));           // K6_ env
  EXPECT_EQ(c->push_interval, milliseconds(250));  // K6_ env
  EXPECT_EQ(c->max_series_in_batch, 10u);
  EXPECT_EQ(c->timeout, seconds(5));
  EXPECT_EQ(c->token, "secret");
  EXPECT_EQ(c->run_id, "ref-9");
  EXPECT_TRUE(c->stop_on_error);
  EXPECT_EQ(c->api_version, 1);
  EXPECT_EQ(c->max_backlog_bytes, 1u << 20);
  EXPECT_EQ(c->base_path, "/base");
  EXPECT_EQ(c->PushPath(), "/base/v1/metrics/ref-9");

  // Without the option, VOLLEY_CLOUD_ beats K6_CLOUD_.
  auto d = Parse("http://h:1", {}, env);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->aggregation_period, seconds(7));
}

TEST(CloudConfig, UrlFallsBackToHostOptionThenEnv) {
  auto c = Parse("", {}, {{"K6_CLOUD_HOST", "https://ingest.example.com"}});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->scheme_host_port, "https://ingest.example.com");
  c = Parse("", {{"host", "http://other:9"}}, {{"K6_CLOUD_HOST", "https://x"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scheme_host_port, "http://other:9");
  c = Parse("http://url:1", {{"host", "http://other:9"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scheme_host_port, "http://url:1");
}

TEST(CloudConfig, BadValuesNameTheOptionAndTheFix) {
  struct Case {
    KeyValues options;
    std::map<std::string, std::string> env;
    std::string expect;  // substring of the message
  };
  const Case cases[] = {
      {{{"aggregationPeriod", "1.5s"}}, {}, "option aggregationPeriod: must be whole seconds"},
      {{{"aggregationPeriod", "0s"}}, {}, "aggregationPeriod"},
      {{{"waitPeriod", "soon"}}, {}, "option waitPeriod: must be a duration"},
      {{{"pushConcurrency", "0"}}, {}, "option pushConcurrency: must be an integer from 1 to 64"},
      {{{"pushConcurrency", "2x"}}, {}, "got '2x'"},
      {{{"apiVersion", "3"}}, {}, "apiVersion"},
      {{{"stopOnError", "maybe"}}, {}, "must be true or false"},
      {{{"maxBacklog", "lots"}}, {}, "option maxBacklog: must be a size"},
      {{{"metricNames", "prom"}}, {}, "must be volley or k6"},
      {{{"bogus", "1"}}, {}, "unknown option 'bogus'; known: apiVersion"},
      {{}, {{"K6_CLOUD_TIMEOUT", "-1s"}}, "K6_CLOUD_TIMEOUT: must be a duration"},
      {{}, {{"K6_CLOUD_METRIC_PUSH_CONCURRENCY", "100"}}, "K6_CLOUD_METRIC_PUSH_CONCURRENCY"},
      {{{"host", "ftp://x"}}, {}, "must be an http:// or https:// URL"},
      {{{"pushRefId", "a/b"}}, {}, "option pushRefId: must not contain"},
  };
  for (const Case& c : cases) {
    auto r = Parse("", c.options, c.env);
    if (c.options.empty() || c.options[0].first != "host") {
      r = Parse("http://h:1", c.options, c.env);
    }
    ASSERT_FALSE(r) << c.expect;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.rfind("cloud output: ", 0), 0u) << r.error().message;
  }
}

TEST(CloudConfig, NeedsAUrlAndARunId) {
  auto r = Parse("", {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no URL"), std::string::npos);
  auto n = ParseCloudConfig("http://h:1", {}, {}, "", "volley");
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message.find("K6_CLOUD_PUSH_REF_ID"), std::string::npos);
}

TEST(CloudConfig, AliasesAndBooleansAndAuth) {
  auto c = Parse("http://h:1", {{"aggregationWaitPeriod", "0"},
                                {"maxTimeSeriesInBatch", "7"},
                                {"stopOnError", "1"},
                                {"authScheme", "bearer"},
                                {"token", "t"},
                                {"metricNames", "K6"}});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->wait_period, Nanos(0));
  EXPECT_EQ(c->max_series_in_batch, 7u);
  EXPECT_TRUE(c->stop_on_error);
  EXPECT_EQ(c->auth_scheme, "Bearer");
  EXPECT_EQ(c->metric_names, MetricNames::kK6);
}

TEST(CloudConfig, DocsListEveryVariable) {
  const std::string docs = CloudConfigDocs();
  for (const char* var :
       {"K6_CLOUD_API_VERSION", "K6_CLOUD_AGGREGATION_PERIOD", "K6_CLOUD_AGGREGATION_WAIT_PERIOD",
        "K6_CLOUD_METRIC_PUSH_INTERVAL", "K6_CLOUD_METRIC_PUSH_CONCURRENCY",
        "K6_CLOUD_MAX_TIME_SERIES_IN_BATCH", "K6_CLOUD_HOST", "K6_CLOUD_TIMEOUT", "K6_CLOUD_TOKEN",
        "K6_CLOUD_PUSH_REF_ID", "K6_CLOUD_STOP_ON_ERROR", "VOLLEY_CLOUD_MAX_BACKLOG"}) {
    EXPECT_NE(docs.find(var), std::string::npos) << var;
  }
}

}  // namespace
}  // namespace volley::output::cloud
