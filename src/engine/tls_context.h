// The OpenSSL client context shared by every connection of a test.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "volley/common/result.h"
#include "volley/config/test_plan.h"

namespace volley::engine {

// Immutable after Create(); SSL_CTX is safe to use from several threads for SSL_new.
class TlsContext {
 public:
  // Verification is on unless options.skip_verify: the system trust store (plus ca_file),
  // and the certificate must match `host`. A client certificate and key enable mTLS.
  static Result<std::unique_ptr<TlsContext>> Create(const config::TlsOptions& options,
                                                    const std::string& host);
  ~TlsContext();
  SSL_CTX* ctx() const { return ctx_; }
  const std::string& host() const { return host_; }
  bool verify() const { return verify_; }
  bool host_is_ip() const { return host_is_ip_; }

 private:
  TlsContext() = default;
  SSL_CTX* ctx_ = nullptr;
  std::string host_;
  bool verify_ = true;
  bool host_is_ip_ = false;
};

// The last OpenSSL error as text (drains the thread's error queue).
std::string OpenSslErrorText();

}  // namespace volley::engine
