// The coordinator takes its plan from Consul KV or GCS (issue 15) on three `volley node`
// processes, against the fake Consul agent and the fake GCS running in this test process,
// and one `volley target` whose request count is the truth.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>

#include "fakes/fake_consul.h"
#include "fakes/fake_gcs.h"
#include "fakes/raw_http.h"
#include "integration/cluster_harness.h"

namespace volley::testing {
namespace {

json Get(const ClusterMember& m, const std::string& path) {
  http::HttpClient client;
  http::ClientRequest req;
  req.method = "GET";
  req.url = "http://" + m.host + ":" + std::to_string(m.http_port) + path;
  req.timeout = std::chrono::seconds(5);
  auto res = client.Send(req);
  if (!res || res->status != 200) return json();
  return json::parse(res->body, nullptr, false);
}

class ConfigSourceRun : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreeLoopbackPort();
    std::string error;
    target_ = Subprocess::Spawn(
        {VOLLEY_BINARY, "target", "--listen", "127.0.0.1:" + std::to_string(port_)}, Env{}, &error);
    ASSERT_NE(target_, nullptr) << error;
    ASSERT_TRUE(PollUntil([&] { return Served().has_value(); }, milliseconds(20'000)));
  }

  std::optional<uint64_t> Served() {
    auto res = volley::fakes::Fetch(port_, "GET", "/__volley/stats");
    if (!res || res->status != 200) return std::nullopt;
    auto j = json::parse(res->body, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j["requests"].get<uint64_t>();
  }

  // `config` goes under config: after baseUrl (line 4 on).
  std::string Plan(const std::string& config) {
    return "version: \"1.0\"\n"
           "config:\n"
           "  baseUrl: \"http://127.0.0.1:" +
           std::to_string(port_) + "\"\n" + config +
           "load:\n"
           "  model: concurrent\n"
           "scenarios:\n"
           "  - name: Get\n"
           "    steps:\n"
           "      - name: GET /\n"
           "        request: {method: GET, path: /}\n";
  }

  std::unique_ptr<ClusterHarness> Cluster(std::map<std::string, std::string> env) {
    env["CLUSTER_START_DELAY"] = "1000";
    env["CLUSTER_LOST_AFTER"] = "2000";
    env["CLUSTER_CONFIG_POLL_SECS"] = "1";
    auto c = std::make_unique<ClusterHarness>(3, env);
    for (size_t i = 0; i < 3; ++i) c->Start(i);
    return c;
  }

  // Waits until member `i` reports a run that ended; returns it.
  json WaitEnded(ClusterHarness& c, size_t i, const std::string& not_id = "") {
    json run;
    PollUntil(
        [&] {
          run = Get(c[i], "/cluster/run");
          return run.is_object() && run.value("phase", "") == "ended" &&
                 run.value("run_id", "") != not_id;
        },
        milliseconds(90'000), milliseconds(100));
    return run;
  }

  // Waits until member `i`'s config source is in `state`; returns the object.
  json WaitSource(ClusterHarness& c, size_t i, const std::string& state) {
    json s;
    PollUntil(
        [&] {
          auto h = Get(c[i], "/health/cluster");
          if (!h.is_object() || !h.contains("config_source")) return false;
          s = h["config_source"];
          return s["state"] == state;
        },
        milliseconds(60'000), milliseconds(50));
    return s;
  }

  uint16_t port_ = 0;
  std::unique_ptr<Subprocess> target_;
};

TEST_F(ConfigSourceRun, ConsulKvPlanRunsOncePerVersion) {
  auto consul = std::move(*fakes::FakeConsul::Start());
  auto c = Cluster({{"CLUSTER_CONFIG_SOURCE", "consul-kv"}, {"CONSUL_ADDR", consul->url()}});
  auto leader = c->WaitForAgreement({0, 1, 2}, milliseconds(60'000));
  ASSERT_TRUE(leader) << c->Diagnostics();

  // No key yet: the leader says why and starts nothing.
  json s = WaitSource(*c, *leader, "error");
  EXPECT_NE(s["last_error"].get<std::string>().find(
                "config source consul-kv " + consul->url() +
                "/v1/kv/loadtest/config: HTTP 404: the key does not exist"),
            std::string::npos)
      << s.dump();
  // An invalid plan: refused with its position, nothing starts.
  consul->PutKv("loadtest/config", Plan("  duration: 10s\n  workers: -5\n"));
  ASSERT_TRUE(PollUntil(
      [&] {
        auto h = Get((*c)[*leader], "/health/cluster");
        return h.is_object() && h["config_source"]["last_error"].get<std::string>().find(
                                    "the plan is invalid; nothing started") != std::string::npos;
      },
      milliseconds(30'000)))
      << c->Diagnostics();
  const std::string invalid = Get((*c)[*leader], "/health/cluster")["config_source"]["last_error"];
  EXPECT_NE(invalid.find("\nconsul-kv:loadtest/config@"), std::string::npos) << invalid;
  EXPECT_NE(invalid.find("@"), std::string::npos) << invalid;
  EXPECT_NE(invalid.find(":5:12: config.workers: must be >= 1, got -5"), std::string::npos)
      << invalid;
  EXPECT_EQ(Get((*c)[*leader], "/cluster/run")["run"], nullptr);

  // A valid plan runs once, split over the three nodes.
  consul->PutKv("loadtest/config", Plan("  duration: 60s\n  workers: 3\n  maxRequests: 300\n"));
  json run = WaitEnded(*c, *leader);
  ASSERT_EQ(run.value("phase", ""), "ended") << c->Diagnostics();
  EXPECT_EQ(run["plan_name"].get<std::string>().rfind("consul-kv:loadtest/config@", 0), 0u);
  EXPECT_EQ(run["participants"].size(), 3u);
  EXPECT_EQ(Served().value_or(0), 300u);
  const std::string first = run["run_id"];

  // A new leader does not run the same version again.
  c->Kill(*leader);
  std::vector<size_t> live;
  for (size_t i = 0; i < 3; ++i) {
    if (i != *leader) live.push_back(i);
  }
  auto next = c->WaitForAgreement(live, milliseconds(30'000));
  ASSERT_TRUE(next) << c->Diagnostics();
  s = WaitSource(*c, *next, "already_ran");
  EXPECT_EQ(s["run_id"], first);
  EXPECT_EQ(Served().value_or(0), 300u);

  // A new version between runs runs on the live nodes, once the dead one is past
  // CLUSTER_LOST_AFTER (the coordinator takes only members it heard from within it).
  ASSERT_TRUE(PollUntil(
      [&] {
        auto h = Get((*c)[*next], "/health/cluster");
        if (!h.is_object()) return false;
        for (const auto& m : h["voters"]) {
          if (m["node_id"] == (*c)[*leader].name) {
            return m["last_contact_ms"].is_null() || m["last_contact_ms"].get<int64_t>() > 2000;
          }
        }
        return false;
      },
      milliseconds(30'000)));
  consul->PutKv("loadtest/config", Plan("  duration: 60s\n  workers: 2\n  maxRequests: 200\n"));
  run = WaitEnded(*c, *next, first);
  ASSERT_NE(run.value("run_id", ""), first) << c->Diagnostics();
  EXPECT_EQ(run["participants"].size(), 2u) << run.dump();
  EXPECT_EQ(Served().value_or(0), 500u);
}

std::string PrivateKeyPem(EVP_PKEY* key) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  std::string out(data, n);
  BIO_free(b);
  return out;
}

std::string PublicKeyPem(EVP_PKEY* key) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(b, key);
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  std::string out(data, n);
  BIO_free(b);
  return out;
}

class GcsRun : public ConfigSourceRun, public ::testing::WithParamInterface<std::string> {};

TEST_P(GcsRun, PlanFromGcsRuns) {
  const std::string mode = GetParam();
  EVP_PKEY* key = EVP_RSA_gen(2048);
  fakes::FakeGcsOptions o;
  o.public_key_pem = PublicKeyPem(key);
  o.require_auth = mode != "emulator";
  auto gcs = std::move(*fakes::FakeGcs::Start(o));
  gcs->Put("lt-plans", "runs/smoke test.yaml",
           Plan("  duration: 60s\n  workers: 3\n  maxRequests: 150\n"));
  std::map<std::string, std::string> env{{"CLUSTER_CONFIG_SOURCE", "gcs"},
                                         {"GCS_CONFIG_BUCKET", "lt-plans"},
                                         {"GCS_CONFIG_OBJECT", "runs/smoke test.yaml"},
                                         {"GCE_METADATA_HOST", "127.0.0.1:1"},
                                         {"GOOGLE_APPLICATION_CREDENTIALS", ""},
                                         {"STORAGE_EMULATOR_HOST", ""}};
  TempDir dir;
  if (mode == "emulator") {
    env["STORAGE_EMULATOR_HOST"] = gcs->host();
  } else {
    env["GCS_API_ENDPOINT"] = gcs->url();
  }
  if (mode == "metadata") env["GCE_METADATA_HOST"] = gcs->host();
  if (mode == "service-account") {
    env["GOOGLE_APPLICATION_CREDENTIALS"] = dir.File("key.json");
    std::ofstream(dir.File("key.json")) << json{
        {"type", "service_account"},
        {"client_email", o.client_email},
        {"private_key", PrivateKeyPem(key)},
        {"private_key_id", "k1"},
        {"token_uri", gcs->token_url()}}.dump();
  }
  EVP_PKEY_free(key);
  auto c = Cluster(env);
  auto leader = c->WaitForAgreement({0, 1, 2}, milliseconds(60'000));
  ASSERT_TRUE(leader) << c->Diagnostics();
  json run = WaitEnded(*c, *leader);
  ASSERT_EQ(run.value("phase", ""), "ended") << c->Diagnostics();
  EXPECT_EQ(run["plan_name"].get<std::string>().rfind("gs://lt-plans/runs/smoke test.yaml@", 0),
            0u);
  EXPECT_EQ(Served().value_or(0), 150u);
  // The coordinator keeps looking (every second here) and finds the version already ran:
  // each look is one download, with one token unless the emulator needs none.
  json source = WaitSource(*c, *leader, "already_ran");
  EXPECT_EQ(source["run_id"], run["run_id"]) << source.dump();
  EXPECT_EQ(Served().value_or(0), 150u);
  c.reset();  // no more looks: the counts below are final
  EXPECT_GE(gcs->downloads(), 2u);
  EXPECT_EQ(gcs->tokens_issued(), mode == "emulator" ? 0u : gcs->downloads());
  EXPECT_EQ(gcs->last_grant_error(), "");
}

INSTANTIATE_TEST_SUITE_P(Auth, GcsRun, ::testing::Values("metadata", "service-account", "emulator"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n) ch = ch == '-' ? '_' : ch;
                           return n;
                         });

}  // namespace
}  // namespace volley::testing
