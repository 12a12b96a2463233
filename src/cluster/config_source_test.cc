// The coordinator's plan sources against the fake Consul agent and the fake GCS; the
// object-name encoding; the service-account JWT verified with OpenSSL.
#include "volley/cluster/config_source.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "fakes/fake_consul.h"
#include "fakes/fake_gcs.h"
#include "volley/common/base64.h"

namespace volley::cluster {
namespace {

using nlohmann::json;

struct RsaKey {
  std::string private_pem, public_pem;
};

// A fresh RSA-2048 key pair, generated with OpenSSL for this test.
RsaKey GenerateKey() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  RsaKey out;
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  out.private_pem.assign(data, n);
  BIO_free(b);
  b = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(b, key);
  n = BIO_get_mem_data(b, &data);
  out.public_pem.assign(data, n);
  BIO_free(b);
  EVP_PKEY_free(key);
  return out;
}

bool VerifyRs256(const std::string& public_pem, const std::string& input, const std::string& sig) {
  BIO* b = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

const RsaKey& TestKey() {
  static const RsaKey key = GenerateKey();
  return key;
}

Result<ConfigSourceOptions> FromEnv(const std::map<std::string, std::string>& env) {
  return ConfigSourceFromEnv([&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(ConfigSourceTest, ObjectNamesAreOnePathSegment) {
  EXPECT_EQ(EncodeObjectName("plans/a b+c.yaml"), "plans%2Fa%20b%2Bc.yaml");
  EXPECT_EQ(EncodeObjectName("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(EncodeObjectName("!#$&'()*+,/:;=?@[]"),
            "%21%23%24%26%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D");
  EXPECT_EQ(EncodeObjectName("\xc3\xa9t\xc3\xa9"), "%C3%A9t%C3%A9");  // UTF-8 bytes
  EXPECT_EQ(EncodeObjectName("100%"), "100%25");
}

TEST(ConfigSourceTest, JwtIsSignedRs256AndVerifiesWithThePublicKey) {
  ServiceAccountKey key;
  key.client_email = "sa@p.iam.gserviceaccount.com";
  key.private_key_pem = TestKey().private_pem;
  key.private_key_id = "kid-1";
  auto jwt = SignServiceAccountJwt(key, "https://www.googleapis.com/auth/devstorage.read_only",
                                   1'700'000'000);
  ASSERT_TRUE(jwt) << jwt.error().message;
  const size_t a = jwt->find('.'), b = jwt->rfind('.');
  ASSERT_NE(a, b);
  EXPECT_EQ(jwt->find('='), std::string::npos);  // base64url without padding
  const json header = json::parse(*Base64Decode(jwt->substr(0, a)));
  const json claims = json::parse(*Base64Decode(jwt->substr(a + 1, b - a - 1)));
  EXPECT_EQ(header, (json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "kid-1"}}));
  EXPECT_EQ(claims["iss"], "sa@p.iam.gserviceaccount.com");
  EXPECT_EQ(claims["aud"], "https://oauth2.googleapis.com/token");
  EXPECT_EQ(claims["scope"], "https://www.googleapis.com/auth/devstorage.read_only");
  EXPECT_EQ(claims["iat"], 1'700'000'000);
  EXPECT_EQ(claims["exp"], 1'700'003'600);
  const std::string sig = *Base64Decode(jwt->substr(b + 1));
  EXPECT_EQ(sig.size(), 256u);  // RSA-2048
  EXPECT_TRUE(VerifyRs256(TestKey().public_pem, jwt->substr(0, b), sig));
  EXPECT_FALSE(VerifyRs256(TestKey().public_pem, jwt->substr(0, b) + "x", sig));
  EXPECT_FALSE(VerifyRs256(GenerateKey().public_pem, jwt->substr(0, b), sig));

  key.private_key_pem = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n";
  auto bad = SignServiceAccountJwt(key, "s", 1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "private_key is not a PEM RSA private key");
}

class GcsSource : public ::testing::Test {
 protected:
  void Start(fakes::FakeGcsOptions o = {}) {
    o.public_key_pem = TestKey().public_pem;
    gcs_ = std::move(*fakes::FakeGcs::Start(o));
    gcs_->Put("plans-bucket", "team a/plan.yaml", "version: \"1.0\"\n");
  }
  std::string KeyFile(const std::string& private_pem) {
    const std::string path = ::testing::TempDir() + "/sa-key.json";
    std::ofstream(path) << json{
        {"type", "service_account"},
        {"client_email", "loadtest@project.iam.gserviceaccount.com"},
        {"private_key", private_pem},
        {"private_key_id", "k1"},
        {"token_uri",
         gcs_->token_url()}}.dump();
    return path;
  }
  std::map<std::string, std::string> Env() {
    return {{"CLUSTER_CONFIG_SOURCE", "gcs"},
            {"GCS_CONFIG_BUCKET", "plans-bucket"},
            {"GCS_CONFIG_OBJECT", "team a/plan.yaml"},
            {"GCS_API_ENDPOINT", gcs_->url()},
            {"GCE_METADATA_HOST", gcs_->host()}};
  }
  Result<FetchedPlan> Fetch(const std::map<std::string, std::string>& env) {
    auto o = FromEnv(env);
    EXPECT_TRUE(o) << o.error().message;
    if (!o) return tl::unexpected(o.error());
    return FetchPlan(*o);
  }
  std::unique_ptr<fakes::FakeGcs> gcs_;
};

TEST_F(GcsSource, MetadataServerToken) {
  Start();
  auto p = Fetch(Env());
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->yaml, "version: \"1.0\"\n");
  EXPECT_EQ(p->name, "gs://plans-bucket/team a/plan.yaml@" + p->version);
  EXPECT_EQ(p->version.size(), 12u);
  EXPECT_EQ(gcs_->downloads(), 1u);
  EXPECT_EQ(gcs_->tokens_issued(), 1u);
}

TEST_F(GcsSource, ServiceAccountJwtGrant) {
  Start();
  auto env = Env();
  env["GOOGLE_APPLICATION_CREDENTIALS"] = KeyFile(TestKey().private_pem);
  env["GCE_METADATA_HOST"] = "127.0.0.1:1";  // not used
  auto p = Fetch(env);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(gcs_->last_grant_error(), "");
  EXPECT_EQ(gcs_->downloads(), 1u);

  env["GOOGLE_APPLICATION_CREDENTIALS"] = KeyFile(GenerateKey().private_pem);  // not the account's
  p = Fetch(env);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(gcs_->last_grant_error(), "Invalid JWT Signature.");
  EXPECT_NE(p.error().message.find("config source gcs gs://plans-bucket/team a/plan.yaml: the "
                                   "token endpoint " +
                                   gcs_->token_url() +
                                   " refused the key of loadtest@project.iam.gserviceaccount.com: "
                                   "HTTP 400"),
            std::string::npos)
      << p.error().message;
  EXPECT_NE(p.error().message.find("Invalid JWT Signature."), std::string::npos);
}

TEST_F(GcsSource, EmulatorNeedsNoAuth) {
  fakes::FakeGcsOptions o;
  o.require_auth = false;
  Start(o);
  auto env = Env();
  env.erase("GCS_API_ENDPOINT");
  env["GCE_METADATA_HOST"] = "127.0.0.1:1";     // would fail if asked
  env["STORAGE_EMULATOR_HOST"] = gcs_->host();  // schemeless, as Go's library takes it
  auto p = Fetch(env);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(gcs_->tokens_issued(), 0u);
}

TEST_F(GcsSource, ErrorsNameTheSourceAndTheReason) {
  fakes::FakeGcsOptions o;
  o.forbidden = {"plans-bucket/secret.yaml"};
  Start(o);
  auto env = Env();
  env["GCS_CONFIG_OBJECT"] = "missing.yaml";
  auto p = Fetch(env);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(p.error().message,
            "config source gcs gs://plans-bucket/missing.yaml: HTTP 404: no such object or "
            "bucket (check GCS_CONFIG_BUCKET and GCS_CONFIG_OBJECT)");
  gcs_->Put("plans-bucket", "secret.yaml", "x");
  env["GCS_CONFIG_OBJECT"] = "secret.yaml";
  p = Fetch(env);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("HTTP 403: the account may not read it"), std::string::npos)
      << p.error().message;
  // A token the storage API does not accept: the emulator-less path with no token at all.
  env = Env();
  env["STORAGE_EMULATOR_HOST"] = gcs_->host();  // sends no token to a server that wants one
  p = Fetch(env);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("HTTP 401: the access token was refused"), std::string::npos)
      << p.error().message;
  env = Env();
  env["GCE_METADATA_HOST"] = "127.0.0.1:1";
  p = Fetch(env);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("no token from the metadata server http://127.0.0.1:1"),
            std::string::npos)
      << p.error().message;
}

TEST_F(GcsSource, Timeout) {
  fakes::FakeGcsOptions o;
  o.delay = std::chrono::milliseconds(2500);
  Start(o);
  auto env = Env();
  env["CLUSTER_CONFIG_TIMEOUT_SECS"] = "1";
  auto p = Fetch(env);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::kTimeout);
  EXPECT_NE(p.error().message.find("config source gcs gs://plans-bucket/team a/plan.yaml: GET: "
                                   "no answer within 1 s (CLUSTER_CONFIG_TIMEOUT_SECS)"),
            std::string::npos)
      << p.error().message;
}

TEST(ConfigSourceTest, ConsulKv) {
  fakes::FakeConsulOptions fo;
  fo.acl_token = "kv-token";
  auto consul = std::move(*fakes::FakeConsul::Start(fo));
  std::map<std::string, std::string> env{{"CLUSTER_CONFIG_SOURCE", "consul-kv"},
                                         {"CONSUL_ADDR", consul->url()},
                                         {"CONSUL_HTTP_TOKEN", "kv-token"}};
  auto o = FromEnv(env);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->consul_key, "loadtest/config");
  auto p = FetchPlan(*o);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(p.error().message, "config source consul-kv " + consul->url() +
                                   "/v1/kv/loadtest/config: HTTP 404: the key does not exist; "
                                   "put the plan there (consul kv put loadtest/config "
                                   "@plan.yaml) or set CONSUL_CONFIG_KEY");
  consul->PutKv("loadtest/config", "a: 1\n");
  p = FetchPlan(*o);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->yaml, "a: 1\n");
  EXPECT_EQ(p->name, "consul-kv:loadtest/config@" + p->version);
  const std::string v1 = p->version;
  EXPECT_EQ(FetchPlan(*o)->version, v1);  // same bytes, same version
  consul->PutKv("loadtest/config", "a: 2\n");
  EXPECT_NE(FetchPlan(*o)->version, v1);

