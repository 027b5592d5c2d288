#include "exporter/web_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "exporter/tls_context.h"

namespace hostiso {
namespace {

constexpr char kHash[] =
    "$2b$10$i4gH1EerT7n/3ERIPXVJuO4eLDS6QsUAR3qpUKWivyq6P.yuQQKs6";

TEST(WebConfigTest, EmptyFileIsPlainHttp) {
  auto c = ParseWebConfig("", "/etc");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_FALSE(c->tls_enabled);
  EXPECT_TRUE(c->basic_auth_users.empty());
}

TEST(WebConfigTest, FullConfig) {
  auto c = ParseWebConfig(std::string(R"(
tls_server_config:
  cert_file: server.crt
  key_file: /abs/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS13
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
    X-XSS-Protection: ""
basic_auth_users:
  alice: ")") + kHash + "\"\n",
                          "/etc/hostiso");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(c->tls_enabled);
  EXPECT_EQ(c->tls.cert_file, "/etc/hostiso/server.crt");
  EXPECT_EQ(c->tls.key_file, "/abs/server.key");
  EXPECT_EQ(c->tls.client_ca_file, "/etc/hostiso/ca.crt");
  EXPECT_EQ(c->tls.client_auth, ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_EQ(c->tls.min_version, 0x0304);
  EXPECT_EQ(c->tls.max_version, 0x0304);
  ASSERT_EQ(c->headers.size(), 2U);  // the blank one is unset
  EXPECT_EQ(c->headers[0].first, "X-Frame-Options");
  EXPECT_EQ(c->basic_auth_users.at("alice"), kHash);
}

struct BadCase {
  std::string yaml;
  std::string want;
};

TEST(WebConfigTest, Errors) {
  const std::vector<BadCase> cases = {
      {"tls_server_config: [", "invalid YAML at line"},
      {"- a\n- b\n", "expected a YAML map"},
      {"tls_server_confg: {}\n", "unknown key tls_server_confg"},
      {"tls_server_config:\n  cert_fil: a\n",
       "unknown key tls_server_config.cert_fil"},
      {"tls_server_config:\n  cert_file: a\n", "missing key_file"},
      {"tls_server_config:\n  key_file: a\n", "missing cert_file"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  "
       "client_auth_type: RequireAndVerifyClientCert\n",
       "needs client_ca_file"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  "
       "client_auth_type: Sometimes\n",
       "unknown type 'Sometimes'"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  "
       "client_ca_file: c\n",
       "client_auth_type is NoClientCert"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: "
       "SSL3\n",
       "expected TLS10, TLS11, TLS12 or TLS13"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: "
       "TLS13\n  max_version: TLS12\n",
       "min_version is above max_version"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: "
       "[X]\n",
       "cipher_suites is not supported"},
      {"tls_server_config:\n  cert_file: [a]\n  key_file: b\n",
       "cert_file: expected a string"},
      {"http_server_config:\n  headers:\n    Server: x\n",
       "'Server' can not be configured"},
      {"http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
       "expected deny or sameorigin"},
      {"http_server_config:\n  keepalive: true\n",
       "unknown key http_server_config.keepalive"},
      {"basic_auth_users:\n  alice: hunter2\n",
       "password of user 'alice' is not a bcrypt hash"},
      {"basic_auth_users:\n  alice: $2y$10$tooshort\n", "not a bcrypt hash"},
      {"basic_auth_users:\n  \"a:b\": x\n", "without ':'"},
      {"basic_auth_users: [alice]\n", "basic_auth_users: expected a map"},
      {"rate_limit:\n  burst: 1\n", "rate_limit is not supported"},
  };
  for (const BadCase& c : cases) {
    auto r = ParseWebConfig(c.yaml, "/etc");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.error().find(c.want), std::string::npos)
        << c.yaml << " -> " << r.error();
    EXPECT_EQ(r.error().find('\n'), std::string::npos) << r.error();
  }
}

TEST(WebConfigTest, NoSecretInErrors) {
  // A hash that is almost right, and a plain-text password: neither may
  // appear in the error, which goes to a log line.
  for (const std::string& secret :
       {std::string(kHash).substr(0, 59), std::string("hunter2-plaintext")}) {
    auto r = ParseWebConfig("basic_auth_users:\n  alice: \"" + secret + "\"\n",
                            "/etc");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().find(secret), std::string::npos) << r.error();
  }
}

TEST(WebConfigTest, MissingFiles) {
  auto c = LoadWebConfigFile("/nonexistent/web.yml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find(
                "web config: /nonexistent/web.yml: No such file or directory"),
            std::string::npos)
      << c.error();
  TlsServerConfig tls;
  tls.cert_file = "/nonexistent/server.crt";
  tls.key_file = "/nonexistent/server.key";
  auto m = LoadTlsMaterial(tls);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(
      m.error().find(
          "cert_file: /nonexistent/server.crt: No such file or directory"),
      std::string::npos)
      << m.error();
}

TEST(WebConfigTest, NotACertificate) {
  char path[] = "/tmp/hostiso-webcfg-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "not a certificate\n";
  TlsServerConfig tls;
  tls.cert_file = path;
  tls.key_file = path;
  auto m = LoadTlsMaterial(tls);
  std::remove(path);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("no PEM certificate"), std::string::npos)
      << m.error();
}

TEST(WebConfigStoreTest, KeepsLastGoodConfig) {
  char path[] = "/tmp/hostiso-webcfg-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "basic_auth_users:\n  alice: \"" << kHash << "\"\n";
  auto store = WebConfigStore::Open(path, nullptr);
  ASSERT_TRUE(store.ok()) << store.error();
  detail::SetWebConfigStoreForMetrics(store->get());
  EXPECT_TRUE(WebConfigLoadOk());
  EXPECT_EQ((*store)->Current()->config.basic_auth_users.size(), 1U);
  // Broken: the last good config stays, and the failure shows.
  std::ofstream(path) << "basic_auth_users: [\n";
  EXPECT_EQ((*store)->Current()->config.basic_auth_users.size(), 1U);
  EXPECT_FALSE(WebConfigLoadOk());
  // Fixed with two users (a different size: a new stamp even within the
  // same mtime tick).
  std::ofstream(path) << "basic_auth_users:\n  alice: \"" << kHash
                      << "\"\n  bob: \"" << kHash << "\"\n";
  EXPECT_EQ((*store)->Current()->config.basic_auth_users.size(), 2U);
  EXPECT_TRUE(WebConfigLoadOk());
  detail::SetWebConfigStoreForMetrics(nullptr);
  std::remove(path);
}

}  // namespace
}  // namespace hostiso

namespace hostiso {
namespace {

// A FIFO as the web config or as a certificate is refused at once, never read
// (it would block start-up or a handshake forever).
TEST(WebConfigTest, FifoIsRefusedWithoutBlocking) {
  char dir[] = "/tmp/hostiso-webcfg-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string fifo = std::string(dir) + "/web.yml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto loaded = LoadWebConfigFile(fifo);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().find("FIFO"), std::string::npos) << loaded.error();
  TlsServerConfig tls;
  tls.cert_file = fifo;
  tls.key_file = fifo;
  auto material = LoadTlsMaterial(tls);
  ASSERT_FALSE(material);
  EXPECT_NE(material.error().find("cert_file"), std::string::npos)
      << material.error();
  ::unlink(fifo.c_str());
  ::rmdir(dir);
}

}  // namespace
}  // namespace hostiso
