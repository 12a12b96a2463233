#include "volley/metrics/threshold.h"

#include <gtest/gtest.h>

#include "volley/metrics/names.h"

namespace volley::metrics {
namespace {

using std::chrono::seconds;

// A trend of 1, 2, ..., n milliseconds at 1 ms resolution, so that every percentile is
// exact (units below 256 have a bucket each).
Histogram Millis(int from, int to) {
  Histogram h(1e-3);
  for (int i = from; i <= to; ++i) h.RecordUnits(static_cast<uint64_t>(i));
  return h;
}

Snapshot MakeSnapshot() {
  Snapshot s;
  s.Put(SeriesKey(names::kDuration, {{"scenario", "Browse"}, {"node_id", "a"}}), Millis(1, 50));
  s.Put(SeriesKey(names::kDuration, {{"scenario", "Browse"}, {"node_id", "b"}}), Millis(51, 100));
  s.Put(SeriesKey(names::kDuration, {{"scenario", "Buy"}}), Millis(200, 250));
  // The engine times the same requests per scenario and step in the step series; a filter
  // on scenario or step reads those.
  s.Put(
      SeriesKey(names::kStepDuration, {{"scenario", "Browse"}, {"step", "Home"}, {"node_id", "a"}}),
      Millis(1, 50));
  s.Put(
      SeriesKey(names::kStepDuration, {{"scenario", "Browse"}, {"step", "Home"}, {"node_id", "b"}}),
      Millis(51, 100));
  s.Put(SeriesKey(names::kStepDuration, {{"scenario", "Buy"}, {"step", "Pay"}}), Millis(200, 250));
  s.Put(SeriesKey(names::kScenarioRequests, {{"scenario", "Browse"}}), Counter{700});
  s.Put(SeriesKey(names::kRequests), Counter{1000});
  s.Put(SeriesKey(names::kStatusCodes, {{names::kStatusLabel, "200"}}), Counter{900});
  s.Put(SeriesKey(names::kStatusCodes, {{names::kStatusLabel, "503"}}), Counter{100});
  s.Put(SeriesKey(names::kErrors, {{names::kCategoryLabel, "server_error"}}), Counter{95});
  s.Put(SeriesKey(names::kErrors, {{names::kCategoryLabel, "timeout_error"}}), Counter{5});
  s.Put(SeriesKey(names::kScenarioExecutions, {{"scenario", "Browse"}, {"status", "success"}}),
        Counter{40});
  s.Put(SeriesKey(names::kScenarioExecutions, {{"scenario", "Browse"}, {"status", "failure"}}),
        Counter{2});
  s.Put(SeriesKey(names::kAssertions,
                  {{"scenario", "Browse"}, {"step", "Home"}, {"result", "passed"}}),
        Counter{990});
  s.Put(SeriesKey(names::kAssertions,
                  {{"scenario", "Browse"}, {"step", "Home"}, {"result", "failed"}}),
        Counter{10});
  Gauge g;
  for (double v : {3.0, 9.0, 5.0}) g.Set(v);
  s.Put(SeriesKey(names::kConcurrentRequests), g);
  return s;
}

// Compiles (asserting success) and evaluates over MakeSnapshot() and 4 s.
std::vector<ThresholdResult> Eval(std::string_view metric, std::vector<std::string> conditions,
                                  Nanos elapsed = seconds(4)) {
  auto compiled = CompileThreshold(metric, conditions);
  EXPECT_TRUE(compiled.has_value()) << (compiled ? "" : compiled.error().message);
  if (!compiled) return {};
  return Evaluate(*compiled, MakeSnapshot(), elapsed);
}

std::string CompileError(std::string_view metric, std::vector<std::string> conditions) {
  auto compiled = CompileThreshold(metric, conditions);
  EXPECT_FALSE(compiled.has_value()) << metric;
  if (compiled) return "";
  EXPECT_EQ(compiled.error().code, ErrorCode::kInvalidArgument);
  return compiled.error().message;
}

TEST(Threshold, TrendAggregationsOverAllSeriesOfTheMetric) {
  // 1..100 ms and 200..250 ms: 151 samples.
  auto r = Eval("http_req_duration", {"count==151", "min==1ms", "max==250ms", "med<101ms",
                                      "p(50)>=76ms", "p(0)<2ms", "p(100)>=250ms", "avg>100ms"});
  ASSERT_EQ(r.size(), 8u);
  EXPECT_DOUBLE_EQ(r[0].observed, 151);
  EXPECT_DOUBLE_EQ(r[1].observed, 0.001);
  EXPECT_DOUBLE_EQ(r[2].observed, 0.250);
  EXPECT_DOUBLE_EQ(r[3].observed, 0.076);  // rank ceil(0.5 * 151) = 76
  EXPECT_DOUBLE_EQ(r[4].observed, 0.076);
  EXPECT_DOUBLE_EQ(r[5].observed, 0.001);
  EXPECT_DOUBLE_EQ(r[6].observed, 0.250);
  EXPECT_DOUBLE_EQ(r[7].observed, (5050 + 11475) * 1e-3 / 151);
  for (const auto& one : r) {
    EXPECT_TRUE(one.passed) << one.condition << " " << one.observed_text;
    EXPECT_FALSE(one.no_data);
    EXPECT_EQ(one.metric, "http_req_duration");
  }
  EXPECT_EQ(r[0].observed_text, "count=151");
  EXPECT_EQ(r[2].observed_text, "max=250.00ms");
  EXPECT_EQ(r[3].condition, "med<101ms");
}

TEST(Threshold, LabelFilterMergesTheMatchingSeriesExactly) {
  // Browse is 1..100 ms over two nodes; Buy is left out.
  for (const char* metric :
       {"request_duration_seconds{scenario=\"Browse\"}", "http_req_duration{scenario:Browse}",
        "http_req_duration{ scenario : \"Browse\" }"}) {
    auto r = Eval(metric, {"p(95)<96ms", "p(95)<95", "p(99.9)<=100ms", "avg<50ms", "count>=100"});
    ASSERT_EQ(r.size(), 5u) << metric;
    EXPECT_EQ(r[0].metric, metric);
    EXPECT_DOUBLE_EQ(r[0].observed, 0.095);
    EXPECT_TRUE(r[0].passed);
    EXPECT_FALSE(r[1].passed);  // a bare number is milliseconds: 95 ms is not < 95 ms
    EXPECT_EQ(r[1].observed_text, "p(95)=95.00ms");
    EXPECT_DOUBLE_EQ(r[2].observed, 0.100);  // rank ceil(99.9) = 100 is the maximum
    EXPECT_TRUE(r[2].passed);
    EXPECT_EQ(r[2].observed_text, "p(99.9)=100.00ms");
    EXPECT_DOUBLE_EQ(r[3].observed, 0.0505);
    EXPECT_FALSE(r[3].passed);
    EXPECT_DOUBLE_EQ(r[4].observed, 100);
  }
  // A scenario filter on a request counter reads the scenario's requests.
  auto browse = Eval("http_reqs{scenario:Browse}", {"count==700"});
  ASSERT_EQ(browse.size(), 1u);
  EXPECT_TRUE(browse[0].passed) << browse[0].observed_text;
  // Labels must all match: node b alone is 51..100 ms.
  auto r = Eval("http_req_duration{scenario:Browse,node_id:b}", {"min==51ms"});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].passed) << r[0].observed_text;
}

