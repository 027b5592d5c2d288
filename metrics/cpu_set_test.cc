#include "metrics/cpu_set.h"

#include <gtest/gtest.h>

namespace hostiso {
namespace {

CpuSet MustParse(std::string_view s,
                 CpuListSyntax syntax = CpuListSyntax::kKernel) {
  auto r = ParseCpuList(s, syntax);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : CpuSet();
}

TEST(CpuListTest, RangesAndSingles) {
  EXPECT_EQ(MustParse("0-3,8,10-11").Members(),
            (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(MustParse("0-3,8,10-11").ToString(), "0-3,8,10-11");
}

TEST(CpuListTest, SpacesNewlinesAndCanonicalForm) {
  EXPECT_EQ(MustParse(" 4 , 2-3 ,1\n").ToString(), "1-4");
  EXPECT_EQ(MustParse("5,5,5").ToString(), "5");
}

TEST(CpuListTest, EmptyAndNull) {
  EXPECT_TRUE(MustParse("").Empty());
  EXPECT_TRUE(MustParse("\n").Empty());
  EXPECT_TRUE(MustParse("(null)\n").Empty());
  // "(null)" is a sysfs artefact, not valid nova.conf.
  EXPECT_FALSE(ParseCpuList("(null)", CpuListSyntax::kNova).ok());
}

TEST(CpuListTest, NovaExclusions) {
  EXPECT_EQ(MustParse("4-12,^8,15", CpuListSyntax::kNova).ToString(),
            "4-7,9-12,15");
  EXPECT_EQ(MustParse("^5, 0-7", CpuListSyntax::kNova).ToString(), "0-4,6-7");
  EXPECT_FALSE(ParseCpuList("0-7,^5", CpuListSyntax::kKernel).ok());
}

TEST(CpuListTest, KernelStride) {
  EXPECT_EQ(MustParse("0-15:2/4").ToString(), "0-1,4-5,8-9,12-13");
  EXPECT_FALSE(ParseCpuList("0-15:5/4").ok());
  EXPECT_FALSE(ParseCpuList("0-15:2").ok());
}

TEST(CpuListTest, RejectsMalformed) {
  for (const char* bad : {"3-1", "a", "1-", "-1", "1,,2", "1-2-3", "0-99999",
                          "8192", "1.5", "0x3", "1 2"}) {
    auto r = ParseCpuList(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.error().find("invalid CPU list"), std::string::npos)
          << r.error();
    }
  }
  auto reversed = ParseCpuList("0,7-3");
  ASSERT_FALSE(reversed.ok());
  EXPECT_NE(reversed.error().find("'7-3' ends before it starts"),
            std::string::npos)
      << reversed.error();
  auto huge = ParseCpuList("0-100000");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().find("out of range"), std::string::npos)
      << huge.error();
}

TEST(CpuSetTest, SetAlgebra) {
  CpuSet a = CpuSet::FromList({0, 1, 2, 70});
  CpuSet b = CpuSet::FromList({2, 3, 70, 130});
  EXPECT_EQ(a.Union(b).ToString(), "0-3,70,130");
  EXPECT_EQ(a.Intersect(b).ToString(), "2,70");
  EXPECT_EQ(a.Minus(b).ToString(), "0-1");
  EXPECT_TRUE(a.Intersects(b));
  EXPECT_FALSE(a.Minus(b).Intersects(b));
  EXPECT_EQ(b.End(), 131);
  EXPECT_EQ(b.Count(), 4);
  b.Erase(130);
  EXPECT_EQ(b.End(), 71);
  EXPECT_EQ(a.Minus(a), CpuSet());
}

}  // namespace
}  // namespace hostiso
