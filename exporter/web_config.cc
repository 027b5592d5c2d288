#include "exporter/web_config.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "metrics/log.h"
#include "metrics/procfs/read_file.h"

namespace hostiso {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A key of exporter-toolkit's format this exporter does not implement: an
// explicit error, so that an operator never believes a setting is in force.
std::string Unsupported(const std::string& where, const std::string& key) {
  return "web config: " + where + "." + key +
         " is not supported by hostiso_exporter";
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

// Scalars only: a map or list where a string belongs is an error, not its
// YAML rendering.
std::optional<std::string> ScalarOf(const YAML::Node& node) {
  if (node.IsNull()) return std::string();
  if (!node.IsScalar()) return std::nullopt;
  return node.Scalar();
}

std::optional<int> TlsVersion(const std::string& name) {
  static const std::map<std::string, int> kVersions = {{"TLS10", 0x0301},
                                                       {"TLS11", 0x0302},
                                                       {"TLS12", 0x0303},
                                                       {"TLS13", 0x0304}};
  auto it = kVersions.find(name);
  if (it == kVersions.end()) return std::nullopt;
  return it->second;
}

std::optional<ClientAuth> ClientAuthOf(const std::string& name) {
  static const std::map<std::string, ClientAuth> kTypes = {
      {"NoClientCert", ClientAuth::kNoClientCert},
      {"RequestClientCert", ClientAuth::kRequestClientCert},
      {"RequireAnyClientCert", ClientAuth::kRequireAnyClientCert},
      {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
      {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert},
  };
  auto it = kTypes.find(name);
  if (it == kTypes.end()) return std::nullopt;
  return it->second;
}

Expected<void> ParseTlsKey(const std::string& key, const std::string& value,
                           const std::string& base_dir, TlsServerConfig* tls) {
  const std::string where = "web config: tls_server_config." + key;
  if (key == "cert_file") {
    tls->cert_file = Resolve(base_dir, value);
  } else if (key == "key_file") {
    tls->key_file = Resolve(base_dir, value);
  } else if (key == "client_ca_file") {
    tls->client_ca_file = Resolve(base_dir, value);
  } else if (key == "client_auth_type") {
    auto type = ClientAuthOf(value.empty() ? "NoClientCert" : value);
    if (!type) return Error(where + ": unknown type '" + value + "'");
    tls->client_auth = *type;
  } else if (key == "min_version" || key == "max_version") {
    auto v = TlsVersion(value);
    if (!v) return Error(where + ": expected TLS10, TLS11, TLS12 or TLS13");
    (key == "min_version" ? tls->min_version : tls->max_version) = *v;
  } else if (key == "prefer_server_cipher_suites") {
    if (value != "true" && value != "false") {
      return Error(where + ": expected true or false");
    }
    tls->prefer_server_cipher_suites = value == "true";
  } else if (key == "cert" || key == "key" || key == "client_ca" ||
             key == "client_allowed_sans" || key == "cipher_suites" ||
             key == "curve_preferences") {
    return Error(Unsupported("tls_server_config", key));
  } else {
    return Error("web config: unknown key tls_server_config." + key);
  }
  return Ok();
}

Expected<void> CheckTls(WebConfig* config) {
  TlsServerConfig& tls = config->tls;
  if (tls.cert_file.empty() && tls.key_file.empty()) {
    // exporter-toolkit serves plain HTTP then; a client CA or policy without
    // a certificate is a mistake worth stopping for.
    if (!tls.client_ca_file.empty() ||
        tls.client_auth != ClientAuth::kNoClientCert) {
      return Error(
          "web config: tls_server_config: client authentication needs "
          "cert_file and key_file");
    }
    return Ok();
  }
  if (tls.cert_file.empty()) return Error("web config: missing cert_file");
  if (tls.key_file.empty()) return Error("web config: missing key_file");
  const bool verifies =
      tls.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
      tls.client_auth == ClientAuth::kRequireAndVerifyClientCert;
  if (verifies && tls.client_ca_file.empty()) {
    return Error("web config: client_auth_type needs client_ca_file");
  }
  if (!tls.client_ca_file.empty() &&
      tls.client_auth == ClientAuth::kNoClientCert) {
    return Error(
        "web config: client_ca_file is set but client_auth_type is "
        "NoClientCert");
  }
  if (tls.min_version > tls.max_version) {
    return Error("web config: min_version is above max_version");
  }
  config->tls_enabled = true;
  return Ok();
}

Expected<void> ParseTls(const YAML::Node& node, const std::string& base_dir,
                        WebConfig* config) {
  if (node.IsNull()) return Ok();
  if (!node.IsMap())
    return Error("web config: tls_server_config: expected a map");
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    auto value = ScalarOf(kv.second);
    if (!value) {
      if (key == "client_allowed_sans" || key == "cipher_suites" ||
          key == "curve_preferences") {
        return Error(Unsupported("tls_server_config", key));
      }
      return Error("web config: tls_server_config." + key +
                   ": expected a string");
    }
    HOSTISO_RETURN_IF_ERROR(ParseTlsKey(key, *value, base_dir, &config->tls));
  }
  return CheckTls(config);
}

// exporter-toolkit accepts exactly these headers, with these values.
Expected<void> CheckHeader(const std::string& name, const std::string& value) {
  static const std::set<std::string> kAllowed = {
      "Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
      "X-XSS-Protection", "Strict-Transport-Security"};
  if (kAllowed.count(name) == 0) {
    return Error("web config: HTTP header '" + name +
                 "' can not be configured");
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') {
      return Error("web config: HTTP header " + name +
                   ": control character in value");
    }
  }
  const std::string v = Lower(value);
  if (name == "X-Frame-Options" && v != "deny" && v != "sameorigin") {
    return Error("web config: X-Frame-Options: expected deny or sameorigin");
  }
  if (name == "X-Content-Type-Options" && v != "nosniff") {
    return Error("web config: X-Content-Type-Options: expected nosniff");
  }
  return Ok();
}

Expected<void> ParseHttpServer(const YAML::Node& node, WebConfig* config) {
  if (node.IsNull()) return Ok();
  if (!node.IsMap())
    return Error("web config: http_server_config: expected a map");
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (key == "http2") {
      // CivetWeb here speaks HTTP/1.1 only; exporter-toolkit ignores http2
      // without TLS too. Accepted so that shared files keep working.
      auto v = ScalarOf(kv.second);
      if (!v || (*v != "true" && *v != "false")) {
        return Error(
            std::string("web config: http_server_config.http2: expected "
                        "true or false"));
      }
    } else if (key == "headers") {
      if (kv.second.IsNull()) continue;
      if (!kv.second.IsMap()) {
        return Error(
            std::string("web config: http_server_config.headers: "
                        "expected a map"));
      }
      for (const auto& h : kv.second) {
        const std::string name = h.first.as<std::string>();
        auto value = ScalarOf(h.second);
        if (!value)
          return Error("web config: HTTP header " + name +
                       ": expected a string");
        if (value->empty()) continue;  // "Unset if blank"
        HOSTISO_RETURN_IF_ERROR(CheckHeader(name, *value));
        config->headers.emplace_back(name, *value);
      }
    } else {
      return Error("web config: unknown key http_server_config." + key);
    }
  }
  return Ok();
}

