#include "exporter/basic_auth.h"

#include <openssl/sha.h>
#include <strings.h>

#include <array>
#include <cstring>

#include "exporter/web_config.h"

namespace hostiso {

namespace {

// A well-formed hash no password matches in practice: unknown users pay one
// bcrypt too, so the answer's timing does not reveal which users exist.
constexpr char kDummyHash[] =
    "$2b$10$i4gH1EerT7n/3ERIPXVJuO4eLDS6QsUAR3qpUKWivyq6P.yuQQKs6";

std::string CacheKey(const std::string& user, const std::string& password,
                     const std::string& hash) {
  std::string material = user;
  material.push_back('\0');
  material += password;
  material.push_back('\0');
  material += hash;
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(material.data()),
         material.size(), digest.data());
  return std::string(digest.begin(), digest.end());
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

const char* AuthResultText(AuthResult r) {
  switch (r) {
    case AuthResult::kOk:
      return "ok";
    case AuthResult::kNoCredentials:
      return "no credentials";
    case AuthResult::kMalformed:
      return "malformed Authorization header";
    case AuthResult::kUnknownUser:
      return "unknown user";
    case AuthResult::kWrongPassword:
      return "wrong password";
  }
  return "unknown";
}

namespace detail {

std::optional<std::string> DecodeBase64(const std::string& text) {
  std::string s = text;
  while (!s.empty() && s.back() == '=') s.pop_back();
  if (text.size() % 4 != 0 || text.size() - s.size() > 2) return std::nullopt;
  std::string out;
  unsigned bits = 0;
  int nbits = 0;
  for (char c : s) {
    int v = Base64Value(c);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<unsigned>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xFF));
    }
  }
  return out;
}

}  // namespace detail

bool BasicAuthenticator::Cached(const std::string& key) {
  MutexLock lock(mu_);
  return verified_.count(key) > 0;
}

void BasicAuthenticator::Remember(const std::string& key) {
  MutexLock lock(mu_);
  // Bounded: a config with many users, or many password changes, restarts
  // the cache rather than growing it.
  if (verified_.size() >= 256) verified_.clear();
  verified_.insert(key);
}

AuthResult BasicAuthenticator::Check(
    const std::map<std::string, std::string>& users,
    const char* authorization) {
  if (users.empty()) return AuthResult::kOk;
  if (authorization == nullptr ||
      strncasecmp(authorization, "Basic ", 6) != 0) {
    return AuthResult::kNoCredentials;
  }
  std::string encoded = authorization + 6;
  while (!encoded.empty() && encoded.front() == ' ') encoded.erase(0, 1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.pop_back();
  auto decoded = detail::DecodeBase64(encoded);
  if (!decoded) return AuthResult::kMalformed;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return AuthResult::kMalformed;
  const std::string user = decoded->substr(0, colon);
  const std::string password = decoded->substr(colon + 1);
  auto it = users.find(user);
  const std::string& hash = it != users.end() ? it->second : kDummyHash;
  const std::string key = CacheKey(user, password, hash);
  if (it != users.end() && Cached(key)) return AuthResult::kOk;
  const bool match = BcryptMatches(password, hash);
  if (it == users.end()) return AuthResult::kUnknownUser;
  if (!match) return AuthResult::kWrongPassword;
  Remember(key);
  return AuthResult::kOk;
}

}  // namespace hostiso
