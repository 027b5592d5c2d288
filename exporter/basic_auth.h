#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "metrics/mutex.h"

namespace hostiso {

// HTTP basic authentication against exporter-toolkit's basic_auth_users
// (bcrypt hashes).
enum class AuthResult {
  kOk,
  kNoCredentials,  // no Authorization header, or not "Basic"
  kMalformed,      // not base64 of "user:password"
  kUnknownUser,
  kWrongPassword,
};
const char* AuthResultText(AuthResult r);

class BasicAuthenticator {
 public:
  // `authorization` is the header's value (nullptr when absent).
  AuthResult Check(const std::map<std::string, std::string>& users,
                   const char* authorization);

 private:
  // bcrypt costs tens of milliseconds by design; as exporter-toolkit does,
  // a verified (user, password, hash) is remembered, as a SHA-256 digest.
  bool Cached(const std::string& key) EXCLUDES(mu_);
  void Remember(const std::string& key) EXCLUDES(mu_);
  Mutex mu_;
  std::set<std::string> verified_ GUARDED_BY(mu_);
};

namespace detail {
std::optional<std::string> DecodeBase64(const std::string& text);
}  // namespace detail

}  // namespace hostiso
