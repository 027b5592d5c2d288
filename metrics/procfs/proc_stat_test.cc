#include "metrics/procfs/proc_stat.h"

#include <gtest/gtest.h>

#include <string>

namespace hostiso {
namespace {

TEST(ProcStatTest, ModernKernel) {
  auto r = ParseProcStat(
      "cpu  10 20 30 40 50 60 70 80 90 100\n"
      "cpu0 1 2 3 4 5 6 7 8 9 10\n"
      "cpu1 100 0 50 1000 7 1 2 3 60 0\n"
      "intr 12345 0 1\nctxt 99\nbtime 1\nprocesses 5\n");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->size(), 2U);
  const CpuTicks& c1 = (*r)[1];
  EXPECT_EQ(c1.cpu, 1);
  EXPECT_EQ(c1.user, 100U);
  EXPECT_EQ(c1.guest, 60U);
  CpuConsumerTicks s = SplitByConsumer(c1);
  EXPECT_DOUBLE_EQ(s.host, 100 + 0 - 60 - 0 + 50 + 1 + 2);
  EXPECT_DOUBLE_EQ(s.guest, 60);
  EXPECT_DOUBLE_EQ(s.steal, 3);
  EXPECT_DOUBLE_EQ(s.idle, 1007);
}

TEST(ProcStatTest, OlderKernelsHaveFewerColumns) {
  auto r = ParseProcStat("cpu0 1 2 3 4\ncpu1 1 2 3 4 5 6 7\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)[0].iowait, 0U);
  EXPECT_EQ((*r)[0].steal, 0U);
  EXPECT_EQ((*r)[1].softirq, 7U);
  EXPECT_EQ((*r)[1].guest, 0U);
}

TEST(ProcStatTest, FutureColumnsIgnoredAndOfflineCpusMissing) {
  auto r = ParseProcStat("cpu0 1 2 3 4 5 6 7 8 9 10 11 12\ncpu3 1 1 1 1\n");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->size(), 2U);
  EXPECT_EQ((*r)[1].cpu, 3);
}

TEST(ProcStatTest, HostFlooredAtZero) {
  // guest read after user advanced: guest > user+nice must not go negative.
  CpuTicks t;
  t.user = 5;
  t.guest = 9;
  t.system = 2;
  EXPECT_DOUBLE_EQ(SplitByConsumer(t).host, 2);
}

TEST(ProcStatTest, VeryLongLinesAndManyCpus) {
  std::string text = "cpu  1 1 1 1\n";
  for (int i = 0; i < 4096; ++i) {
    text +=
        "cpu" + std::to_string(i) + " 18446744073709551615 0 0 0 0 0 0 0 0 0\n";
  }
  text += "intr 1";
  for (int i = 0; i < 20000; ++i) text += " 0";
  text += "\n";
  auto r = ParseProcStat(text);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->size(), 4096U);
  EXPECT_EQ(r->back().user, 18446744073709551615ULL);
}

TEST(ProcStatTest, MalformedLines) {
  auto few = ParseProcStat("cpu0 1 2 3\n");
  ASSERT_FALSE(few.ok());
  EXPECT_EQ(few.error(),
            "line 1: expected at least 4 tick columns for cpu0, got 3");
  auto junk = ParseProcStat("cpu  1 2 3 4\ncpu0 1 2 x 4\n");
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.error().find(
                "line 2: expected a tick count in column 3 of cpu0, got 'x'"),
            std::string::npos)
      << junk.error();
  auto name = ParseProcStat("cpu9x 1 2 3 4\n");
  ASSERT_FALSE(name.ok());
  EXPECT_NE(name.error().find("expected 'cpuN'"), std::string::npos);
  // No per-CPU line at all (empty, or the aggregate only) is an error: a
  // running kernel has an online CPU.
  EXPECT_FALSE(ParseProcStat("").ok());
  EXPECT_FALSE(ParseProcStat("cpu  1 2 3 4\nbtime 5\n").ok());
  auto twice = ParseProcStat("cpu1 1 2 3 4\ncpu1 1 2 3 4\n");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().find("cpu1 appears twice"), std::string::npos);
}

}  // namespace
}  // namespace hostiso
