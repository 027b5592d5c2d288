#include "metrics/expected.h"

#include <gtest/gtest.h>

#include <string>

namespace hostiso {
namespace {

Expected<int> ParsePositive(const std::string& s) {
  if (s.empty() || s[0] == '-') return Error("'" + s + "' is not positive");
  return std::stoi(s);
}

// An error converts into any Expected<U> without re-wrapping.
Expected<std::string> Doubled(const std::string& s) {
  HOSTISO_ASSIGN_OR_RETURN(int v, ParsePositive(s));
  return std::to_string(2 * v);
}

Expected<void> Check(const std::string& s) {
  HOSTISO_RETURN_IF_ERROR(Doubled(s));
  return Ok();
}

TEST(ExpectedTest, ValueAndErrorTravelUp) {
  ASSERT_TRUE(Doubled("21"));
  EXPECT_EQ(*Doubled("21"), "42");
  auto bad = Doubled("-1");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "'-1' is not positive");
  EXPECT_TRUE(Check("3").ok());
  EXPECT_EQ(Check("-3").error(), "'-3' is not positive");
}

TEST(ExpectedTest, ContextAndCodeAreKept) {
  Expected<int> e = Error("no such file", 2);
  auto with = std::move(e).WithContext("/proc/stat");
  EXPECT_EQ(with.error(), "/proc/stat: no such file");
  EXPECT_EQ(with.failure().code(), 2);
  Expected<int> ok = 5;
  EXPECT_EQ(*std::move(ok).WithContext("x"), 5);
}

}  // namespace
}  // namespace hostiso
