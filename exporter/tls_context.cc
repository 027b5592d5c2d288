#include "exporter/tls_context.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>

#include "metrics/log.h"
#include "metrics/procfs/read_file.h"

namespace hostiso {

class TlsMaterial {
 public:
  TlsMaterial() = default;
  TlsMaterial(const TlsMaterial&) = delete;
  TlsMaterial& operator=(const TlsMaterial&) = delete;
  ~TlsMaterial() {
    X509_free(cert);
    EVP_PKEY_free(key);
    if (chain != nullptr) sk_X509_pop_free(chain, X509_free);
    X509_STORE_free(ca_store);
    if (ca_names != nullptr) sk_X509_NAME_pop_free(ca_names, X509_NAME_free);
  }

  TlsServerConfig config;
  X509* cert = nullptr;
  STACK_OF(X509) * chain = nullptr;  // intermediates after the leaf
  EVP_PKEY* key = nullptr;
  X509_STORE* ca_store = nullptr;
  STACK_OF(X509_NAME) * ca_names = nullptr;
};

namespace {

// OpenSSL's reason for the last failure (no file content, only its code).
std::string OpenSslReason() {
  unsigned long code = ERR_peek_last_error();  // NOLINT(google-runtime-int)
  ERR_clear_error();
  if (code == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "unknown error";
}

struct BioCloser {
  void operator()(BIO* b) const { BIO_free(b); }
};

// The file read through ReadFile (bounded, non-blocking, regular files only:
// a FIFO as cert_file must not hang a handshake), as an OpenSSL memory BIO.
Expected<std::unique_ptr<BIO, BioCloser>> PemBio(const std::string& path,
                                                 std::string& storage) {
  HOSTISO_ASSIGN_OR_RETURN(storage, ReadFile(path, std::size_t{1} << 20));
  return std::unique_ptr<BIO, BioCloser>(
      BIO_new_mem_buf(storage.data(), static_cast<int>(storage.size())));
}

Expected<void> LoadCertificates(const std::string& path, TlsMaterial* m) {
  std::string pem;
  HOSTISO_ASSIGN_OR_RETURN(auto bio,
                           PemBio(path, pem).WithContext("cert_file"));
  if (!bio)
    return Error("cannot read cert_file " + path + ": " + OpenSslReason());
  m->cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (m->cert == nullptr) {
    return Error("no PEM certificate in cert_file " + path + ": " +
                 OpenSslReason());
  }
  m->chain = sk_X509_new_null();
  while (X509* extra =
             PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(m->chain, extra);
  }
  ERR_clear_error();  // the end of the file reads as an error
  return Ok();
}

// A password callback that refuses: encrypted keys are an error, not a
// prompt on a terminal the service does not have.
int NoPassword(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) {
  return 0;
}

Expected<void> LoadKey(const std::string& path, TlsMaterial* m) {
  std::string pem;
  HOSTISO_ASSIGN_OR_RETURN(auto bio, PemBio(path, pem).WithContext("key_file"));
  if (!bio)
    return Error("cannot read key_file " + path + ": " + OpenSslReason());
  m->key = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr);
  if (m->key == nullptr) {
    return Error("no usable PEM private key in key_file " + path + ": " +
                 OpenSslReason());
  }
  if (X509_check_private_key(m->cert, m->key) != 1) {
    ERR_clear_error();
    return Error("key_file " + path + " does not match cert_file " +
                 m->config.cert_file);
  }
  return Ok();
}

Expected<void> LoadClientCas(const std::string& path, TlsMaterial* m) {
  // OpenSSL reads the CA file by path: check first that it is a regular,
  // readable file of sane size (a FIFO would block the load).
  HOSTISO_RETURN_IF_ERROR(
      ReadFile(path, std::size_t{1} << 20).WithContext("client_ca_file"));
  m->ca_store = X509_STORE_new();
  if (X509_STORE_load_file(m->ca_store, path.c_str()) != 1) {
    return Error("cannot load client_ca_file " + path + ": " + OpenSslReason());
  }
  m->ca_names = SSL_load_client_CA_file(path.c_str());
  if (m->ca_names == nullptr || sk_X509_NAME_num(m->ca_names) == 0) {
    return Error("no certificate in client_ca_file " + path);
  }
  ERR_clear_error();
  return Ok();
}

// RequestClientCert and RequireAnyClientCert take any certificate, as Go's
// crypto/tls does: the chain is not verified.
int AcceptAnyCertificate(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) {
  return 1;
}

std::string PeerAddress(SSL* ssl) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  int fd = SSL_get_fd(ssl);
  if (fd < 0 ||
      ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "unknown";
  }
  char host[64] = {0};
  if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr,
              host, sizeof(host));
  } else {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, host,
              sizeof(host));
  }
  return host;
}

