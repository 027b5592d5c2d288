#include "metrics/sysfs/numa_node.h"

#include <gtest/gtest.h>

#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

constexpr const char* kNode1 =
    "Node 1 MemTotal:       16326012 kB\n"
    "Node 1 MemFree:         1048576 kB\n"
    "Node 1 MemUsed:        15277436 kB\n"
    "Node 1 HugePages_Total:     64\n"
    "Node 1 HugePages_Free:      60\n";

TEST(NodeMeminfoTest, ParsesTotalAndFreeInBytes) {
  auto m = ParseNodeMeminfo(kNode1, 1);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->total_bytes, 16326012ULL * 1024);
  EXPECT_EQ(m->free_bytes, 1048576ULL * 1024);
}

TEST(NodeMeminfoTest, RejectsAnotherNodesFileAndMalformedLines) {
  auto other = ParseNodeMeminfo(kNode1, 0);
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().find("names node 1, expected node 0"),
            std::string::npos)
      << other.error();
  EXPECT_FALSE(ParseNodeMeminfo("", 0));
  EXPECT_FALSE(ParseNodeMeminfo("Node 0 MemTotal: 10 kB\n", 0));  // no free
  EXPECT_FALSE(ParseNodeMeminfo("MemTotal: 10 kB\nMemFree: 1 kB\n", 0));
  EXPECT_FALSE(
      ParseNodeMeminfo("Node 0 MemTotal: 10 MB\nNode 0 MemFree: 1 kB\n", 0));
  EXPECT_FALSE(
      ParseNodeMeminfo("Node 0 MemTotal: 10 kB\nNode 0 MemFree: 11 kB\n", 0));
  EXPECT_FALSE(ParseNodeMeminfo(
      "Node 0 MemTotal: 99999999999999999999 kB\nNode 0 MemFree: 1 kB\n", 0));
  EXPECT_FALSE(ParseNodeMeminfo(
      "Node 0 MemTotal: 18014398509481984 kB\nNode 0 MemFree: 1 kB\n", 0));
}

TEST(NumaNodeMemoryTest, ReadsMeminfoAndPerNodePools) {
  testing::TempTree t;
  const std::string node = "devices/system/node/node1/";
  t.Write(node + "meminfo", kNode1);
  t.Write(node + "hugepages/hugepages-2048kB/nr_hugepages", "64\n");
  t.Write(node + "hugepages/hugepages-2048kB/free_hugepages", "60\n");
  t.Write(node + "hugepages/hugepages-2048kB/surplus_hugepages", "0\n");
  t.Write(node + "hugepages/hugepages-1048576kB/nr_hugepages", "2\n");
  t.Write(node + "hugepages/hugepages-1048576kB/free_hugepages", "1\n");
  auto m = ReadNumaNodeMemory(t.Root(), 1);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->node, 1);
  ASSERT_EQ(m->hugepages.size(), 2U);
  EXPECT_EQ(m->hugepages[0].page_size_bytes, 2048U * 1024);
  EXPECT_EQ(m->hugepages[0].TotalBytes(), 64U * 2048 * 1024);
  EXPECT_EQ(m->hugepages[0].FreeBytes(), 60U * 2048 * 1024);
  EXPECT_EQ(m->hugepages[0].reserved, 0U);
  EXPECT_EQ(m->hugepages[1].total, 2U);
}

TEST(NumaNodeMemoryTest, NoHugepagesDirectoryIsNoPoolsButBadCounterFails) {
  testing::TempTree t;
  t.Write("devices/system/node/node0/meminfo",
          "Node 0 MemTotal: 100 kB\nNode 0 MemFree: 10 kB\n");
  auto m = ReadNumaNodeMemory(t.Root(), 0);
  ASSERT_TRUE(m) << m.error();
  EXPECT_TRUE(m->hugepages.empty());
  t.Write("devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages",
          "x\n");
  auto bad = ReadNumaNodeMemory(t.Root(), 0);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("nr_hugepages"), std::string::npos);
  auto missing = ReadNumaNodeMemory(t.Root(), 3);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("node3/meminfo"), std::string::npos);
}

}  // namespace
}  // namespace hostiso