TEST(Threshold, EveryOperator) {
  const std::pair<const char*, bool> cases[] = {
      {"count==151", true}, {"count===151", true}, {"count!=151", false}, {"count<151", false},
      {"count<=151", true}, {"count>151", false},  {"count>=151", true},  {"count>150", true},
      {"count<152", true},  {"count!=150", true}};
  for (const auto& [condition, passed] : cases) {
    auto r = Eval("http_req_duration", {condition});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].passed, passed) << condition;
  }
}

TEST(Threshold, DurationUnitsAreSecondsAndABareNumberIsMilliseconds) {
  const std::pair<const char*, double> cases[] = {
      {"p(95)<200ms", 0.2}, {"p(95)<200", 0.2},       {"p(95) < 200 ms", 0.2}, {"avg<1.5s", 1.5},
      {"max<500us", 5e-4},  {"max<500µs", 5e-4},      {"min<2m", 120},         {"med<1h", 3600},
      {"avg<0.5", 5e-4},    {"P ( 99.9 ) <= 1e3", 1}, {"min>=+2s", 2}};
  for (const auto& [text, bound] : cases) {
    auto c = CompileThreshold("http_req_duration", {text});
    ASSERT_TRUE(c.has_value()) << text << ": " << c.error().message;
    ASSERT_EQ(c->conditions.size(), 1u);
    EXPECT_DOUBLE_EQ(c->conditions[0].bound, bound) << text;
  }
  auto c = CompileThreshold("http_req_duration", {" p(99.9) <= 1s "});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->conditions[0].text, "p(99.9) <= 1s");
  EXPECT_EQ(c->conditions[0].aggregation, ThresholdAggregation::kPercentile);
  EXPECT_DOUBLE_EQ(c->conditions[0].percentile, 99.9);
  EXPECT_EQ(c->conditions[0].op, ThresholdOperator::kLessEqual);
  // count of a trend and every non-duration aggregation take plain numbers.
  auto n = CompileThreshold("http_req_duration", {"count>1000"});
  ASSERT_TRUE(n.has_value());
  EXPECT_DOUBLE_EQ(n->conditions[0].bound, 1000);
}