Expected<void> ParseUsers(const YAML::Node& node, WebConfig* config) {
  if (node.IsNull()) return Ok();
  if (!node.IsMap())
    return Error("web config: basic_auth_users: expected a map");
  for (const auto& kv : node) {
    auto user = ScalarOf(kv.first);
    if (!user || user->empty() || user->find(':') != std::string::npos) {
      return Error(std::string(
          "web config: basic_auth_users: a user name must be a non-empty "
          "string without ':'"));
    }
    auto hash = ScalarOf(kv.second);
    // The hash itself is never quoted: it is a secret.
    if (!hash || !IsBcryptHash(*hash)) {
      return Error("web config: basic_auth_users: the password of user '" +
                   *user + "' is not a bcrypt hash ($2y$/$2b$/$2a$)");
    }
    config->basic_auth_users[*user] = *hash;
  }
  return Ok();
}

std::string DirOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

bool IsBcryptHash(const std::string& hash) {
  // $2y$10$ + 22 characters of salt + 31 of hash, in bcrypt's base64.
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' ||
      (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') || hash[3] != '$' ||
      !std::isdigit(static_cast<unsigned char>(hash[4])) ||
      !std::isdigit(static_cast<unsigned char>(hash[5])) || hash[6] != '$') {
    return false;
  }
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return false;
  return std::all_of(hash.begin() + 7, hash.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '/';
  });
}

bool BcryptMatches(const std::string& password, const std::string& hash) {
  if (!IsBcryptHash(hash) || password.find('\0') != std::string::npos) {
    return false;
  }
  // crypt_data is 32 KiB: on the heap, not on a worker's stack.
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
  if (out == nullptr || std::strlen(out) != hash.size()) return false;
  return CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
}

