// Where the coordinator takes the test plan from (issue 15, the seed's
// CLUSTER_CONFIG_SOURCE): a file, a Consul KV key, or a Google Cloud Storage object
// (specs/integrations.md §1 "KV" and §2). The fetch is one blocking call with the source's
// timeout; every error names the source and the reason (HTTP 401/403/404 and what they
// mean, a timeout, an unreadable file). Thread-safe (pure functions of their arguments).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "volley/common/result.h"
#include "volley/config/env.h"

namespace volley::cluster {

struct ConfigSourceOptions {
  std::string kind;  // CLUSTER_CONFIG_SOURCE: "" (none) | file | consul-kv | gcs
  std::string file;  // CLUSTER_CONFIG_FILE
  // consul-kv: CONSUL_ADDR, CONSUL_HTTP_TOKEN, CONSUL_CONFIG_KEY.
  std::string consul_addr = "http://127.0.0.1:8500";
  std::string consul_token;
  std::string consul_key = "loadtest/config";
  // gcs: GCS_CONFIG_BUCKET, GCS_CONFIG_OBJECT; STORAGE_EMULATOR_HOST (no auth);
  // GCS_API_ENDPOINT (another JSON API endpoint, auth kept: tests, private endpoints);
  // GOOGLE_APPLICATION_CREDENTIALS (a service-account JSON key), else the metadata server
  // GCE_METADATA_HOST (metadata.google.internal).
  std::string gcs_bucket, gcs_object;
  std::string gcs_endpoint = "https://storage.googleapis.com";
  bool gcs_anonymous = false;  // STORAGE_EMULATOR_HOST was set
  std::string credentials_file;
  std::string metadata_host = "metadata.google.internal";
  std::chrono::seconds timeout{30};  // CLUSTER_CONFIG_TIMEOUT_SECS
  std::chrono::seconds poll{10};     // CLUSTER_CONFIG_POLL_SECS: look for a new version

  // "file plan.yaml", "consul-kv http://127.0.0.1:8500/v1/kv/loadtest/config",
  // "gcs gs://bucket/object": how errors and logs name the source.
  std::string Describe() const;
};

// The CLUSTER_CONFIG_* variables (and those named above). kind "" when
// CLUSTER_CONFIG_SOURCE is unset. kInvalidArgument naming every bad or missing variable.
Result<ConfigSourceOptions> ConfigSourceFromEnv(const config::EnvLookup& env);

struct FetchedPlan {
  std::string yaml;
  // The plan's name in positions and in the run record: "<where>@<version>", e.g.
  // "consul-kv:loadtest/config@3f2a9c1b2d4e" (version = the first 12 hex digits of the
  // SHA-256 of the bytes), so a coordinator elected later sees that this version ran.
  std::string name;
  std::string version;
};

// Reads the plan once. Errors: kNotFound (no such file, key or object), kInvalidArgument
// (refused credentials: 401/403, a bad key file), kTimeout, kIo, kProtocol; the message
// starts with Describe() and says how to fix it.
Result<FetchedPlan> FetchPlan(const ConfigSourceOptions& options);

// GCS's one-path-segment encoding of an object name: every byte outside A-Z a-z 0-9 - . _ ~
// becomes %XX ("a b/c" → "a%20b%2Fc").
std::string EncodeObjectName(std::string_view name);

// A service-account JSON key (the fields the JWT-bearer grant needs).
struct ServiceAccountKey {
  std::string client_email, private_key_pem, private_key_id;
  std::string token_uri = "https://oauth2.googleapis.com/token";
};
Result<ServiceAccountKey> ParseServiceAccountKey(std::string_view json_text);

// The signed JWT of the grant: header {"alg":"RS256","typ":"JWT","kid"}, claims iss, scope,
// aud = token_uri, iat = now, exp = now + 3600; base64url without padding; RSASSA-PKCS1-v1_5
// SHA-256 with the key (OpenSSL). kInvalidArgument when the PEM is not an RSA private key.
Result<std::string> SignServiceAccountJwt(const ServiceAccountKey& key, const std::string& scope,
                                          int64_t now_unix_seconds);

}  // namespace volley::cluster
