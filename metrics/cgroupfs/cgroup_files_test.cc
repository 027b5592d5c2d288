#include "metrics/cgroupfs/cgroup_files.h"

#include <gtest/gtest.h>

namespace hostiso {
namespace {

TEST(CgroupCpusetTest, KernelList) {
  auto set = ParseCgroupCpuset("0-3,8,10-11\n");
  ASSERT_TRUE(set) << set.error();
  EXPECT_EQ(set->ToString(), "0-3,8,10-11");
}

TEST(CgroupCpusetTest, EmptyListIsTheEmptySet) {
  // A v1 cpuset nobody configured yet, and the same without a newline.
  for (const char* text : {"\n", ""}) {
    auto set = ParseCgroupCpuset(text);
    ASSERT_TRUE(set) << set.error();
    EXPECT_TRUE(set->Empty());
  }
}

TEST(CgroupCpusetTest, GarbageIsAnError) {
  for (const char* text : {"0-3\n4\n", "abc\n", "3-1\n", "0-99999\n"}) {
    EXPECT_FALSE(ParseCgroupCpuset(text)) << text;
  }
}

TEST(CgroupCpuStatTest, UsageUsec) {
  auto usec = ParseCgroupCpuStatUsageUsec(
      "usage_usec 123456789\nuser_usec 100000000\nsystem_usec 23456789\n"
      "nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n");
  ASSERT_TRUE(usec) << usec.error();
  EXPECT_EQ(*usec, 123456789U);
}

TEST(CgroupCpuStatTest, MissingOrBadUsageIsAnError) {
  EXPECT_FALSE(ParseCgroupCpuStatUsageUsec("user_usec 5\n"));
  EXPECT_FALSE(ParseCgroupCpuStatUsageUsec(""));
  EXPECT_FALSE(ParseCgroupCpuStatUsageUsec("usage_usec -5\n"));
  EXPECT_FALSE(ParseCgroupCpuStatUsageUsec("usage_usec 5 6\n"));
  EXPECT_FALSE(ParseCgroupCpuStatUsageUsec("usage_usec\n"));
  EXPECT_FALSE(
      ParseCgroupCpuStatUsageUsec("usage_usec 99999999999999999999999\n"));
}

TEST(CpuacctUsageTest, Nanoseconds) {
  auto ns = ParseCpuacctUsageNs("987654321012\n");
  ASSERT_TRUE(ns) << ns.error();
  EXPECT_EQ(*ns, 987654321012U);
}

TEST(CpuacctUsageTest, GarbageIsAnError) {
  for (const char* text : {"", "\n", "12 34\n", "-1\n", "0x10\n", "1.5\n"}) {
    EXPECT_FALSE(ParseCpuacctUsageNs(text)) << text;
  }
}

}  // namespace
}  // namespace hostiso