// At most a few lines per second: a client failing handshakes in a loop
// must not flood the log.
bool LogBudget() {
  static std::atomic<std::int64_t> window{0};
  static std::atomic<int> used{0};
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count();
  if (window.exchange(now) != now) used = 0;
  return used.fetch_add(1) < 5;
}

// Says why a handshake failed: the alert the server sends (certificate
// required, unknown CA, protocol version, ...).
void OnInfo(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_ALERT) == 0 || (where & SSL_CB_WRITE) == 0) return;
  if ((ret >> 8) != SSL3_AL_FATAL || !LogBudget()) return;
  // OpenSSL 3.0 has no text for TLS 1.3's certificate_required (116).
  const char* alert = (ret & 0xff) == 116 ? "certificate required (no client "
                                            "certificate sent)"
                                          : SSL_alert_desc_string_long(ret);
  log::Warn("TLS handshake refused",
            {{"client", PeerAddress(const_cast<SSL*>(ssl))}, {"alert", alert}});
}

void ApplyVerification(SSL* ssl, const TlsMaterial& m) {
  int mode = SSL_VERIFY_NONE;
  SSL_verify_cb callback = nullptr;
  switch (m.config.client_auth) {
    case ClientAuth::kNoClientCert:
      break;
    case ClientAuth::kRequestClientCert:
      mode = SSL_VERIFY_PEER;
      callback = AcceptAnyCertificate;
      break;
    case ClientAuth::kRequireAnyClientCert:
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      callback = AcceptAnyCertificate;
      break;
    case ClientAuth::kVerifyClientCertIfGiven:
      mode = SSL_VERIFY_PEER;
      break;
    case ClientAuth::kRequireAndVerifyClientCert:
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      break;
  }
  SSL_set_verify(ssl, mode, callback);
  if (m.ca_store != nullptr) {
    SSL_set1_verify_cert_store(ssl, m.ca_store);
    SSL_set_client_CA_list(ssl, SSL_dup_CA_list(m.ca_names));
  }
}

// Runs first in every handshake, before the protocol version and the
// certificate are chosen: the connection gets the config current now.
int OnClientHello(SSL* ssl, int* alert, void* arg) {
  auto* store = static_cast<WebConfigStore*>(arg);
  std::shared_ptr<const WebConfigStore::Loaded> loaded = store->Current();
  const auto* m = static_cast<const TlsMaterial*>(loaded->extra.get());
  if (m == nullptr) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  // The SSL object takes its own references; the material may be replaced
  // by the next reload while this handshake runs.
  if (SSL_set_min_proto_version(ssl, m->config.min_version) != 1 ||
      SSL_set_max_proto_version(ssl, m->config.max_version) != 1 ||
      SSL_use_certificate(ssl, m->cert) != 1 ||
      SSL_use_PrivateKey(ssl, m->key) != 1 ||
      SSL_set1_chain(ssl, m->chain) != 1) {
    ERR_clear_error();
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  if (m->config.prefer_server_cipher_suites) {
    SSL_set_options(ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
  } else {
    SSL_clear_options(ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  ApplyVerification(ssl, *m);
  return SSL_CLIENT_HELLO_SUCCESS;
}

}  // namespace

Expected<std::shared_ptr<const TlsMaterial>> LoadTlsMaterial(
    const TlsServerConfig& tls) {
  auto m = std::make_shared<TlsMaterial>();
  m->config = tls;
  HOSTISO_RETURN_IF_ERROR(LoadCertificates(tls.cert_file, m.get()));
  HOSTISO_RETURN_IF_ERROR(LoadKey(tls.key_file, m.get()));
  if (!tls.client_ca_file.empty())
    HOSTISO_RETURN_IF_ERROR(LoadClientCas(tls.client_ca_file, m.get()));
  return std::shared_ptr<const TlsMaterial>(std::move(m));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Expected<std::unique_ptr<TlsContext>> TlsContext::Create(
    WebConfigStore* store) {
  std::unique_ptr<TlsContext> tls(new TlsContext());
  tls->ctx_ = SSL_CTX_new(TLS_server_method());
  if (tls->ctx_ == nullptr) return Error("SSL_CTX_new: " + OpenSslReason());
  SSL_CTX* ctx = tls->ctx_;
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  // No resumption: every connection is checked against the current client
  // CAs and policy, and a replaced certificate is used at once.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_client_hello_cb(ctx, OnClientHello, store);
  SSL_CTX_set_info_callback(ctx, OnInfo);
  return tls;
}

ssl_ctx_st* TlsContext::Get() const { return ctx_; }

}  // namespace hostiso
