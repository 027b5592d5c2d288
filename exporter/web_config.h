#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "metrics/expected.h"
#include "metrics/mutex.h"
#include "metrics/procfs/read_file.h"

namespace hostiso {

// --web.config.file, in the format of the Prometheus exporter-toolkit
// (docs/web-configuration.md there): tls_server_config, http_server_config
// and basic_auth_users. Relative paths resolve against the file's directory,
// as exporter-toolkit does.

// crypto/tls ClientAuthType names, as exporter-toolkit spells them.
enum class ClientAuth {
  kNoClientCert,
  kRequestClientCert,
  kRequireAnyClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

struct TlsServerConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // empty: none
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  // OpenSSL protocol versions (TLS1_2_VERSION ...); exporter-toolkit's
  // defaults are TLS12 and TLS13.
  int min_version = 0x0303;
  int max_version = 0x0304;
  bool prefer_server_cipher_suites = true;
};

struct WebConfig {
  bool tls_enabled = false;
  TlsServerConfig tls;
  // User name -> bcrypt hash. Empty: no authentication.
  std::map<std::string, std::string> basic_auth_users;
  // Extra response headers (http_server_config.headers), in file order.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Parses the YAML text of a web config. base_dir resolves relative paths.
// Errors are one line and never quote a secret (hash, key).
Expected<WebConfig> ParseWebConfig(const std::string& yaml_text,
                                   const std::string& base_dir);
// Reads and parses a file.
// Far above any real web config; a bigger file is an error.
inline constexpr std::size_t kMaxWebConfigBytes = std::size_t{1} << 20;

Expected<WebConfig> LoadWebConfigFile(const std::string& path);

// True when `hash` is a bcrypt hash ($2a$/$2b$/$2y$, cost 4-31).
bool IsBcryptHash(const std::string& hash);

// Checks a password against a bcrypt hash (libxcrypt's crypt_r); the final
// comparison takes constant time.
bool BcryptMatches(const std::string& password, const std::string& hash);

// The live web config: re-read when the file or any certificate it names
// changes (checked at each TLS handshake and request, a few stat() calls).
// A config that fails to load later keeps the last good one in force; the
// failure is logged once and reported by LoadOk(). Thread-safe.
//
// `Extra` is built from a parsed config by the caller (the TLS material:
// certificates and keys loaded into OpenSSL) so that a certificate that no
// longer loads also keeps the last good config.
class WebConfigStore {
 public:
  struct Loaded {
    WebConfig config;
    std::shared_ptr<const void> extra;  // e.g. the TLS material
  };
  using Builder =
      std::function<Expected<std::shared_ptr<const void>>(const WebConfig&)>;

  // Loads the file once; a failure here is the caller's to report (exit 1).
  static Expected<std::unique_ptr<WebConfigStore>> Open(std::string path,
                                                        Builder build);

  // The config in force, reloaded first if a watched file changed.
  std::shared_ptr<const Loaded> Current() EXCLUDES(mu_);
  bool LoadOk() const EXCLUDES(mu_);

 private:
  WebConfigStore(std::string path, Builder build)
      : path_(std::move(path)), build_(std::move(build)) {}
  Expected<std::shared_ptr<const Loaded>> Load() const;
  std::vector<std::string> WatchedPaths(const WebConfig& config) const;
  std::vector<FileStamp> Stamps(const WebConfig& config) const;

  const std::string path_;
  const Builder build_;
  mutable Mutex mu_;
  std::shared_ptr<const Loaded> current_ GUARDED_BY(mu_);
  std::vector<FileStamp> stamps_ GUARDED_BY(mu_);
  bool load_ok_ GUARDED_BY(mu_) = true;
};

// Whether the last (re)load of --web.config.file succeeded; true when no
// file is configured. For hostiso_config_load_success{source="web_config"}.
bool WebConfigLoadOk();
namespace detail {
// Registers the store WebConfigLoadOk() reports on (nullptr: none).
void SetWebConfigStoreForMetrics(WebConfigStore* store);
}  // namespace detail

}  // namespace hostiso
