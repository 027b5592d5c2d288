#include "metrics/headroom/memory_model.h"

#include <gtest/gtest.h>

namespace hostiso {
namespace {

constexpr std::uint64_t kMiB = 1024ULL * 1024;
constexpr std::uint64_t kGiB = 1024 * kMiB;

Meminfo Mem(std::uint64_t total, std::uint64_t available) {
  Meminfo m;
  m.mem_total = total;
  m.mem_available = available;
  m.hugepagesize_bytes = 2 * kMiB;
  return m;
}

HugePagePool Pool2M(std::uint64_t total_bytes, std::uint64_t free_bytes,
                    std::uint64_t reserved_bytes = 0) {
  return HugePagePool{2 * kMiB, total_bytes / (2 * kMiB),
                      free_bytes / (2 * kMiB), reserved_bytes / (2 * kMiB)};
}

TEST(MemoryModelTest, NoHugePagesNoGuests) {
  MemoryInputs in;
  in.meminfo = Mem(64 * kGiB, 60 * kGiB);
  auto b = ComputeHostMemory(in);
  EXPECT_EQ(b.host_used_bytes, 4 * kGiB);
  EXPECT_EQ(b.hugepage_pool_bytes, 0U);
}

TEST(MemoryModelTest, NormalGuestsResidentMemoryIsNotHost) {
  MemoryInputs in;
  in.meminfo = Mem(64 * kGiB, 40 * kGiB);  // 24 GiB used
  in.guests = {
      {8 * kGiB, false, 8 * kGiB + 300 * kMiB},
      {16 * kGiB, false, 10 * kGiB + 200 * kMiB},  // not all touched
      {4 * kGiB, false, std::nullopt}};  // QEMU gone: contributes nothing
  auto b = ComputeHostMemory(in);
  EXPECT_EQ(b.guest_private_resident_bytes, 18 * kGiB + 500 * kMiB);
  EXPECT_EQ(b.host_used_bytes, 24 * kGiB - 18 * kGiB - 500 * kMiB);
}

// The same host processes (3 GiB) and the same two guests (4 GiB each, QEMU
// overhead 200 MiB each) give the same host_used whether the guests are
// backed by huge pages or not.
TEST(MemoryModelTest, SameAnswerWithAndWithoutHugePageGuests) {
  const std::uint64_t host = 3 * kGiB, guest = 4 * kGiB, overhead = 200 * kMiB;
  const std::uint64_t total = 64 * kGiB;

  MemoryInputs normal;
  normal.meminfo = Mem(total, total - host - 2 * (guest + overhead));
  normal.guests = {{guest, false, guest + overhead},
                   {guest, false, guest + overhead}};
  EXPECT_EQ(ComputeHostMemory(normal).host_used_bytes, host);

  MemoryInputs huge;
  // 16 GiB pool sized at boot; the guests fault in 8 GiB of it. The whole
  // pool is outside MemAvailable; statm never counts hugetlb pages.
  const std::uint64_t pool = 16 * kGiB;
  huge.meminfo = Mem(total, total - host - pool - 2 * overhead);
  huge.pools = {Pool2M(pool, pool - 2 * guest)};
  huge.guests = {{guest, true, overhead}, {guest, true, overhead}};
  auto b = ComputeHostMemory(huge);
  EXPECT_EQ(b.guest_hugepage_bytes, 2 * guest);
  EXPECT_EQ(b.host_hugepage_used_bytes, 0U);
  EXPECT_EQ(b.host_used_bytes, host);

  // Mixed: one of each.
  MemoryInputs mixed;
  mixed.meminfo =
      Mem(total, total - host - pool - (guest + overhead) - overhead);
  mixed.pools = {Pool2M(pool, pool - guest)};
  mixed.guests = {{guest, false, guest + overhead}, {guest, true, overhead}};
  EXPECT_EQ(ComputeHostMemory(mixed).host_used_bytes, host);
}

// OVS-DPDK takes 1 GiB of the pool (nova.conf reserved_huge_pages): host
// memory.
TEST(MemoryModelTest, HostHugePagesCountAsHost) {
  const std::uint64_t host = 3 * kGiB, dpdk = 1 * kGiB, pool = 16 * kGiB,
                      guest = 4 * kGiB;
  MemoryInputs in;
  in.meminfo = Mem(64 * kGiB, 64 * kGiB - host - pool);
  in.pools = {Pool2M(pool, pool - guest - dpdk)};
  in.guests = {{guest, true, 0}};
  auto b = ComputeHostMemory(in);
  EXPECT_EQ(b.host_hugepage_used_bytes, dpdk);
  EXPECT_EQ(b.host_used_bytes, host + dpdk);
}

// Pages promised to a mapping (HugePages_Rsvd) but not faulted in yet are
// committed: a DPDK process that mmap'ed its pages counts at once.
TEST(MemoryModelTest, ReservedHugePagesAreCommitted) {
  MemoryInputs in;
  in.meminfo = Mem(32 * kGiB, 16 * kGiB);
  in.pools = {Pool2M(8 * kGiB, 8 * kGiB, 2 * kGiB)};
  auto b = ComputeHostMemory(in);
  EXPECT_EQ(b.hugepage_committed_bytes, 2 * kGiB);
  EXPECT_EQ(b.host_hugepage_used_bytes, 2 * kGiB);
  EXPECT_EQ(b.host_used_bytes, 16 * kGiB - 8 * kGiB + 2 * kGiB);
}

// A hugepage guest whose pages are not all faulted in yet: the shortfall is
// not negative host memory.
TEST(MemoryModelTest, LazyHugePageGuestDoesNotGoNegative) {
  MemoryInputs in;
  in.meminfo = Mem(32 * kGiB, 20 * kGiB);
  in.pools = {Pool2M(8 * kGiB, 6 * kGiB)};
  in.guests = {{4 * kGiB, true, 100 * kMiB}};
  auto b = ComputeHostMemory(in);
  EXPECT_EQ(b.host_hugepage_used_bytes, 0U);
  EXPECT_EQ(b.host_used_bytes, 12 * kGiB - 8 * kGiB - 100 * kMiB);
}

TEST(MemoryModelTest, SeveralPageSizes) {
  MemoryInputs in;
  in.meminfo = Mem(64 * kGiB, 40 * kGiB);
  in.pools = {Pool2M(2 * kGiB, 1 * kGiB), HugePagePool{kGiB, 8, 4, 0}};
  in.guests = {{4 * kGiB, true, 0}};
  auto b = ComputeHostMemory(in);
  EXPECT_EQ(b.hugepage_pool_bytes, 10 * kGiB);
  EXPECT_EQ(b.hugepage_committed_bytes, 5 * kGiB);
  EXPECT_EQ(b.host_hugepage_used_bytes, 1 * kGiB);
  EXPECT_EQ(b.host_used_bytes, 24 * kGiB - 10 * kGiB + 1 * kGiB);
}

TEST(MemoryModelTest, MeminfoHugetlbCoversPoolsSysfsMissed) {
  MemoryInputs in;
  in.meminfo = Mem(64 * kGiB, 40 * kGiB);
  in.meminfo.hugetlb_bytes = 6 * kGiB;
  in.pools = {Pool2M(2 * kGiB, 2 * kGiB)};
  EXPECT_EQ(ComputeHostMemory(in).hugepage_pool_bytes, 6 * kGiB);
}

TEST(MemoryModelTest, FlooredAtZero) {
  MemoryInputs in;
  in.meminfo = Mem(16 * kGiB, 12 * kGiB);
  in.guests = {{8 * kGiB, false, 8 * kGiB}};  // inventory newer than meminfo
  EXPECT_EQ(ComputeHostMemory(in).host_used_bytes, 0U);
  in.meminfo = Mem(16 * kGiB, 17 * kGiB);  // nonsense input
  in.guests.clear();
  EXPECT_EQ(ComputeHostMemory(in).host_used_bytes, 0U);
}

}  // namespace
}  // namespace hostiso