  env["CONSUL_HTTP_TOKEN"] = "wrong";
  p = FetchPlan(*FromEnv(env));
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("HTTP 403: ACL not found: CONSUL_HTTP_TOKEN may not read the "
                                   "key"),
            std::string::npos)
      << p.error().message;
  EXPECT_EQ(p.error().message.find("wrong"), std::string::npos);  // the token stays out
}

TEST(ConfigSourceTest, FileAndEnvironmentProblems) {
  auto o =
      FromEnv({{"CLUSTER_CONFIG_SOURCE", "file"}, {"CLUSTER_CONFIG_FILE", "/nonexistent/p.yaml"}});
  ASSERT_TRUE(o);
  auto p = FetchPlan(*o);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message,
            "config source file /nonexistent/p.yaml: cannot open the file (check "
            "CLUSTER_CONFIG_FILE and its permissions)");
  EXPECT_EQ(FromEnv({})->kind, "");
  auto bad = FromEnv({{"CLUSTER_CONFIG_SOURCE", "s3"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "CLUSTER_CONFIG_SOURCE: expected file, consul-kv or gcs, got 's3'");
  bad = FromEnv({{"CLUSTER_CONFIG_SOURCE", "gcs"}, {"CLUSTER_CONFIG_TIMEOUT_SECS", "0"}});
  ASSERT_FALSE(bad);
  for (const char* v :
       {"GCS_CONFIG_BUCKET:", "GCS_CONFIG_OBJECT:", "CLUSTER_CONFIG_TIMEOUT_SECS:"}) {
    EXPECT_NE(bad.error().message.find(v), std::string::npos) << bad.error().message;
  }
}

}  // namespace
}  // namespace volley::cluster
