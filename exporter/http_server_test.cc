#include "exporter/http_server.h"

#include <crypt.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>

#include "exporter/basic_auth.h"
#include "exporter/web_config.h"

namespace hostiso {
namespace {

TEST(ListenAddressTest, ToCivet) {
  EXPECT_EQ(*detail::ToCivetListeningPort("127.0.0.1:80"), "127.0.0.1:80");
  EXPECT_EQ(*detail::ToCivetListeningPort("0.0.0.0:80"), "0.0.0.0:80");
  EXPECT_EQ(*detail::ToCivetListeningPort("localhost:80"), "127.0.0.1:80");
  EXPECT_EQ(*detail::ToCivetListeningPort("[::1]:80"), "[::1]:80");
  EXPECT_EQ(*detail::ToCivetListeningPort("[::]:9933"), "+9933");
  EXPECT_EQ(*detail::ToCivetListeningPort("[fe80::1]:1"), "[fe80::1]:1");
  const std::string any = *detail::ToCivetListeningPort(":9933");
  EXPECT_TRUE(any == "9933" || any == "+9933") << any;
}

TEST(ListenAddressTest, StrictErrors) {
  for (const char* bad : {"999.1.1.1:1", "01.2.3.4x:1", "[::g]:1", "[::1]",
                          "::1]:1", ":99999", ":0", "a:1"}) {
    auto r = detail::ToCivetListeningPort(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().rfind("--web.listen-address: ", 0), 0U) << r.error();
    }
  }
}

TEST(GzipTest, AcceptEncoding) {
  EXPECT_TRUE(detail::AcceptsGzip("gzip"));
  EXPECT_TRUE(detail::AcceptsGzip("deflate, GZIP;q=0.5"));
  EXPECT_TRUE(detail::AcceptsGzip("identity, gzip"));
  EXPECT_FALSE(detail::AcceptsGzip(nullptr));
  EXPECT_FALSE(detail::AcceptsGzip(""));
  EXPECT_FALSE(detail::AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(detail::AcceptsGzip("x-gzip2, br"));
}

TEST(GzipTest, RoundTrip) {
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += "metric{cpu=\"" + std::to_string(i) + "\"} 1\n";
  auto gz = detail::Gzip(text);
  ASSERT_TRUE(gz);
  EXPECT_LT(gz->size(), text.size() / 4);
  ASSERT_GE(gz->size(), 2U);
  EXPECT_EQ(static_cast<unsigned char>((*gz)[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>((*gz)[1]), 0x8b);
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(text.size() + 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(gz->data());
  z.avail_in = static_cast<uInt>(gz->size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  EXPECT_EQ(out, text);
}

TEST(BasicAuthTest, Base64) {
  EXPECT_EQ(*detail::DecodeBase64("YWxpY2U6c2VjcmV0"), "alice:secret");
  EXPECT_EQ(*detail::DecodeBase64("YQ=="), "a");
  EXPECT_FALSE(detail::DecodeBase64("YQ="));
  EXPECT_FALSE(detail::DecodeBase64("Y*=="));
}

std::string MakeHash(const std::string& password) {
  char* salt = crypt_gensalt_ra("$2b$", 4, nullptr, 0);
  EXPECT_NE(salt, nullptr);
  crypt_data data{};
  std::string hash = crypt_r(password.c_str(), salt, &data);
  std::free(salt);
  return hash;
}

TEST(BasicAuthTest, Check) {
  const std::string hash = MakeHash("secret");
  ASSERT_TRUE(IsBcryptHash(hash)) << "libxcrypt made an unexpected hash";
  std::map<std::string, std::string> users = {{"alice", hash}};
  BasicAuthenticator auth;
  EXPECT_EQ(auth.Check({}, nullptr), AuthResult::kOk);  // no users: open
  EXPECT_EQ(auth.Check(users, nullptr), AuthResult::kNoCredentials);
  EXPECT_EQ(auth.Check(users, "Bearer x"), AuthResult::kNoCredentials);
  EXPECT_EQ(auth.Check(users, "Basic !!!!"), AuthResult::kMalformed);
  EXPECT_EQ(auth.Check(users, "Basic YWxpY2U="), AuthResult::kMalformed);
  // alice:secret, twice (the second from the cache), then alice:wrong.
  EXPECT_EQ(auth.Check(users, "Basic YWxpY2U6c2VjcmV0"), AuthResult::kOk);
  EXPECT_EQ(auth.Check(users, "basic YWxpY2U6c2VjcmV0"), AuthResult::kOk);
  EXPECT_EQ(auth.Check(users, "Basic YWxpY2U6d3Jvbmc="),
            AuthResult::kWrongPassword);
  // bob:secret
  EXPECT_EQ(auth.Check(users, "Basic Ym9iOnNlY3JldA=="),
            AuthResult::kUnknownUser);
  // The cache is keyed by the hash too: a changed hash is checked again.
  users["alice"] = MakeHash("other");
  EXPECT_EQ(auth.Check(users, "Basic YWxpY2U6c2VjcmV0"),
            AuthResult::kWrongPassword);
}

TEST(BasicAuthTest, BcryptVariants) {
  const std::string hash = MakeHash("pw");
  EXPECT_TRUE(BcryptMatches("pw", hash));
  EXPECT_FALSE(BcryptMatches("pw2", hash));
  // htpasswd writes $2y$: the same algorithm.
  std::string y = hash;
  y[2] = 'y';
  EXPECT_TRUE(BcryptMatches("pw", y));
  EXPECT_FALSE(BcryptMatches("pw", "$2y$10$short"));
  EXPECT_FALSE(BcryptMatches("pw", "plaintext"));
}

}  // namespace
}  // namespace hostiso
