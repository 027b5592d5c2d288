#include "metrics/procfs/schedstat.h"

#include <gtest/gtest.h>

namespace hostiso {
namespace {

TEST(SchedstatTest, Version15) {
  auto r = ParseSchedstat(
      "version 15\ntimestamp 4295\n"
      "cpu0 0 0 10 2 5 1 123456 7000000000 42\n"
      "domain0 3 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 "
      "24 25 26 27 28 29 30 31 32 33 34 35 36\n"
      "cpu1 0 0 10 2 5 1 123456 500 42\n");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->size(), 2U);
  EXPECT_EQ((*r)[0].run_delay_ns, 7000000000U);
  EXPECT_EQ((*r)[1].cpu, 1);
  EXPECT_EQ((*r)[1].run_delay_ns, 500U);
}

TEST(SchedstatTest, Errors) {
  EXPECT_NE(ParseSchedstat("version 14\n")
                .error()
                .find("expected schedstat version 15-17"),
            std::string::npos);
  EXPECT_NE(ParseSchedstat("cpu0 1 2 3\n")
                .error()
                .find("expected a 'version' line first"),
            std::string::npos);
  EXPECT_NE(ParseSchedstat("version 15\ncpu0 1 2 3\n")
                .error()
                .find("/proc/schedstat:2:"),
            std::string::npos);
  EXPECT_NE(ParseSchedstat("").error().find("no 'version' line"),
            std::string::npos);
  EXPECT_FALSE(ParseSchedstat("version 15\ncpu0 0 0 0 0 0 0 0 x 0\n").ok());
}

// Runs of spaces and tabs separate fields; domain lines and unknown lines are
// skipped whatever they hold; a cpu line may carry more than 9 counters.
TEST(SchedstatTest, FieldsAndLinesAsTheKernelMayWriteThem) {
  auto r = ParseSchedstat(
      "\n  version\t16  \n"
      "timestamp x y z\n"
      "cpu3 \t0 0 0  0 0 0 0\t77 0 5 6\n"
      "domain0 garbage \xff\n"
      "domain1\n"
      "cpu\n"
      "cpu4 0 0 0 0 0 0 0 88 0");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->size(), 2U);
  EXPECT_EQ((*r)[0].cpu, 3);
  EXPECT_EQ((*r)[0].run_delay_ns, 77U);
  EXPECT_EQ((*r)[1].cpu, 4);
  EXPECT_EQ((*r)[1].run_delay_ns, 88U);
  EXPECT_FALSE(ParseSchedstat("version\n").ok());
  EXPECT_FALSE(ParseSchedstat("version 15 16\n").ok());
  EXPECT_FALSE(ParseSchedstat("version 15\ncpu0 0 0 0 0 0 0 0 1\n").ok());
  EXPECT_FALSE(ParseSchedstat("version 15\ncpux 0 0 0 0 0 0 0 1 0\n").ok());
  const auto short_line = ParseSchedstat("version 15\n\ncpu0 1\n");
  ASSERT_FALSE(short_line.ok());
  EXPECT_EQ(short_line.error(),
            "/proc/schedstat:3: expected 'cpuN' and 9 counters, got 'cpu0 1'");
}

TEST(SchedstatTest, CpuNumberThatWouldWrapIsAnError) {
  // 2^32 + 1 became cpu 1 in the cast to int: a duplicate cpu="1" series.
  auto r = ParseSchedstat(
      "version 15\n"
      "cpu1 0 0 0 0 0 0 0 500 0\n"
      "cpu4294967297 0 0 0 0 0 0 0 900 0\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            "/proc/schedstat:3: CPU number above 8191 in 'cpu4294967297'");
  EXPECT_FALSE(ParseSchedstat("version 15\ncpu8192 0 0 0 0 0 0 0 1 0\n").ok());
  EXPECT_FALSE(
      ParseSchedstat("version 15\ncpu18446744073709551616 0 0 0 0 0 0 0 1 0\n")
          .ok());
  EXPECT_TRUE(ParseSchedstat("version 15\ncpu8191 0 0 0 0 0 0 0 1 0\n").ok());
}

TEST(SchedstatTest, RepeatedCpuIsAnError) {
  auto r = ParseSchedstat(
      "version 15\n"
      "cpu1 0 0 0 0 0 0 0 500 0\n"
      "cpu1 0 0 0 0 0 0 0 900 0\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "/proc/schedstat:3: cpu1 appears twice");
}

}  // namespace
}  // namespace hostiso