TEST(Threshold, CounterCountAndRatePerSecond) {
  auto r = Eval("http_reqs", {"count==1000", "rate==250", "rate>300"});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_DOUBLE_EQ(r[0].observed, 1000);
  EXPECT_TRUE(r[0].passed);
  EXPECT_DOUBLE_EQ(r[1].observed, 250);  // 1000 over 4 s
  EXPECT_TRUE(r[1].passed);
  EXPECT_EQ(r[1].observed_text, "rate=250.00/s");
  EXPECT_FALSE(r[2].passed);
  // volley's own name is the same series.
  auto own = Eval("requests_total", {"count>999"});
  ASSERT_EQ(own.size(), 1u);
  EXPECT_DOUBLE_EQ(own[0].observed, 1000);
  // A zero-length run has no rate.
  auto zero = Eval("http_reqs", {"rate<1"}, Nanos(0));
  ASSERT_EQ(zero.size(), 1u);
  EXPECT_TRUE(zero[0].no_data);
  EXPECT_TRUE(zero[0].passed);
}

TEST(Threshold, HttpReqsStatusFilterCountsResponsesByStatusCode) {
  auto r = Eval("http_reqs{status:200}", {"count==900"});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_DOUBLE_EQ(r[0].observed, 900);
  auto c = CompileThreshold("http_reqs{status:503}", {"count<1"});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->source.name, names::kStatusCodes);
  EXPECT_EQ(c->source.filter, (Labels{{"status_code", "503"}}));
}

TEST(Threshold, HttpReqFailedIsErrorsOverRequests) {
  auto r = Eval("http_req_failed", {"rate<0.01", "rate<=0.1", "rate==0.1"});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_DOUBLE_EQ(r[0].observed, 0.1);  // (95 + 5) / 1000
  EXPECT_FALSE(r[0].passed);
  EXPECT_EQ(r[0].observed_text, "rate=10.00%");
  EXPECT_TRUE(r[1].passed);
  EXPECT_TRUE(r[2].passed);
}

TEST(Threshold, ChecksIsThePassedShareOfAssertions) {
  auto r = Eval("checks", {"rate>0.98", "rate>0.99"});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_DOUBLE_EQ(r[0].observed, 0.99);  // 990 / (990 + 10)
  EXPECT_TRUE(r[0].passed);
  EXPECT_FALSE(r[1].passed);
  EXPECT_EQ(r[1].observed_text, "rate=99.00%");
  auto filtered = Eval("checks{scenario:Browse,step:Home}", {"rate>=0.99"});
  ASSERT_EQ(filtered.size(), 1u);
  EXPECT_TRUE(filtered[0].passed);
}

TEST(Threshold, IterationsCountScenarioExecutions) {
  auto all = Eval("iterations", {"count==42", "rate==10.5"});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0].passed) << all[0].observed_text;
  EXPECT_TRUE(all[1].passed) << all[1].observed_text;
  auto failed = Eval("scenario_executions_total{scenario:Browse,status:failure}", {"count<3"});
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_DOUBLE_EQ(failed[0].observed, 2);
}

