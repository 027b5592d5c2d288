#include "metrics/collectors/memory_collector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "metrics/testing/families.h"
#include "metrics/testing/scrape.h"
#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kGiB = 1024.0 * kMiB;

using testing::ByLabels;

bool Has(const std::vector<prometheus::MetricFamily>& out,
         const std::string& name) {
  for (const auto& f : out) {
    if (f.name == name) return true;
  }
  return false;
}

class MemoryCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    page_ = static_cast<double>(::sysconf(_SC_PAGESIZE));
    // 32 GiB host, 8 GiB pool of 2 MiB pages; 20 GiB unavailable.
    t_.Write("proc/meminfo",
             "MemTotal:       33554432 kB\n"
             "MemAvailable:   12582912 kB\n"
             "HugePages_Total:    4096\n"
             "HugePages_Free:     1536\n"
             "HugePages_Rsvd:        0\n"
             "Hugepagesize:       2048 kB\n"
             "Hugetlb:         8388608 kB\n");
    t_.Write("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "4096\n");
    t_.Write("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages",
             "1536\n");
    t_.Write("sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages", "0\n");
    // QEMU of a normal 4 GiB guest: 1 GiB resident worth of pages, 50 MiB of it
    // shared.
    t_.Write("proc/1001/statm", std::to_string(0) + " " + Pages(1 * kGiB) +
                                    " " + Pages(50 * kMiB) + " 0 0 0 0\n");
    // QEMU of a hugepage-backed 4 GiB guest: 150 MiB resident, 50 MiB shared.
    t_.Write("proc/1002/statm",
             "0 " + Pages(150 * kMiB) + " " + Pages(50 * kMiB) + " 0 0 0 0\n");
    auto inv = std::make_shared<GuestInventory>();
    inv->source = "libvirt";
    GuestDomain normal;
    normal.name = "instance-00000001";
    normal.qemu_pid = 1001;
    normal.memory_bytes = static_cast<std::uint64_t>(4 * kGiB);
    GuestDomain huge = normal;
    huge.name = "instance-00000002";
    huge.qemu_pid = 1002;
    huge.hugepages_backed = true;
    GuestDomain gone = normal;  // stopped since the inventory: no statm
    gone.name = "instance-00000003";
    gone.qemu_pid = 1003;
    inv->domains = {normal, huge, gone};
    guests_->Publish(inv);
  }
  HostPaths Paths(const std::string& sys) const {
    return HostPaths{t_.Path("proc"), t_.Path(sys), "/"};
  }
  std::string Pages(double bytes) const {
    return std::to_string(static_cast<long long>(bytes / page_));
  }
  // One scrape of `c` into `out`; whether it succeeded.
  bool Collect(Collector& c, std::vector<prometheus::MetricFamily>& out) {
    bool ok = false;
    out = scrape_.Scrape(c, &ok);
    return ok;
  }

  testing::TempTree t_;
  // Guests sampled from the tree's proc/; the test sets the isolation
  // snapshot and reads the violations.
  testing::ScrapeFixture scrape_{t_.Path("proc")};
  IsolationSnapshot& snap_ = scrape_.isolation;
  ViolationRegistry& reg_ = scrape_.violations;
  double page_ = 4096;
  std::shared_ptr<GuestInventoryHolder> guests_ =
      std::make_shared<GuestInventoryHolder>();
};

