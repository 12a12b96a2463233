// Settings of the remote write output: defaults, k6's K6_PROMETHEUS_RW_* names, options
// over variables, the URL argument over both, and errors that name the setting.
#include <gtest/gtest.h>

#include "volley/output/prometheus_rw_output.h"

namespace volley::output {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(PrometheusRwSettings, Defaults) {
  auto s = ParsePrometheusRwSettings("", {}, {});
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->url, "http://localhost:9090/api/v1/write");
  EXPECT_EQ(s->push_interval, seconds(5));
  EXPECT_EQ(s->timeout, seconds(10));
  EXPECT_TRUE(s->stale_markers);
  EXPECT_EQ(s->queue_bytes, 64u << 20);
  EXPECT_TRUE(s->headers.empty());
}

TEST(PrometheusRwSettings, K6VariablesOptionsAndUrl) {
  const std::map<std::string, std::string> env = {
      {"K6_PROMETHEUS_RW_SERVER_URL", "http://env:9090/api/v1/write"},
      {"K6_PROMETHEUS_RW_PUSH_INTERVAL", "2s"},
      {"K6_PROMETHEUS_RW_USERNAME", "alice"},
      {"K6_PROMETHEUS_RW_PASSWORD", "s3cret"},
      {"K6_PROMETHEUS_RW_HTTP_HEADERS", "X-A: 1,X-B: 2"},
      {"K6_PROMETHEUS_RW_HEADERS_X-Scope-OrgID", "tenant"},
      {"K6_PROMETHEUS_RW_STALE_MARKERS", "false"},
      {"K6_PROMETHEUS_RW_TREND_STATS", "p(99)"},  // k6's; no meaning here, not an error
      {"K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY", "false"},
      {"OTHER", "x"}};
  auto s = ParsePrometheusRwSettings(
      "", {{"push_interval", "500ms"}, {"labels", "env=ci,team=web"}}, env);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->url, "http://env:9090/api/v1/write");
  EXPECT_EQ(s->push_interval, milliseconds(500));  // the option wins
  EXPECT_EQ(s->username, "alice");
  EXPECT_EQ(s->password, "s3cret");
  EXPECT_FALSE(s->stale_markers);
  // Variables apply in name order (HEADERS_<name> before HTTP_HEADERS).
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"X-Scope-OrgID", "tenant"}, {"X-A", "1"}, {"X-B", "2"}};
  EXPECT_EQ(s->headers, headers);
  const metrics::Labels labels = {{"env", "ci"}, {"team", "web"}};
  EXPECT_EQ(s->labels, labels);

  auto u = ParsePrometheusRwSettings("http://arg:1/w", {}, env);
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->url, "http://arg:1/w");

  const auto h = PrometheusRwOutput::RequestHeaders(*s);
  ASSERT_GE(h.size(), 5u);
  EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"Content-Encoding", "snappy"}));
  EXPECT_EQ(h[1], (std::pair<std::string, std::string>{"Content-Type", "application/x-protobuf"}));
  EXPECT_EQ(h[3],
            (std::pair<std::string, std::string>{"X-Prometheus-Remote-Write-Version", "0.1.0"}));
  EXPECT_EQ(h[4], (std::pair<std::string, std::string>{"Authorization", "Basic YWxpY2U6czNjcmV0"}));
}

TEST(PrometheusRwSettings, ErrorsNameTheSettingAndTheFix) {
  auto s = ParsePrometheusRwSettings(
      "ftp://x", {{"push_interval", "soon"}, {"queue_bytes", "12"}, {"colour", "red"}},
      {{"K6_PROMETHEUS_RW_BEARER_TOKEN", "t"}, {"K6_PROMETHEUS_RW_USERNAME", "u"}});
  ASSERT_FALSE(s.has_value());
  const std::string& m = s.error().message;
  EXPECT_NE(m.find("option push_interval: want a positive duration such as 5s or 500ms, got "
                   "'soon'"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("option queue_bytes: want a size of at least 1KiB"), std::string::npos) << m;
  EXPECT_NE(m.find("option colour: unknown setting"), std::string::npos) << m;
  EXPECT_NE(m.find("URL 'ftp://x' must start with http:// or https://"), std::string::npos) << m;
  EXPECT_NE(m.find("both a bearer token and a username/password are set"), std::string::npos) << m;
  EXPECT_NE(m.find("basic auth needs both a username and a password"), std::string::npos) << m;
  EXPECT_EQ(m.find("t\n"), std::string::npos);  // no secret in the message
}

}  // namespace
}  // namespace volley::output