TEST(Threshold, GaugeValueMinMax) {
  auto r = Eval("concurrent_requests", {"value==5", "min==3", "max<9"});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_DOUBLE_EQ(r[0].observed, 5);
  EXPECT_TRUE(r[0].passed);
  EXPECT_DOUBLE_EQ(r[1].observed, 3);
  EXPECT_DOUBLE_EQ(r[2].observed, 9);
  EXPECT_FALSE(r[2].passed);
  EXPECT_EQ(r[2].observed_text, "max=9");
}

TEST(Threshold, NoDataPassesAndSaysSoButAMissingCounterIsZero) {
  auto trend = Eval("http_req_duration{scenario:Nope}", {"p(95)<1ms", "avg<1", "count>0"});
  ASSERT_EQ(trend.size(), 3u);
  for (int i : {0, 1}) {
    EXPECT_TRUE(trend[i].passed);
    EXPECT_TRUE(trend[i].no_data);
    EXPECT_EQ(trend[i].observed_text, "no data");
  }
  EXPECT_FALSE(trend[2].no_data);  // a count is a value even when it is 0
  EXPECT_FALSE(trend[2].passed);
  auto rate = Eval("checks{scenario:Nope}", {"rate>0.99"});
  ASSERT_EQ(rate.size(), 1u);
  EXPECT_TRUE(rate[0].no_data);
  EXPECT_TRUE(rate[0].passed);
  auto counter = Eval("dropped_iterations", {"count>10", "count==0"});
  ASSERT_EQ(counter.size(), 2u);
  EXPECT_FALSE(counter[0].no_data);
  EXPECT_FALSE(counter[0].passed);
  EXPECT_TRUE(counter[1].passed);
  EXPECT_FALSE(AnyFailed(rate));
  EXPECT_TRUE(AnyFailed(counter));
}

TEST(Threshold, ConditionErrorsNameTheConditionAndTheFix) {
  const std::pair<const char*, const char*> cases[] = {
      {"p(95)<20xs",
       "p(95)<20xs: unknown unit 'xs' (use us, ms, s, m or h, or a bare number of milliseconds)"},
      {"rate<0.01",
       "rate<0.01: 'rate' does not apply to http_req_duration (a trend); use p(N), avg, min, max, "
       "med or count"},
      {"value<1",
       "value<1: 'value' does not apply to http_req_duration (a trend); use p(N), avg, min, max, "
       "med or count"},
      {"p(101)<1s", "p(101)<1s: percentile 101 is outside [0, 100]"},
      {"p(-1)<1s", "p(-1)<1s: percentile -1 is outside [0, 100]"},
      {"p95<200", "p95<200: write a percentile as p(95)"},
      {"p(95<200", "p(95<200: write a percentile as p(N), e.g. p(95) or p(99.9)"},
      {"mean<200",
       "mean<200: unknown aggregation 'mean' (use p(N), avg, min, max, med, count, rate or "
       "value)"},
      {"<200", "<200: expected an aggregation first, e.g. p(95), avg, count or rate"},
      {"p(95)", "p(95): expected an operator (<, <=, >, >=, ==, !=) after 'p(95)'"},
      {"avg=1", "avg=1: expected an operator (<, <=, >, >=, ==, !=) after 'avg'"},
      {"p(95)<", "p(95)<: expected a number after the operator"},
      {"p(95)<fast", "p(95)<fast: expected a number after the operator, got 'fast'"},
      {"p(95)<inf", "p(95)<inf: expected a number after the operator, got 'inf'"},
      {"count>10s", "count>10s: 'count' takes a plain number; drop 's'"},
      {"p(95)<-5ms", "p(95)<-5ms: a duration cannot be negative"},
      {"p(95)<1e308h", "p(95)<1e308h: the duration is too large"},
      {"p(95)<1e999", "p(95)<1e999: expected a number after the operator, got '1e999'"},
      {"  ", "(empty condition): write a condition such as p(95)<200ms"},
  };
  for (const auto& [condition, message] : cases) {
    EXPECT_EQ(CompileError("http_req_duration", {condition}), message) << condition;
  }
  EXPECT_EQ(CompileError("http_reqs", {"p(95)<1s"}),
            "p(95)<1s: 'p(95)' does not apply to http_reqs (a counter); use count or rate (per "
            "second)");
  EXPECT_EQ(CompileError("http_req_failed", {"avg<1"}),
            "avg<1: 'avg' does not apply to http_req_failed (a rate); use rate");
  EXPECT_EQ(CompileError("http_req_failed", {"rate<1%"}),
            "rate<1%: 'rate' takes a plain number; drop '%'");
  EXPECT_EQ(CompileError("concurrent_requests", {"count<1"}),
            "count<1: 'count' does not apply to concurrent_requests (a gauge); use value, min or "
            "max");
  // Every bad condition of a threshold is reported, one per line.
  EXPECT_EQ(CompileError("http_req_duration", {"p(95)<1s", "avg<1xs", "rate<1"}),
            "avg<1xs: unknown unit 'xs' (use us, ms, s, m or h, or a bare number of "
            "milliseconds)\nrate<1: 'rate' does not apply to http_req_duration (a trend); use "
            "p(N), avg, min, max, med or count");
  EXPECT_EQ(CompileError("http_req_duration", {}),
            "http_req_duration: no conditions (write e.g. p(95)<200ms)");
}

