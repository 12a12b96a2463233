// The coordinator's plan sources: file, Consul KV, Google Cloud Storage (with its tokens).
#include "volley/cluster/config_source.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "volley/cluster/consul_discovery.h"
#include "volley/common/base64.h"
#include "volley/common/http_client.h"
#include "volley/common/strings.h"
#include "volley/common/url.h"

namespace volley::cluster {
namespace {

using nlohmann::json;
constexpr size_t kMaxPlanBytes = 1 << 20;  // as POST /cluster/config
constexpr const char* kScope = "https://www.googleapis.com/auth/devstorage.read_only";

std::string Version(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 6 && i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

Result<FetchedPlan> Fetched(std::string yaml, const std::string& where) {
  FetchedPlan p;
  p.version = Version(yaml);
  p.name = where + "@" + p.version;
  p.yaml = std::move(yaml);
  return p;
}

tl::unexpected<Error> Fail(ErrorCode code, const ConfigSourceOptions& o, const std::string& why) {
  return MakeError(code, "config source " + o.Describe() + ": " + why);
}

// A failed exchange as the error of the source (no header values: tokens stay out).
tl::unexpected<Error> TransportError(const ConfigSourceOptions& o, const Error& e,
                                     const std::string& what) {
  if (e.code == ErrorCode::kTimeout) {
    return Fail(ErrorCode::kTimeout, o,
                what + ": no answer within " + std::to_string(o.timeout.count()) +
                    " s (CLUSTER_CONFIG_TIMEOUT_SECS): " + e.message);
  }
  return Fail(e.code, o, what + ": " + e.message);
}

std::string Snippet(const std::string& body) {
  std::string s(Trim(std::string_view(body).substr(0, 200)));
  return s.empty() ? "" : ": " + s;
}

http::ClientRequest Get(const ConfigSourceOptions& o, std::string url) {
  http::ClientRequest q;
  q.method = "GET";
  q.url = std::move(url);
  q.timeout = o.timeout;
  q.connect_timeout = std::min<Nanos>(o.timeout, std::chrono::seconds(5));
  q.max_response_bytes = kMaxPlanBytes;
  return q;
}

Result<FetchedPlan> FromFile(const ConfigSourceOptions& o) {
  std::ifstream in(o.file, std::ios::binary);
  if (!in) {
    return Fail(ErrorCode::kNotFound, o,
                "cannot open the file (check CLUSTER_CONFIG_FILE and its permissions)");
  }
  std::ostringstream s;
  s << in.rdbuf();
  if (s.str().size() > kMaxPlanBytes) return Fail(ErrorCode::kInvalidArgument, o, "over 1 MiB");
  return Fetched(s.str(), o.file);
}

std::string KeyPath(std::string_view key) {
  std::string out;
  while (true) {
    const size_t slash = key.find('/');
    AppendPercentEncoded(key.substr(0, slash), &out);
    if (slash == std::string_view::npos) break;
    out += '/';
    key.remove_prefix(slash + 1);
  }
  return out;
}

Result<FetchedPlan> FromConsul(const ConfigSourceOptions& o) {
  http::HttpClient client;
  http::ClientRequest q = Get(o, o.consul_addr + "/v1/kv/" + KeyPath(o.consul_key));
  if (!o.consul_token.empty()) q.headers.Add("X-Consul-Token", o.consul_token);
  auto r = client.Send(q);
  if (!r) return TransportError(o, r.error(), "GET");
  if (r->status == 404) {
    return Fail(ErrorCode::kNotFound, o,
                "HTTP 404: the key does not exist; put the plan there (consul kv put " +
                    o.consul_key + " @plan.yaml) or set CONSUL_CONFIG_KEY");
  }
  if (r->status == 403) {
    return Fail(ErrorCode::kInvalidArgument, o,
                "HTTP 403" + Snippet(r->body) +
                    (o.consul_token.empty()
                         ? ": set CONSUL_HTTP_TOKEN to a token that may read the key"
                         : ": CONSUL_HTTP_TOKEN may not read the key (check its policy)"));
  }
  if (r->status != 200) {
    return Fail(ErrorCode::kIo, o, "HTTP " + std::to_string(r->status) + Snippet(r->body));
  }
  const json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.empty() || !j[0].is_object()) {
    return Fail(ErrorCode::kProtocol, o, "the answer is not a KV entry list");
  }
  if (!j[0].contains("Value") || !j[0]["Value"].is_string()) {
    return Fail(ErrorCode::kNotFound, o, "the key has no value; put the plan there");
  }
  auto value = Base64Decode(j[0]["Value"].get<std::string>());
  if (!value) return Fail(ErrorCode::kProtocol, o, "the Value is not base64");
  return Fetched(std::move(*value), "consul-kv:" + o.consul_key);
}

Result<std::string> AccessTokenFrom(const ConfigSourceOptions& o, http::ClientResponse& r,
                                    const std::string& from) {
  const json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("access_token") ||
      !j["access_token"].is_string() || j["access_token"].get<std::string>().empty()) {
    return Fail(ErrorCode::kProtocol, o, from + " answered no access_token");
  }
  return j["access_token"].get<std::string>();
}

Result<std::string> MetadataToken(const ConfigSourceOptions& o) {
  std::string base = o.metadata_host;
  if (base.find("://") == std::string::npos) base = "http://" + base;
  const std::string url = base + "/computeMetadata/v1/instance/service-accounts/default/token";
  http::HttpClient client;
  http::ClientRequest q = Get(o, url);
  q.headers.Add("Metadata-Flavor", "Google");
  auto r = client.Send(q);
  if (!r) {
    return TransportError(o, r.error(),
                          "no token from the metadata server " + base +
                              " (not on GCE? set GOOGLE_APPLICATION_CREDENTIALS or "
                              "GCE_METADATA_HOST)");
  }
  if (r->status != 200) {
    return Fail(ErrorCode::kInvalidArgument, o,
                "the metadata server " + base + " refused a token: HTTP " +
                    std::to_string(r->status) + Snippet(r->body));
  }
  return AccessTokenFrom(o, *r, "the metadata server");
}

Result<std::string> ServiceAccountToken(const ConfigSourceOptions& o) {
  std::ifstream in(o.credentials_file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  if (!in) {
    return Fail(ErrorCode::kInvalidArgument, o,
                "GOOGLE_APPLICATION_CREDENTIALS: cannot read " + o.credentials_file);
  }
  auto key = ParseServiceAccountKey(s.str());
  if (!key) {
    return Fail(
        ErrorCode::kInvalidArgument, o,
        "GOOGLE_APPLICATION_CREDENTIALS " + o.credentials_file + ": " + key.error().message);
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto jwt = SignServiceAccountJwt(*key, kScope, now);
  if (!jwt) {
    return Fail(
        ErrorCode::kInvalidArgument, o,
        "GOOGLE_APPLICATION_CREDENTIALS " + o.credentials_file + ": " + jwt.error().message);
  }
  http::HttpClient client;
  http::ClientRequest q = Get(o, key->token_uri);
  q.method = "POST";
  q.headers.Add("Content-Type", "application/x-www-form-urlencoded");
  q.body = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + *jwt;
  auto r = client.Send(q);
  if (!r) return TransportError(o, r.error(), "POST " + key->token_uri);
  if (r->status != 200) {
    return Fail(ErrorCode::kInvalidArgument, o,
                "the token endpoint " + key->token_uri + " refused the key of " +
                    key->client_email + ": HTTP " + std::to_string(r->status) + Snippet(r->body));
  }
  return AccessTokenFrom(o, *r, key->token_uri);
}

Result<FetchedPlan> FromGcs(const ConfigSourceOptions& o) {
  std::string token;
  if (!o.gcs_anonymous) {
    auto t = o.credentials_file.empty() ? MetadataToken(o) : ServiceAccountToken(o);
    if (!t) return tl::unexpected(t.error());
    token = std::move(*t);
  }
  http::HttpClient client;
  http::ClientRequest q =
      Get(o, o.gcs_endpoint + "/storage/v1/b/" + EncodeObjectName(o.gcs_bucket) + "/o/" +
                 EncodeObjectName(o.gcs_object) + "?alt=media");
  if (!token.empty()) q.headers.Add("Authorization", "Bearer " + token);
  auto r = client.Send(q);
  if (!r) return TransportError(o, r.error(), "GET");
  switch (r->status) {
    case 200:
      return Fetched(std::move(r->body), "gs://" + o.gcs_bucket + "/" + o.gcs_object);
    case 401:
      return Fail(ErrorCode::kInvalidArgument, o,
                  "HTTP 401: the access token was refused (expired or wrong credentials)" +
                      Snippet(r->body));
    case 403:
      return Fail(ErrorCode::kInvalidArgument, o,
                  "HTTP 403: the account may not read it (it needs storage.objects.get on "
                  "the bucket)" +
                      Snippet(r->body));
    case 404:
      return Fail(ErrorCode::kNotFound, o,
                  "HTTP 404: no such object or bucket (check GCS_CONFIG_BUCKET and "
                  "GCS_CONFIG_OBJECT)");
    default:
      return Fail(ErrorCode::kIo, o, "HTTP " + std::to_string(r->status) + Snippet(r->body));
  }
}

}  // namespace

std::string ConfigSourceOptions::Describe() const {
  if (kind == "file") return "file " + file;
  if (kind == "consul-kv") return "consul-kv " + consul_addr + "/v1/kv/" + consul_key;
  if (kind == "gcs") return "gcs gs://" + gcs_bucket + "/" + gcs_object;
  return "none";
}

Result<ConfigSourceOptions> ConfigSourceFromEnv(const config::EnvLookup& env) {
  ConfigSourceOptions o;
  std::string problems;
  auto add = [&](const std::string& line) { problems += (problems.empty() ? "" : "\n") + line; };
  auto text = [&](const char* name, std::string& out) {
    if (const char* v = env(name); v != nullptr && *v != '\0') out = std::string(Trim(v));
  };
  text("CLUSTER_CONFIG_SOURCE", o.kind);
  o.kind = ToLower(o.kind);
  if (o.kind.empty()) return o;
  if (o.kind != "file" && o.kind != "consul-kv" && o.kind != "gcs") {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "CLUSTER_CONFIG_SOURCE: expected file, consul-kv or gcs, got '" + o.kind + "'");
  }
  auto seconds = [&](const char* name, long max, std::chrono::seconds& out) {
    const char* v = env(name);
    if (v == nullptr || *v == '\0') return;
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < 1 || n > max) {
      return add(std::string(name) + ": expected seconds (1-" + std::to_string(max) + "), got '" +
                 v + "'");
    }
    out = std::chrono::seconds(n);
  };
  seconds("CLUSTER_CONFIG_TIMEOUT_SECS", 3600, o.timeout);
  seconds("CLUSTER_CONFIG_POLL_SECS", 86400, o.poll);
  if (o.kind == "file") {
    text("CLUSTER_CONFIG_FILE", o.file);
    if (o.file.empty())
      add("CLUSTER_CONFIG_FILE: the plan file to read (CLUSTER_CONFIG_SOURCE=file)");
  } else if (o.kind == "consul-kv") {
    auto addr = ConsulAddrFromEnv(env);
    if (!addr) add(addr.error().message);
    if (addr) o.consul_addr = *addr;
    if (const char* v = env("CONSUL_HTTP_TOKEN")) o.consul_token = Trim(v);
    text("CONSUL_CONFIG_KEY", o.consul_key);
    while (!o.consul_key.empty() && o.consul_key.front() == '/') o.consul_key.erase(0, 1);
    if (o.consul_key.empty()) add("CONSUL_CONFIG_KEY: must name a key (loadtest/config)");
  } else {
    text("GCS_CONFIG_BUCKET", o.gcs_bucket);
    text("GCS_CONFIG_OBJECT", o.gcs_object);
    if (o.gcs_bucket.empty()) add("GCS_CONFIG_BUCKET: the bucket holding the plan");
    if (o.gcs_object.empty()) add("GCS_CONFIG_OBJECT: the plan's object name (e.g. plans/a.yaml)");
    std::string endpoint;
    text("GCS_API_ENDPOINT", endpoint);
    std::string emulator;
    text("STORAGE_EMULATOR_HOST", emulator);
    if (!emulator.empty()) {
      endpoint = emulator;
      o.gcs_anonymous = true;
    }
    if (!endpoint.empty()) {
      if (endpoint.find("://") == std::string::npos) endpoint = "http://" + endpoint;
      while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
      const char* var = o.gcs_anonymous ? "STORAGE_EMULATOR_HOST" : "GCS_API_ENDPOINT";
      if (auto u = ParseUrl(endpoint); !u) add(std::string(var) + ": " + u.error().message);
      o.gcs_endpoint = endpoint;
    }
    text("GOOGLE_APPLICATION_CREDENTIALS", o.credentials_file);
    text("GCE_METADATA_HOST", o.metadata_host);
  }
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems);
  return o;
}

