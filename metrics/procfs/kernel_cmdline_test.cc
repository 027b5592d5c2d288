#include "metrics/procfs/kernel_cmdline.h"

#include <gtest/gtest.h>

namespace hostiso {
namespace {

TEST(KernelCmdlineTest, IsolationParameters) {
  auto c = ParseKernelCmdline(
      "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro "
      "isolcpus=domain,managed_irq,2-7,10 "
      "nohz_full=2-7 rcu_nocbs=2-7,10 quiet\n");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->isolcpus.ToString(), "2-7,10");
  EXPECT_EQ(c->isolcpus_flags,
            (std::vector<std::string>{"domain", "managed_irq"}));
  EXPECT_EQ(c->nohz_full.ToString(), "2-7");
  EXPECT_EQ(c->rcu_nocbs.ToString(), "2-7,10");
}

TEST(KernelCmdlineTest, PlainListLastWinsQuotesAndInitArgs) {
  auto c = ParseKernelCmdline(
      "isolcpus=1 isolcpus=\"3-4\" foo=\"a b\" -- isolcpus=9 nohz_full=9\n");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->isolcpus.ToString(), "3-4");
  EXPECT_TRUE(c->isolcpus_flags.empty());
  EXPECT_TRUE(c->nohz_full.Empty());
}

TEST(KernelCmdlineTest, NoIsolation) {
  auto c = ParseKernelCmdline("console=ttyS0 quiet");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->isolcpus.Empty());
  EXPECT_TRUE(ParseKernelCmdline("").ok());
}

TEST(KernelCmdlineTest, FlagsOnlyMeansEmptyList) {
  auto c = ParseKernelCmdline("isolcpus=nohz,domain");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(c->isolcpus.Empty());
  EXPECT_EQ(c->isolcpus_flags.size(), 2U);
}

TEST(KernelCmdlineTest, MalformedValues) {
  auto bad_flag = ParseKernelCmdline("isolcpus=bogus,1-3");
  ASSERT_FALSE(bad_flag.ok());
  EXPECT_NE(bad_flag.error().find("unknown flag"), std::string::npos)
      << bad_flag.error();
  auto reversed = ParseKernelCmdline("nohz_full=5-2");
  ASSERT_FALSE(reversed.ok());
  EXPECT_NE(
      reversed.error().find("/proc/cmdline: nohz_full: invalid CPU list '5-2'"),
      std::string::npos)
      << reversed.error();
}

}  // namespace
}  // namespace hostiso
