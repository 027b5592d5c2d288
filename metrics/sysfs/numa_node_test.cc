#include "metrics/sysfs/numa_node.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

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

// Node 1 with its meminfo and a 2 MiB pool of 64 pages, 60 free; returns
// the node's directory under the tree.
std::string WriteNode1(testing::TempTree& t) {
  std::string node = "devices/system/node/node1/";
  t.Write(node + "meminfo", kNode1);
  t.Write(node + "hugepages/hugepages-2048kB/nr_hugepages", "64\n");
  t.Write(node + "hugepages/hugepages-2048kB/free_hugepages", "60\n");
  return node;
}

TEST(NumaNodeMemoryTest, ReadsMeminfoAndPerNodePools) {
  testing::TempTree t;
  const std::string node = WriteNode1(t);
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

TEST(NumaNodeMemoryTest, ListedFilesAreReadWithoutListingAgain) {
  testing::TempTree t;
  const std::string node = WriteNode1(t);
  auto files = ListNumaNodeFiles(t.Root(), 1);
  ASSERT_TRUE(files) << files.error();
  ASSERT_EQ(files->pools.size(), 1U);
  EXPECT_EQ(files->pools[0].nr_hugepages,
            t.Path(node + "hugepages/hugepages-2048kB/nr_hugepages"));
  t.Write(node + "hugepages/hugepages-1048576kB/nr_hugepages", "2\n");
  t.Write(node + "hugepages/hugepages-1048576kB/free_hugepages", "1\n");
  t.Write(node + "hugepages/hugepages-2048kB/free_hugepages", "10\n");
  auto m = ReadNumaNodeMemory(*files);
  ASSERT_TRUE(m) << m.error();
  ASSERT_EQ(m->hugepages.size(), 1U);
  EXPECT_EQ(m->hugepages[0].free, 10U);
  EXPECT_EQ(ReadNumaNodeMemory(t.Root(), 1)->hugepages.size(), 2U);
}

TEST(NumaNodeMemoryTest, FifoAndOverlongFilesAreErrorsNamingThem) {
  testing::TempTree t;
  const std::string node = "devices/system/node/node0/";
  t.Write(node + "hugepages/hugepages-2048kB/nr_hugepages", "64\n");
  t.Write(node + "hugepages/hugepages-2048kB/free_hugepages", "60\n");
  t.MakeDir(node);
  ASSERT_EQ(::mkfifo(t.Path(node + "meminfo").c_str(), 0600), 0);
  auto fifo = ReadNumaNodeMemory(t.Root(), 0);
  ASSERT_FALSE(fifo);
  EXPECT_NE(fifo.error().find("node0/meminfo: a FIFO"), std::string::npos)
      << fifo.error();
  t.Remove(node + "meminfo");
  std::string huge;
  while (huge.size() < 10000) huge += "Node 0 MemTotal: 100 kB\n";
  t.Write(node + "meminfo", huge);
  auto big = ReadNumaNodeMemory(t.Root(), 0);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().find("node0/meminfo: larger than"), std::string::npos)
      << big.error();
  t.Write(node + "meminfo", "Node 0 MemTotal: 100 kB\nNode 0 MemFree: 10 kB\n");
  t.Write(node + "hugepages/hugepages-2048kB/nr_hugepages",
          std::string(65, '9'));
  auto counter = ReadNumaNodeMemory(t.Root(), 0);
  ASSERT_FALSE(counter);
  EXPECT_NE(counter.error().find("nr_hugepages: larger than"),
            std::string::npos)
      << counter.error();
  t.Write(node + "hugepages/hugepages-2048kB/nr_hugepages", "");
  auto empty = ReadNumaNodeMemory(t.Root(), 0);
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().find("nr_hugepages: expected a number"),
            std::string::npos)
      << empty.error();
}

TEST(NodeMeminfoTest, ErrorsNameTheLine) {
  auto other =
      ParseNodeMeminfo("Node 0 MemTotal: 1 kB\nNode 1 MemFree: 1 kB\n", 0);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error(), "line 2: names node 1, expected node 0");
  auto unit = ParseNodeMeminfo("\nNode 7 MemFree: 1 kB extra\n", 7);
  ASSERT_FALSE(unit);
  EXPECT_EQ(unit.error(), "line 2: expected \"MemFree: N kB\"");
  auto shape = ParseNodeMeminfo("Node 7 MemFree:\n", 7);
  ASSERT_FALSE(shape);
  EXPECT_EQ(shape.error(), "line 1: expected \"Node 7 Key: value\"");
}

}  // namespace
}  // namespace hostiso
