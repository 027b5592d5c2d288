#include "metrics/sysfs/cpu_topology.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

TEST(CpuTopologyTest, ReadsAllFiles) {
  testing::TempTree t;
  t.Write("devices/system/cpu/present", "0-7\n");
  t.Write("devices/system/cpu/online", "0-5\n");
  t.Write("devices/system/cpu/isolated", "4-5\n");
  t.Write("devices/system/cpu/nohz_full", "(null)\n");
  auto lists = ReadSysfsCpuLists(t.Root());
  ASSERT_TRUE(lists.ok()) << lists.error();
  auto topo = ResolveCpuTopology(*lists, nullptr, std::nullopt);
  ASSERT_TRUE(topo.ok()) << topo.error();
  EXPECT_EQ(topo->present.ToString(), "0-7");
  EXPECT_EQ(topo->online.ToString(), "0-5");
  EXPECT_EQ(topo->isolated.ToString(), "4-5");
  EXPECT_EQ(topo->isolated_source, kSourceSysfs);
  EXPECT_TRUE(topo->nohz_full.Empty());
}

TEST(CpuTopologyTest, AbsentFilesAreNulloptNotEmpty) {
  testing::TempTree t;
  t.Write("devices/system/cpu/present", "0-1\n");
  auto lists = ReadSysfsCpuLists(t.Root());
  ASSERT_TRUE(lists.ok()) << lists.error();
  EXPECT_TRUE(lists->present.has_value());
  EXPECT_FALSE(lists->online.has_value());
  EXPECT_FALSE(lists->isolated.has_value());
  EXPECT_FALSE(lists->nohz_full.has_value());
}

TEST(CpuTopologyTest, UnreadableOrMalformedFilesAreErrorsNamingThePath) {
  testing::TempTree t;
  t.Write("devices/system/cpu/present", "0-1\n");
  t.Write("devices/system/cpu/online", "garbage\n");
  auto bad = ReadSysfsCpuLists(t.Root());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("online: invalid CPU list"), std::string::npos)
      << bad.error();
  t.Write("devices/system/cpu/online", "");
  auto empty = ReadSysfsCpuLists(t.Root());
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().find("online: empty CPU list"), std::string::npos);
  t.Write("devices/system/cpu/online", "0-1\n");
  ASSERT_EQ(::symlink(t.Path("devices/system/cpu/isolated").c_str(),
                      t.Path("devices/system/cpu/isolated").c_str()),
            0);
  auto loop = ReadSysfsCpuLists(t.Root());
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.error().find("isolated"), std::string::npos);
}

TEST(CpuTopologyTest, FallbackRules) {
  KernelCmdline cmdline;
  cmdline.isolcpus = *ParseCpuList("1,3");
  cmdline.nohz_full = *ParseCpuList("3");
  SysfsCpuLists online_only;
  online_only.online = *ParseCpuList("0-3");
  auto t = ResolveCpuTopology(online_only, &cmdline, std::nullopt);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->present.ToString(), "0-3");
  EXPECT_EQ(t->isolated.ToString(), "1,3");
  EXPECT_EQ(t->isolated_source, kSourceCmdline);
  EXPECT_EQ(t->nohz_full_source, kSourceCmdline);
  // No sysfs lists at all: the CPUs of /proc/stat.
  auto from_stat = ResolveCpuTopology({}, &cmdline, *ParseCpuList("0-1"));
  ASSERT_TRUE(from_stat.ok());
  EXPECT_EQ(from_stat->online.ToString(), "0-1");
  EXPECT_EQ(from_stat->cpus_source, kSourceProcStat);
  EXPECT_FALSE(ResolveCpuTopology({}, &cmdline, std::nullopt).ok());
  // No isolated file and no command line: unknown, an error.
  auto unknown = ResolveCpuTopology(online_only, nullptr, std::nullopt);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().find("kernel isolation unknown"),
            std::string::npos);
}

}  // namespace
}  // namespace hostiso
