#include "tls_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>

namespace volley::engine {

std::string OpenSslErrorText() {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text.empty() ? "unknown TLS error" : text;
}

Result<std::unique_ptr<TlsContext>> TlsContext::Create(const config::TlsOptions& options,
                                                       const std::string& host) {
  std::unique_ptr<TlsContext> t(new TlsContext());
  t->host_ = host;
  t->verify_ = !options.skip_verify;
  in6_addr addr;
  t->host_is_ip_ =
      inet_pton(AF_INET, host.c_str(), &addr) == 1 || inet_pton(AF_INET6, host.c_str(), &addr) == 1;
  t->ctx_ = SSL_CTX_new(TLS_client_method());
  if (!t->ctx_) return MakeError(ErrorCode::kTls, "SSL_CTX_new: " + OpenSslErrorText());
  SSL_CTX_set_min_proto_version(t->ctx_, TLS1_2_VERSION);
  if (t->verify_) {
    SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_default_verify_paths(t->ctx_) != 1) {
      return MakeError(ErrorCode::kTls, "cannot load the system CA store: " + OpenSslErrorText());
    }
    if (!options.ca_file.empty() &&
        SSL_CTX_load_verify_locations(t->ctx_, options.ca_file.c_str(), nullptr) != 1) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "CA file " + options.ca_file +
              " (--cacert / CA_CERT_PATH): cannot load it as PEM: " + OpenSslErrorText());
    }
  } else {
    SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_NONE, nullptr);
  }
  if (!options.client_cert_path.empty()) {
    if (SSL_CTX_use_certificate_chain_file(t->ctx_, options.client_cert_path.c_str()) != 1) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "CLIENT_CERT_PATH " + options.client_cert_path +
                           ": cannot load the PEM certificate: " + OpenSslErrorText());
    }
    if (SSL_CTX_use_PrivateKey_file(t->ctx_, options.client_key_path.c_str(), SSL_FILETYPE_PEM) !=
        1) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "CLIENT_KEY_PATH " + options.client_key_path +
                           ": cannot load the PEM key: " + OpenSslErrorText());
    }
    if (SSL_CTX_check_private_key(t->ctx_) != 1) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "the client key does not match the client certificate");
    }
  }
  return t;
}

TlsContext::~TlsContext() {
  if (ctx_) SSL_CTX_free(ctx_);
}

}  // namespace volley::engine