TEST_F(MemoryCollectorTest, HostUsedHeadroomAndBreach) {
  NovaConfig nova;
  nova.reserved_host_memory_mb = 4096;
  nova.reserved_huge_pages = {{0, 2048, 512}, {1, 2048, 512}};
  snap_.nova = nova;
  MemoryCollector c(Paths("sys"), guests_);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(Collect(c, out));

  // used 20 GiB - pool 8 GiB - private resident (1 GiB - 50 MiB + 100 MiB)
  // + host huge pages (5 GiB committed - 4 GiB hugepage guest = 1 GiB)
  const double expected =
      20 * kGiB - 8 * kGiB - (1 * kGiB + 50 * kMiB) + 1 * kGiB;
  EXPECT_NEAR(ByLabels(out, "hostiso_memory_host_used_bytes")[""], expected,
              2 * page_);
  EXPECT_EQ(ByLabels(out, "hostiso_memory_total_bytes")[""], 32 * kGiB);
  EXPECT_EQ(ByLabels(out, "hostiso_memory_reserved_bytes")[""], 4 * kGiB);
  EXPECT_EQ(ByLabels(out, "hostiso_memory_reserved_hugepages_bytes")[""],
            2 * kGiB);
  EXPECT_EQ(ByLabels(out, "hostiso_memory_hugepages_host_used_bytes")[""],
            1 * kGiB);
  EXPECT_EQ(
      ByLabels(out,
               "hostiso_memory_hugepages_pool_bytes")["page_size=2097152,"],
      8 * kGiB);
  EXPECT_EQ(
      ByLabels(out,
               "hostiso_memory_hugepages_free_bytes")["page_size=2097152,"],
      3 * kGiB);
  const double headroom =
      ByLabels(out, "hostiso_memory_reserve_headroom_bytes")[""];
  EXPECT_NEAR(headroom, 4 * kGiB - expected, 2 * page_);
  ASSERT_LT(headroom, 0);
  auto v = reg_.Current(ViolationKind::kMemoryReserveBreach);
  ASSERT_EQ(v.size(), 1U);
  EXPECT_EQ(v[0].subject, "memory");

  // A larger reservation clears the breach.
  nova.reserved_host_memory_mb = 16384;
  snap_.nova = nova;
  ASSERT_TRUE(Collect(c, out));
  EXPECT_GT(ByLabels(out, "hostiso_memory_reserve_headroom_bytes")[""], 0);
  EXPECT_TRUE(reg_.Current(ViolationKind::kMemoryReserveBreach).empty());
  EXPECT_EQ(reg_.Onsets(ViolationKind::kMemoryReserveBreach), 1U);
}

// Before the libvirt worker's first refresh the guests are unknown: host-used
// memory would include them and read as a breach at every start.
TEST_F(MemoryCollectorTest, NoHostUsedOrBreachBeforeTheGuestsAreKnown) {
  NovaConfig nova;
  nova.reserved_host_memory_mb = 4096;
  snap_.nova = nova;
  auto unknown = std::make_shared<GuestInventoryHolder>();  // source "none"
  MemoryCollector c(Paths("sys"), unknown);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(Collect(c, out));
  EXPECT_TRUE(ByLabels(out, "hostiso_memory_host_used_bytes").empty());
  EXPECT_TRUE(ByLabels(out, "hostiso_memory_reserve_headroom_bytes").empty());
  EXPECT_EQ(ByLabels(out, "hostiso_memory_total_bytes")[""], 32 * kGiB);
  EXPECT_EQ(reg_.Onsets(ViolationKind::kMemoryReserveBreach), 0U);
  // Without a guest source (no libvirt collector) all of it is host memory.
  MemoryCollector plain(Paths("sys"), nullptr);
  out.clear();
  ASSERT_TRUE(Collect(plain, out));
  EXPECT_FALSE(ByLabels(out, "hostiso_memory_host_used_bytes").empty());
}

TEST_F(MemoryCollectorTest, WithoutNovaNoReservationNoViolation) {
  // No nova.conf.
  MemoryCollector c(Paths("sys"), guests_);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(Collect(c, out));
  EXPECT_TRUE(Has(out, "hostiso_memory_host_used_bytes"));
  EXPECT_FALSE(Has(out, "hostiso_memory_reserved_bytes"));
  EXPECT_FALSE(Has(out, "hostiso_memory_reserve_headroom_bytes"));
  EXPECT_TRUE(reg_.Current(ViolationKind::kMemoryReserveBreach).empty());
}

