#include "metrics/cpu_topology.h"

#include <gtest/gtest.h>

#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

TEST(CpuTopologyTest, ReadsAllFiles) {
  testing::TempTree t;
  t.Write("devices/system/cpu/present", "0-7\n");
  t.Write("devices/system/cpu/online", "0-5\n");
  t.Write("devices/system/cpu/isolated", "4-5\n");
  t.Write("devices/system/cpu/nohz_full", "(null)\n");
  auto topo = ReadCpuTopology(t.Root());
  ASSERT_TRUE(topo.ok()) << topo.error();
  EXPECT_EQ(topo->present.ToString(), "0-7");
  EXPECT_EQ(topo->online.ToString(), "0-5");
  EXPECT_EQ(topo->isolated.ToString(), "4-5");
  EXPECT_TRUE(topo->has_isolated_file);
  EXPECT_TRUE(topo->nohz_full.Empty());
}

TEST(CpuTopologyTest, OptionalFilesMayBeMissing) {
  testing::TempTree t;
  t.Write("devices/system/cpu/present", "0-1\n");
  t.Write("devices/system/cpu/online", "0-1\n");
  auto topo = ReadCpuTopology(t.Root());
  ASSERT_TRUE(topo.ok()) << topo.error();
  EXPECT_FALSE(topo->has_isolated_file);
}

TEST(CpuTopologyTest, MissingOrMalformedRequiredFileNamesPath) {
  testing::TempTree t;
  t.Write("devices/system/cpu/present", "0-1\n");
  auto missing = ReadCpuTopology(t.Root());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("devices/system/cpu/online"),
            std::string::npos);
  t.Write("devices/system/cpu/online", "garbage\n");
  auto bad = ReadCpuTopology(t.Root());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("online: invalid CPU list"), std::string::npos)
      << bad.error();
}

}  // namespace
}  // namespace hostiso
