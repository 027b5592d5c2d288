#include "metrics/procfs/meminfo.h"

#include <gtest/gtest.h>

#include "metrics/procfs/statm.h"
#include "metrics/sysfs/hugepages.h"
#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;

// Debian 12 kernel 6.1, no huge pages configured.
constexpr const char* kPlain = R"(MemTotal:       24684096 kB
MemFree:        20931456 kB
MemAvailable:   23011220 kB
Buffers:           82340 kB
Cached:          2239116 kB
AnonHugePages:         0 kB
HugePages_Total:       0
HugePages_Free:        0
HugePages_Rsvd:        0
HugePages_Surp:        0
Hugepagesize:       2048 kB
Hugetlb:               0 kB
DirectMap4k:      155512 kB
)";

// A compute host with 16 GiB of 2 MiB pages, 4 GiB of them free, 512 MiB
// reserved.
constexpr const char* kHuge = R"(MemTotal:       65831540 kB
MemFree:        30000000 kB
MemAvailable:   38000000 kB
HugePages_Total:    8192
HugePages_Free:     2048
HugePages_Rsvd:      256
HugePages_Surp:        0
Hugepagesize:       2048 kB
Hugetlb:        16777216 kB
)";

TEST(MeminfoTest, ParsesWithoutHugePages) {
  auto m = ParseMeminfo(kPlain);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->mem_total, 24684096 * kKiB);
  EXPECT_EQ(m->mem_available, 23011220 * kKiB);
  EXPECT_EQ(m->hugepages_total, 0U);
  EXPECT_EQ(m->hugepagesize_bytes, 2 * kMiB);
  ASSERT_TRUE(m->hugetlb_bytes.has_value());
  EXPECT_EQ(*m->hugetlb_bytes, 0U);
  EXPECT_TRUE(PoolsFromMeminfo(*m).front().TotalBytes() == 0);
}

TEST(MeminfoTest, ParsesHugePages) {
  auto m = ParseMeminfo(kHuge);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->hugepages_total, 8192U);
  EXPECT_EQ(m->hugepages_free, 2048U);
  EXPECT_EQ(m->hugepages_rsvd, 256U);
  EXPECT_EQ(*m->hugetlb_bytes, 16ULL * 1024 * kMiB);
  auto pools = PoolsFromMeminfo(*m);
  ASSERT_EQ(pools.size(), 1U);
  EXPECT_EQ(pools[0].TotalBytes(), 16ULL * 1024 * kMiB);
  EXPECT_EQ(pools[0].FreeBytes(), 4ULL * 1024 * kMiB);
  // (8192 - 2048 + 256) pages x 2 MiB
  EXPECT_EQ(pools[0].CommittedBytes(), 6400ULL * 2 * kMiB);
}

TEST(MeminfoTest, OldKernelWithoutHugetlbLine) {
  auto m = ParseMeminfo("MemTotal: 1000 kB\nMemAvailable: 500 kB\n");
  ASSERT_TRUE(m) << m.error();
  EXPECT_FALSE(m->hugetlb_bytes.has_value());
  EXPECT_TRUE(PoolsFromMeminfo(*m).empty());
}

TEST(MeminfoTest, MissingFieldsAreErrors) {
  // Kernels before 3.14 have no MemAvailable: not an error.
  auto no_avail = ParseMeminfo("MemTotal: 1000 kB\nMemFree: 10 kB\n");
  ASSERT_TRUE(no_avail) << no_avail.error();
  EXPECT_FALSE(no_avail->mem_available.has_value());
  auto above = ParseMeminfo("MemTotal: 1000 kB\nMemAvailable: 1001 kB\n");
  ASSERT_FALSE(above);
  EXPECT_NE(above.error().find("above MemTotal"), std::string::npos);
  EXPECT_FALSE(ParseMeminfo("MemTotal: 0 kB\n"));
  EXPECT_FALSE(ParseMeminfo("MemTotal: 99999999999999999 kB\n"));
  EXPECT_FALSE(ParseMeminfo("MemAvailable: 1 kB\n"));
  auto garbage = ParseMeminfo("MemTotal: lots kB\nMemAvailable: 1 kB\n");
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().find("MemTotal"), std::string::npos);
}