TEST_F(MemoryCollectorTest, MeminfoMissingFailsWithoutTouchingViolations) {
  NovaConfig nova;
  nova.reserved_host_memory_mb = 0;
  snap_.nova = nova;
  MemoryCollector c(Paths("sys"), guests_);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(Collect(c, out));
  EXPECT_EQ(reg_.Current(ViolationKind::kMemoryReserveBreach).size(),
            1U);  // 0 MiB reserved
  t_.Remove("proc/meminfo");
  EXPECT_FALSE(Collect(c, out));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(reg_.Current(ViolationKind::kMemoryReserveBreach).size(), 1U);
}

TEST_F(MemoryCollectorTest, FallsBackToMeminfoPoolsWithoutSysfs) {
  MemoryCollector c(Paths("nosys"), guests_);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(Collect(c, out));
  EXPECT_EQ(
      ByLabels(out,
               "hostiso_memory_hugepages_pool_bytes")["page_size=2097152,"],
      8 * kGiB);
}

TEST_F(MemoryCollectorTest, GuestMemoryAgainstTheRamAllocationRatio) {
  NovaConfig nova;
  nova.reserved_host_memory_mb = 0;
  nova.ram_allocation_ratio = 0.25;  // 8 GiB of guest memory on 32 GiB
  snap_.nova = nova;
  MemoryCollector c(Paths("sys"), guests_);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(Collect(c, out));
  EXPECT_EQ(ByLabels(out, "hostiso_memory_guest_capacity_bytes")[""], 8 * kGiB);
  // The stopped guest (no statm) does not count: 2 x 4 GiB.
  EXPECT_EQ(ByLabels(out, "hostiso_memory_guest_allocated_bytes")[""],
            8 * kGiB);
  EXPECT_TRUE(reg_.Current(ViolationKind::kRamOvercommit).empty());
  nova.ram_allocation_ratio = 0.2;
  snap_.nova = nova;
  ASSERT_TRUE(Collect(c, out));
  EXPECT_EQ(reg_.Current(ViolationKind::kRamOvercommit).size(), 1U);
}

TEST_F(MemoryCollectorTest, WithoutMemAvailableMemTotalFiguresStay) {
  t_.Write("proc/meminfo", "MemTotal:       33554432 kB\n");
  snap_.nova = NovaConfig{};
  MemoryCollector c(Paths("sys"), guests_);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(Collect(c, out));
  EXPECT_EQ(ByLabels(out, "hostiso_memory_total_bytes")[""], 32 * kGiB);
  EXPECT_TRUE(Has(out, "hostiso_memory_guest_capacity_bytes"));
  EXPECT_TRUE(Has(out, "hostiso_memory_reserved_bytes"));
  EXPECT_FALSE(Has(out, "hostiso_memory_available_bytes"));
  EXPECT_FALSE(Has(out, "hostiso_memory_host_used_bytes"));
  EXPECT_FALSE(Has(out, "hostiso_memory_reserve_headroom_bytes"));
}

TEST_F(MemoryCollectorTest, BrokenInputsLeaveDependentSeriesOut) {
  NovaConfig nova;
  nova.reserved_host_memory_mb = 0;
  snap_.nova = nova;
  MemoryCollector c(Paths("sys"), guests_);
  std::vector<prometheus::MetricFamily> out;
  // An unreadable pool: no host-used figure, no headroom, no fresh breach
  // report (the registry expires the old one), and the collector fails.
  t_.Write("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "x\n");
  EXPECT_FALSE(Collect(c, out));
  EXPECT_TRUE(Has(out, "hostiso_memory_total_bytes"));
  EXPECT_FALSE(Has(out, "hostiso_memory_host_used_bytes"));
  EXPECT_FALSE(Has(out, "hostiso_memory_reserve_headroom_bytes"));
  EXPECT_TRUE(reg_.Current(ViolationKind::kMemoryReserveBreach).empty());
  // MemAvailable above MemTotal is a broken file, not a clamp.
  t_.Write("proc/meminfo",
           "MemTotal:       1024 kB\nMemAvailable:   2048 kB\n");
  EXPECT_FALSE(Collect(c, out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace hostiso
