#include "metrics/sysfs/cpu_layout.h"

#include <gtest/gtest.h>

#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

using testing::TempTree;

// A 2-package, 2-node host with SMT: CPUs 0-3 on package 0 / node 0, 4-7 on
// package 1 / node 1; siblings N and N+2 within a package.
void WriteSmtHost(TempTree& tree) {
  for (int cpu = 0; cpu < 8; ++cpu) {
    const std::string dir =
        "devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    const int package = cpu / 4;
    const int first = package * 4 + cpu % 2;
    tree.Write(dir + "physical_package_id", std::to_string(package) + "\n");
    tree.Write(dir + "core_id", std::to_string(cpu % 2) + "\n");
    tree.Write(dir + "thread_siblings_list",
               std::to_string(first) + "," + std::to_string(first + 2) + "\n");
  }
  tree.Write("devices/system/node/online", "0-1\n");
  tree.Write("devices/system/node/node0/cpulist", "0-3\n");
  tree.Write("devices/system/node/node1/cpulist", "4-7\n");
}

TEST(CpuLayoutTest, ReadsPackagesCoresNodesAndSiblings) {
  TempTree tree;
  WriteSmtHost(tree);
  auto layout = ReadCpuLayout(tree.Root(), CpuSet::FromList({0, 1, 2, 5, 7}));
  ASSERT_TRUE(layout) << layout.error();
  ASSERT_EQ(layout->cpus.size(), 5u);
  EXPECT_TRUE(layout->numa_from_sysfs);
  const CpuPlace* five = layout->Find(5);
  ASSERT_NE(five, nullptr);
  EXPECT_EQ(five->package, 1);
  EXPECT_EQ(five->core, 1);
  EXPECT_EQ(five->numa_node, 1);
  EXPECT_EQ(layout->SiblingsOf(5), CpuSet::FromList({7}));
  EXPECT_EQ(layout->SiblingsOf(0), CpuSet::FromList({2}));
  EXPECT_EQ(layout->Find(3), nullptr);  // offline: not in the layout
  EXPECT_TRUE(layout->SiblingsOf(3).Empty());
  // Node CPU lists are limited to the online CPUs.
  EXPECT_EQ(layout->nodes.at(0), CpuSet::FromList({0, 1, 2}));
  EXPECT_EQ(layout->nodes.at(1), CpuSet::FromList({5, 7}));
  EXPECT_EQ(layout->NodesOf(CpuSet::FromList({1, 7, 9})),
            (std::vector<int>{0, 1}));
}

TEST(CpuLayoutTest, WithoutNodeDirectoryEveryCpuIsOnNodeZero) {
  TempTree tree;
  WriteSmtHost(tree);
  tree.Remove("devices/system/node");
  auto layout = ReadCpuLayout(tree.Root(), CpuSet::FromList({0, 4}));
  ASSERT_TRUE(layout) << layout.error();
  EXPECT_FALSE(layout->numa_from_sysfs);
  EXPECT_EQ(layout->Find(4)->numa_node, 0);
  EXPECT_EQ(layout->nodes.at(0), CpuSet::FromList({0, 4}));
}

TEST(CpuLayoutTest, WithoutNodeOnlineFileReadsNodeDirectories) {
  TempTree tree;
  WriteSmtHost(tree);
  tree.Remove("devices/system/node/online");
  tree.Write("devices/system/node/possible", "0-1\n");  // not a node dir
  auto layout = ReadCpuLayout(tree.Root(), CpuSet::FromList({0, 4}));
  ASSERT_TRUE(layout) << layout.error();
  EXPECT_EQ(layout->Find(4)->numa_node, 1);
}

TEST(CpuLayoutTest, BrokenFilesAreErrorsNamingTheFile) {
  TempTree tree;
  WriteSmtHost(tree);
  tree.Write("devices/system/cpu/cpu1/topology/core_id", "one\n");
  auto layout = ReadCpuLayout(tree.Root(), CpuSet::FromList({0, 1}));
  ASSERT_FALSE(layout);
  EXPECT_NE(layout.error().find("cpu1/topology/core_id"), std::string::npos)
      << layout.error();

  TempTree no_sibling;
  WriteSmtHost(no_sibling);
  no_sibling.Write("devices/system/cpu/cpu0/topology/thread_siblings_list",
                   "2\n");
  EXPECT_FALSE(ReadCpuLayout(no_sibling.Root(), CpuSet::FromList({0})));

  TempTree missing;
  WriteSmtHost(missing);
  missing.Remove("devices/system/cpu/cpu0/topology/physical_package_id");
  EXPECT_FALSE(ReadCpuLayout(missing.Root(), CpuSet::FromList({0})));
}

TEST(CpuLayoutTest, CpuOnTwoNodesOrOnNoneIsAnError) {
  TempTree twice;
  WriteSmtHost(twice);
  twice.Write("devices/system/node/node1/cpulist", "3-7\n");
  auto layout = ReadCpuLayout(twice.Root(), CpuSet::FromList({3}));
  ASSERT_FALSE(layout);
  EXPECT_NE(layout.error().find("also on node 0"), std::string::npos);

  TempTree none;
  WriteSmtHost(none);
  none.Write("devices/system/node/node1/cpulist", "5-7\n");
  EXPECT_FALSE(ReadCpuLayout(none.Root(), CpuSet::FromList({4})));
}

TEST(CpuLayoutTest, ParsesIdsAndNodeNames) {
  EXPECT_EQ(*ParseSysfsId("3\n"), 3);
  EXPECT_EQ(*ParseSysfsId("-1\n"), -1);
  EXPECT_FALSE(ParseSysfsId(""));
  EXPECT_FALSE(ParseSysfsId("99999999999\n"));
  EXPECT_EQ(ParseNodeDirName("node12"), 12);
  EXPECT_FALSE(ParseNodeDirName("node"));
  EXPECT_FALSE(ParseNodeDirName("possible"));
  EXPECT_FALSE(ParseNodeDirName("node1a"));
}

}  // namespace
}  // namespace hostiso