Expected<WebConfig> ParseWebConfig(const std::string& yaml_text,
                                   const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    // e.msg and the position only: never the text of the file.
    return Error("web config: invalid YAML at line " +
                 std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  WebConfig config;
  if (root.IsNull()) return config;
  if (!root.IsMap()) return Error("web config: expected a YAML map");
  try {
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      if (key == "tls_server_config") {
        HOSTISO_RETURN_IF_ERROR(ParseTls(kv.second, base_dir, &config));
      } else if (key == "http_server_config") {
        HOSTISO_RETURN_IF_ERROR(ParseHttpServer(kv.second, &config));
      } else if (key == "basic_auth_users") {
        HOSTISO_RETURN_IF_ERROR(ParseUsers(kv.second, &config));
      } else if (key == "rate_limit") {
        return Error(
            "web config: rate_limit is not supported by hostiso_exporter");
      } else {
        return Error("web config: unknown key " + key);
      }
    }
  } catch (const YAML::Exception& e) {
    return Error("web config: unexpected structure at line " +
                 std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return config;
}

Expected<WebConfig> LoadWebConfigFile(const std::string& path) {
  // Bounded and non-blocking like every other file the exporter reads: a
  // FIFO or a device as --web.config.file is an error, not a hang.
  auto text = ReadFile(path, kMaxWebConfigBytes);
  if (!text) return text.failure().WithContext("web config");
  auto parsed = ParseWebConfig(*text, DirOf(path));
  if (!parsed) return Error(parsed.error() + " (" + path + ")");
  return parsed;
}

Expected<std::unique_ptr<WebConfigStore>> WebConfigStore::Open(std::string path,
                                                               Builder build) {
  std::unique_ptr<WebConfigStore> store(
      new WebConfigStore(std::move(path), std::move(build)));
  HOSTISO_ASSIGN_OR_RETURN(auto loaded, store->Load());
  {
    // Not shared yet; locked all the same so that every access to the
    // guarded members holds mu_.
    MutexLock lock(store->mu_);
    store->current_ = std::move(loaded);
    store->stamps_ = store->Stamps(store->current_->config);
  }
  return store;
}

Expected<std::shared_ptr<const WebConfigStore::Loaded>> WebConfigStore::Load()
    const {
  auto loaded = std::make_shared<Loaded>();
  HOSTISO_ASSIGN_OR_RETURN(loaded->config, LoadWebConfigFile(path_));
  if (build_) {
    HOSTISO_ASSIGN_OR_RETURN(loaded->extra, build_(loaded->config));
  }
  return std::shared_ptr<const Loaded>(std::move(loaded));
}

std::vector<std::string> WebConfigStore::WatchedPaths(
    const WebConfig& config) const {
  std::vector<std::string> paths = {path_};
  if (config.tls_enabled) {
    paths.push_back(config.tls.cert_file);
    paths.push_back(config.tls.key_file);
    if (!config.tls.client_ca_file.empty()) {
      paths.push_back(config.tls.client_ca_file);
    }
  }
  return paths;
}

std::vector<FileStamp> WebConfigStore::Stamps(const WebConfig& config) const {
  std::vector<FileStamp> stamps;
  for (const std::string& p : WatchedPaths(config)) {
    stamps.push_back(StampOf(p));
  }
  return stamps;
}

std::shared_ptr<const WebConfigStore::Loaded> WebConfigStore::Current() {
  MutexLock lock(mu_);
  std::vector<FileStamp> now = Stamps(current_->config);
  if (now == stamps_) return current_;
  // Something changed: reload once per change, not at every request.
  stamps_ = now;
  auto loaded = Load();
  if (!loaded) {
    log::Warn("web config reload failed; keeping the last good one",
              {{"file", path_}, {"err", loaded.error()}});
    load_ok_ = false;
    return current_;
  }
  current_ = *loaded;
  // The new config may watch other certificate files.
  stamps_ = Stamps(current_->config);
  load_ok_ = true;
  log::Info("web config reloaded", {{"file", path_}});
  return current_;
}

bool WebConfigStore::LoadOk() const {
  MutexLock lock(mu_);
  return load_ok_;
}

namespace {
std::atomic<WebConfigStore*> g_metrics_store{nullptr};
}  // namespace

namespace detail {
void SetWebConfigStoreForMetrics(WebConfigStore* store) {
  g_metrics_store.store(store);
}
}  // namespace detail

bool WebConfigLoadOk() {
  WebConfigStore* store = g_metrics_store.load();
  return store == nullptr || store->LoadOk();
}

}  // namespace hostiso