Result<FetchedPlan> FetchPlan(const ConfigSourceOptions& o) {
  if (o.kind == "file") return FromFile(o);
  if (o.kind == "consul-kv") return FromConsul(o);
  if (o.kind == "gcs") return FromGcs(o);
  return MakeError(ErrorCode::kInvalidArgument, "no config source (CLUSTER_CONFIG_SOURCE)");
}

std::string EncodeObjectName(std::string_view name) {
  std::string out;
  AppendPercentEncoded(name, &out);
  return out;
}

Result<ServiceAccountKey> ParseServiceAccountKey(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "not a JSON service-account key");
  }
  ServiceAccountKey k;
  auto str = [&](const char* field, std::string& out) {
    if (j.contains(field) && j[field].is_string()) out = j[field].get<std::string>();
  };
  str("client_email", k.client_email);
  str("private_key", k.private_key_pem);
  str("private_key_id", k.private_key_id);
  str("token_uri", k.token_uri);
  if (k.client_email.empty() || k.private_key_pem.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a service-account key needs client_email and private_key (download a "
                     "JSON key of type service_account)");
  }
  return k;
}

Result<std::string> SignServiceAccountJwt(const ServiceAccountKey& key, const std::string& scope,
                                          int64_t now) {
  json header{{"alg", "RS256"}, {"typ", "JWT"}};
  if (!key.private_key_id.empty()) header["kid"] = key.private_key_id;
  const json claims{{"iss", key.client_email},
                    {"scope", scope},
                    {"aud", key.token_uri},
                    {"iat", now},
                    {"exp", now + 3600}};
  const std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(key.private_key_pem.data(), static_cast<int>(key.private_key_pem.size())),
      &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr,
      &EVP_PKEY_free);
  if (!pkey || EVP_PKEY_base_id(pkey.get()) != EVP_PKEY_RSA) {
    return MakeError(ErrorCode::kInvalidArgument, "private_key is not a PEM RSA private key");
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1) {
    return MakeError(ErrorCode::kInternal, "RS256 signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return MakeError(ErrorCode::kInternal, "RS256 signing failed");
  }
  sig.resize(len);
  return input + "." + Base64UrlEncode(sig);
}

}  // namespace volley::cluster
