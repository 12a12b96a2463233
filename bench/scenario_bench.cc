// Micro-benchmarks of the scenario executor's per-request work: rendering templates,
// extracting from a response, rendering the Cookie header. items/s is operations/s.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "scenario/cookie_jar.h"
#include "scenario/extractor.h"
#include "scenario/template.h"

namespace volley::engine::scenario {
namespace {

// A path, a header value and a body with three variables between them.
void BM_TemplateRenderRequest(benchmark::State& state) {
  VariableTable table;
  auto path = Template::Compile("/api/v1/users/${userId}/orders/${orderId}", table);
  auto header = Template::Compile("Bearer ${token}", table);
  auto body = Template::Compile(
      R"({"user": "${userId}", "order": "${orderId}", "note": "a fixed note of some length"})",
      table);
  Variables vars(&table);
  vars.Set("userId", "u-1234567");
  vars.Set("orderId", "98765");
  vars.Set("token", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.signature");
  std::string out;
  for (auto _ : state) {
    out.clear();
    bool ok = path->Render(vars, &out) && header->Render(vars, &out) && body->Render(vars, &out);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TemplateRenderRequest);

// About 1 KiB of JSON: a list of products.
std::string ProductsBody() {
  std::string body = R"({"status":"ok","page":1,"products":[)";
  for (int i = 0; i < 12; ++i) {
    if (i) body += ",";
    body += R"({"id":)" + std::to_string(1000 + i) + R"(,"name":"Product number )" +
            std::to_string(i) + R"(","price":19.99,"tags":["a","b"]})";
  }
  body += R"(],"token":"abc123"})";
  return body;
}

// Parse (once per response, as the cache does) plus one jsonPath extraction.
void BM_JsonPathExtract1KiB(benchmark::State& state) {
  std::string body = ProductsBody();
  VariableTable table;
  auto ex =
      Extractor::Compile({config::Extraction::Kind::kJsonPath, "id", "$.products[7].id"}, table);
  ResponseView view;
  view.body = body;
  JsonBodyCache cache;
  std::string out;
  for (auto _ : state) {
    cache.Reset();
    benchmark::DoNotOptimize(ex->Apply(view, cache, &out));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.counters["body_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_JsonPathExtract1KiB);

void BM_RegexExtract1KiB(benchmark::State& state) {
  std::string body = ProductsBody();
  VariableTable table;
  auto ex = Extractor::Compile(
      {config::Extraction::Kind::kRegex, "token", R"re("token":"([a-z0-9]+)")re"}, table);
  ResponseView view;
  view.body = body;
  JsonBodyCache cache;
  std::string out;
  for (auto _ : state) benchmark::DoNotOptimize(ex->Apply(view, cache, &out));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_RegexExtract1KiB);

// A jar of 5 cookies on 3 paths; render for a request that matches 4 of them.
void BM_CookieJarRender(benchmark::State& state) {
  CookieJar jar;
  Nanos now(1'000'000'000);
  for (const char* c : {"sid=0123456789abcdef; Path=/", "lang=en; Path=/", "cart=42; Path=/shop",
                        "pref=dark; Path=/shop/items", "admin=1; Path=/admin"}) {
    jar.Store(c, "/", now, 1'700'000'000);
  }
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(jar.Render("/shop/items/17?x=1", now, &out));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CookieJarRender);

}  // namespace
}  // namespace volley::engine::scenario