TEST(MeminfoTest, CommittedNeverAboveTotal) {
  HugePagePool p{2 * kMiB, 10, 10, 20};
  EXPECT_EQ(p.CommittedBytes(), 20 * kMiB);
  HugePagePool q{2 * kMiB, 10, 12, 0};  // racy read: free > total
  EXPECT_EQ(q.CommittedBytes(), 0U);
}

TEST(MeminfoTest, HugePageDirNames) {
  EXPECT_EQ(ParseHugePageDirName("hugepages-2048kB"), 2 * kMiB);
  EXPECT_EQ(ParseHugePageDirName("hugepages-1048576kB"), 1024 * kMiB);
  EXPECT_FALSE(ParseHugePageDirName("hugepages-kB"));
  EXPECT_FALSE(ParseHugePageDirName("hugepages-0kB"));
  EXPECT_FALSE(ParseHugePageDirName("hugepages-2048"));
  EXPECT_FALSE(ParseHugePageDirName("nr_hugepages"));
}

TEST(MeminfoTest, ReadsPerSizePoolsFromSysfs) {
  testing::TempTree t;
  t.Write("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "1024\n");
  t.Write("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "24\n");
  t.Write("sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages", "8\n");
  t.Write("sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "4\n");
  t.Write("sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "1\n");
  // no resv_hugepages for this size: treated as 0
  t.Write("sys/kernel/mm/hugepages/README", "not a pool\n");
  auto pools = ReadHugePagePools(t.Path("sys"));
  ASSERT_TRUE(pools) << pools.error();
  ASSERT_EQ(pools->size(), 2U);
  EXPECT_EQ((*pools)[0].page_size_bytes, 2 * kMiB);
  EXPECT_EQ((*pools)[0].total, 1024U);
  EXPECT_EQ((*pools)[0].free, 24U);
  EXPECT_EQ((*pools)[0].reserved, 8U);
  EXPECT_EQ((*pools)[1].page_size_bytes, 1024 * kMiB);
  EXPECT_EQ((*pools)[1].TotalBytes(), 4096 * kMiB);
  EXPECT_EQ((*pools)[1].CommittedBytes(), 3072 * kMiB);
}

TEST(MeminfoTest, PresentButUnreadableReservedCountIsAnError) {
  // Only a missing resv_hugepages (older kernels) reads as 0: one that is
  // there but cannot be read or parsed fails the pool, never a plausible 0.
  testing::TempTree t;
  t.Write("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "4\n");
  t.Write("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "4\n");
  t.MakeDir("sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages");
  auto pools = ReadHugePagePools(t.Path("sys"));
  ASSERT_FALSE(pools);
  EXPECT_NE(pools.error().find("resv_hugepages"), std::string::npos);
  testing::TempTree m;
  m.Write("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "4\n");
  m.Write("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "4\n");
  m.Write("sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages", "x\n");
  auto malformed = ReadHugePagePools(m.Path("sys"));
  ASSERT_FALSE(malformed);
  EXPECT_NE(malformed.error().find("expected a number"), std::string::npos);
}

TEST(MeminfoTest, NoHugetlbDirectoryMeansNoPools) {
  testing::TempTree t;
  t.MakeDir("sys/kernel/mm");
  auto pools = ReadHugePagePools(t.Path("sys"));
  ASSERT_TRUE(pools) << pools.error();
  EXPECT_TRUE(pools->empty());
}

TEST(MeminfoTest, UnreadablePoolCounterIsAnError) {
  testing::TempTree t;
  t.Write("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "16\n");
  auto pools = ReadHugePagePools(t.Path("sys"));
  ASSERT_FALSE(pools);
  EXPECT_NE(pools.error().find("free_hugepages"), std::string::npos);
}

TEST(MeminfoTest, Statm) {
  auto s = ParseStatm("1164345 203117 3520 1406 0 96240 0\n");
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->resident, 203117U);
  EXPECT_EQ(s->shared, 3520U);
  EXPECT_FALSE(ParseStatm("12 34"));
  EXPECT_FALSE(ParseStatm("a b c d e f g"));
}

}  // namespace
}  // namespace hostiso
