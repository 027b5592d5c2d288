#pragma once

#include <memory>
#include <string>

#include "exporter/web_config.h"
#include "metrics/expected.h"

// OpenSSL's types, without its headers in ours.
struct ssl_ctx_st;

namespace hostiso {

// The certificate, key and client CAs of one tls_server_config, loaded into
// OpenSSL. Built at each (re)load of the web config; a handshake uses the
// material current when it starts.
class TlsMaterial;
Expected<std::shared_ptr<const TlsMaterial>> LoadTlsMaterial(
    const TlsServerConfig& tls);

// The server SSL_CTX handed to CivetWeb (its external_ssl_ctx callback).
// OpenSSL calls back at every ClientHello; the callback takes the current
// config from `store` (re-reading changed files, as exporter-toolkit re-reads
// per handshake) and applies its certificate, key, versions and client
// verification to that connection only.
class TlsContext {
 public:
  ~TlsContext();
  static Expected<std::unique_ptr<TlsContext>> Create(WebConfigStore* store);
  // Owned here: CivetWeb's external_ssl_ctx callback answers 1, so CivetWeb
  // neither configures nor frees it. Outlives the server.
  ssl_ctx_st* Get() const;

 private:
  TlsContext() = default;
  ssl_ctx_st* ctx_ = nullptr;
};

}  // namespace hostiso
