// A fake Google Cloud Storage on loopback (specs/integrations.md §2; no GCS emulator is
// packaged in Debian or npm): the JSON API's download, the metadata server's token
// endpoint and the OAuth token endpoint of the service-account JWT-bearer grant.
//
//   GET  /storage/v1/b/<bucket>/o/<object>?alt=media   the bytes; without alt=media the
//        object's JSON metadata. Object names arrive percent-encoded as one segment.
//        Authorization: Bearer <an issued token> unless require_auth is false (the
//        emulator case): none or another gives 401; a forbidden object 403; missing 404.
//   GET  /computeMetadata/v1/instance/service-accounts/default/token   needs
//        `Metadata-Flavor: Google` (else 403); {"access_token","expires_in","token_type"}.
//   POST /token   form grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT:
//        the JWT's RS256 signature is verified with OpenSSL against public_key_pem, and iss,
//        aud (= token_url()), scope and iat/exp are checked; 400 invalid_grant otherwise.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "volley/common/result.h"

namespace volley::fakes {

struct FakeGcsOptions {
  bool require_auth = true;
  std::string metadata_token = "metadata-token-1";
  std::string service_account_token = "sa-token-1";
  std::string client_email = "loadtest@project.iam.gserviceaccount.com";
  std::string public_key_pem;          // verifies the JWTs (PEM SubjectPublicKeyInfo)
  std::set<std::string> forbidden;     // "bucket/object" answered 403
  std::chrono::milliseconds delay{0};  // downloads answer after this (timeout tests)
};

class FakeGcs {
 public:
  static Result<std::unique_ptr<FakeGcs>> Start(FakeGcsOptions options);
  ~FakeGcs();
  FakeGcs(const FakeGcs&) = delete;
  FakeGcs& operator=(const FakeGcs&) = delete;

  std::string url() const;        // "http://127.0.0.1:<port>"
  std::string host() const;       // "127.0.0.1:<port>" (STORAGE_EMULATOR_HOST, GCE_METADATA_HOST)
  std::string token_url() const;  // url() + "/token"
  void Put(const std::string& bucket, const std::string& object, const std::string& bytes);

  uint64_t downloads() const;            // 200 answers of alt=media
  uint64_t tokens_issued() const;        // by either token endpoint
  std::string last_grant_error() const;  // why the last JWT was refused, "" if none

  class Impl;

 private:
  explicit FakeGcs(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace volley::fakes