TEST(Threshold, SelectorErrorsNameTheSelectorAndTheFix) {
  const std::pair<const char*, const char*> cases[] = {
      {"http_req_duraton", "http_req_duraton: unknown metric (did you mean http_req_duration?)"},
      {"volley_request_duration_seconds",
       "volley_request_duration_seconds: unknown metric (write it without the namespace prefix: "
       "request_duration_seconds)"},
      {"foo",
       "foo: unknown metric (use a k6 name such as http_req_duration, http_req_failed, "
       "http_reqs, checks, iterations, or a volley metric such as request_duration_seconds)"},
      {"http_req_duration{scenario=\"Browse\"",
       "http_req_duration{scenario=\"Browse\": missing '}' after the labels"},
      {"http_req_duration{scenario}",
       "http_req_duration{scenario}: expected '=' or ':' after label scenario"},
      {"http_req_duration{scenario:}", "http_req_duration{scenario:}: label scenario has no value"},
      {"http_req_duration{a:1,a:2}", "http_req_duration{a:1,a:2}: label a is given twice"},
      {"http_req_duration{a=\"1}",
       "http_req_duration{a=\"1}: the quoted value of label a has "
       "no closing '\"'"},
      {"http_req_duration{a=\"1\" b=2}",
       "http_req_duration{a=\"1\" b=2}: expected ',' or '}' after the value of label a"},
      {"http_req_duration{a:1} x", "http_req_duration{a:1} x: unexpected text after '}': x"},
      {"http_req_duration}",
       "http_req_duration}: unexpected '}' after the metric name (labels go in {})"},
      {"http_req_duration{=1}", "http_req_duration{=1}: expected a label name at '=1}'"},
      {"{a:1}",
       "{a:1}: expected a metric name, e.g. http_req_duration or "
       "request_duration_seconds{scenario=\"Browse\"}"},
      {"",
       "(empty metric): expected a metric name, e.g. http_req_duration or "
       "request_duration_seconds{scenario=\"Browse\"}"},
  };
  for (const auto& [metric, message] : cases) {
    EXPECT_EQ(CompileError(metric, {"p(95)<1s"}), message) << metric;
  }
}

TEST(Threshold, SelectorFormsAgree) {
  auto quoted =
      CompileThreshold("http_req_duration{scenario=\"Bro\\\"wse\",step=\"Home\"}", {"p(95)<1s"});
  auto unquoted =
      CompileThreshold("http_req_duration{step:Home, scenario : Bro\"wse,}", {"p(95)<1s"});
  ASSERT_TRUE(quoted.has_value()) << quoted.error().message;
  ASSERT_TRUE(unquoted.has_value()) << unquoted.error().message;
  const Labels want{{"scenario", "Bro\"wse"}, {"step", "Home"}};
  EXPECT_EQ(quoted->source.filter, want);
  EXPECT_EQ(unquoted->source.filter, want);
  // Per scenario and step, request durations are the step series.
  EXPECT_EQ(quoted->source.name, names::kStepDuration);
  EXPECT_EQ(quoted->source.kind, ThresholdSource::Kind::kTrend);
  auto empty = CompileThreshold("http_req_duration{}", {"p(95)<1s"});
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->source.filter.empty());
  EXPECT_EQ(empty->source.name, names::kDuration);
}

}  // namespace
}  // namespace volley::metrics
