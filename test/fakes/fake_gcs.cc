#include "fakes/fake_gcs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "volley/common/base64.h"
#include "volley/common/http_server.h"

namespace volley::fakes {
namespace {

using nlohmann::json;

std::string Decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

void JsonError(http::Response& res, int status, const std::string& message) {
  res.status = status;
  res.content_type = "application/json";
  res.body = json{{"error", {{"code", status}, {"message", message}}}}.dump();
}

}  // namespace

class FakeGcs::Impl {
 public:
  explicit Impl(FakeGcsOptions o) : options_(std::move(o)) {}

  Result<void> Start() {
    http::Router router;
    router.Handle("GET", "/storage/v1/b/{}/o/{}",
                  [this](const http::Request& q, http::Response& r) { Download(q, r); },
                  {.blocking = true});
    router.Handle("GET", "/computeMetadata/v1/instance/service-accounts/default/token",
                  [this](const http::Request& q, http::Response& r) { Metadata(q, r); });
    router.Handle("POST", "/token",
                  [this](const http::Request& q, http::Response& r) { Grant(q, r); });
    http::ServerOptions so;
    so.name = "fake GCS";
    so.shutdown_grace = std::chrono::seconds(1);
    auto s = http::HttpServer::Start({"127.0.0.1", 0}, so, std::move(router));
    if (!s) return tl::unexpected(s.error());
    server_ = std::move(*s);
    return {};
  }

  uint16_t port() const { return server_->port(); }
  void Put(const std::string& b, const std::string& o, const std::string& bytes) {
    std::lock_guard<std::mutex> l(mu_);
    objects_[b + "/" + o] = bytes;
  }
  std::atomic<uint64_t> downloads{0}, tokens{0};
  std::string last_grant_error() const {
    std::lock_guard<std::mutex> l(mu_);
    return grant_error_;
  }
  void Stop() {
    if (server_) server_->Stop();
  }

 private:
  void Download(const http::Request& req, http::Response& res) {
    if (options_.require_auth) {
      const std::string_view t = http::AuthorizationToken(req, false);
      std::lock_guard<std::mutex> l(mu_);
      if (t.empty() || issued_.count(std::string(t)) == 0) {
        return JsonError(res, 401, "Invalid Credentials");
      }
    }
    const std::string key = Decode(req.params[0]) + "/" + Decode(req.params[1]);
    if (options_.forbidden.count(key)) {
      return JsonError(res, 403, "loadtest@ does not have storage.objects.get access");
    }
    if (options_.delay.count() > 0) std::this_thread::sleep_for(options_.delay);
    std::lock_guard<std::mutex> l(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return JsonError(res, 404, "No such object: " + key);
    if (req.Query("alt") == "media") {
      ++downloads;
      res.content_type = "application/octet-stream";
      res.body = it->second;
      return;
    }
    res.content_type = "application/json";
    res.body = json{{"kind", "storage#object"},
                    {"bucket", Decode(req.params[0])},
                    {"name", Decode(req.params[1])},
                    {"generation", "1"},
                    {"size", std::to_string(it->second.size())}}
                   .dump();
  }

  void Issue(http::Response& res, const std::string& token) {
    {
      std::lock_guard<std::mutex> l(mu_);
      issued_.insert(token);
    }
    ++tokens;
    res.content_type = "application/json";
    res.body = json{{"access_token", token}, {"expires_in", 3599}, {"token_type", "Bearer"}}.dump();
  }

  void Metadata(const http::Request& req, http::Response& res) {
    if (req.headers.Get("Metadata-Flavor") != "Google") {
      res.status = 403;
      res.body = "Missing Metadata-Flavor:Google header.";
      return;
    }
    Issue(res, options_.metadata_token);
  }

  // Why `jwt` is refused, "" when it is good.
  std::string Verify(const std::string& jwt) const {
    const size_t a = jwt.find('.'), b = jwt.rfind('.');
    if (a == std::string::npos || a == b) return "not a JWT (three parts)";
    auto header = Base64Decode(jwt.substr(0, a));
    auto claims_text = Base64Decode(jwt.substr(a + 1, b - a - 1));
    auto sig = Base64Decode(jwt.substr(b + 1));
    if (!header || !claims_text || !sig) return "not base64url";
    const json h = json::parse(*header, nullptr, false);
    const json c = json::parse(*claims_text, nullptr, false);
    if (h.is_discarded() || c.is_discarded()) return "not JSON";
    if (h.value("alg", "") != "RS256") return "alg is not RS256";
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(options_.public_key_pem.data(),
                        static_cast<int>(options_.public_key_pem.size())),
        &BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    if (!key) return "the fake has no public key";
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    const std::string input = jwt.substr(0, b);
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()),
                         sig->size(), reinterpret_cast<const unsigned char*>(input.data()),
                         input.size()) != 1) {
      return "Invalid JWT Signature.";
    }
    if (c.value("iss", "") != options_.client_email) return "iss is not the service account";
    if (c.value("aud", "") != "http://127.0.0.1:" + std::to_string(port()) + "/token") {
      return "aud is not the token URL";
    }
    if (c.value("scope", "").find("https://www.googleapis.com/auth/devstorage") ==
        std::string::npos) {
      return "no storage scope";
    }
    const int64_t iat = c.value("iat", int64_t{0}), exp = c.value("exp", int64_t{0});
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    if (exp <= now || iat > now + 60 || exp - iat > 3600) return "Invalid JWT: iat/exp";
    return "";
  }

  void Grant(const http::Request& req, http::Response& res) {
    http::Request form;
    form.query = req.body;
    std::string why;
    if (form.Query("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      why = "unsupported grant_type";
    } else {
      why = Verify(form.Query("assertion"));
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      grant_error_ = why;
    }
    if (!why.empty()) {
      res.status = 400;
      res.content_type = "application/json";
      res.body = json{{"error", "invalid_grant"}, {"error_description", why}}.dump();
      return;
    }
    Issue(res, options_.service_account_token);
  }

  const FakeGcsOptions options_;
  std::unique_ptr<http::HttpServer> server_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> objects_;  // guarded by mu_; "bucket/object"
  std::set<std::string> issued_;                // guarded by mu_
  std::string grant_error_;                     // guarded by mu_
};

Result<std::unique_ptr<FakeGcs>> FakeGcs::Start(FakeGcsOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto r = impl->Start(); !r) return tl::unexpected(r.error());
  return std::unique_ptr<FakeGcs>(new FakeGcs(std::move(impl)));
}
FakeGcs::FakeGcs(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FakeGcs::~FakeGcs() { impl_->Stop(); }
std::string FakeGcs::url() const { return "http://" + host(); }
std::string FakeGcs::host() const { return "127.0.0.1:" + std::to_string(impl_->port()); }
std::string FakeGcs::token_url() const { return url() + "/token"; }
void FakeGcs::Put(const std::string& b, const std::string& o, const std::string& bytes) {
  impl_->Put(b, o, bytes);
}
uint64_t FakeGcs::downloads() const { return impl_->downloads.load(); }
uint64_t FakeGcs::tokens_issued() const { return impl_->tokens.load(); }
std::string FakeGcs::last_grant_error() const { return impl_->last_grant_error(); }

}  // namespace volley::fakes
