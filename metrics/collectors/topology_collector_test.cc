#include "metrics/collectors/topology_collector.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "metrics/isolation_source.h"
#include "metrics/testing/families.h"
#include "metrics/testing/temp_tree.h"
#include "metrics/text_exposition.h"

namespace hostiso {
namespace {

using testing::ByLabels;

// 4 CPUs on 2 packages and 2 nodes, siblings (0,2) and (1,3); host CPU 0,
// dedicated 1-3 (so CPU 2 is the sibling of a host CPU).
class TopologyCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.Write("proc/cmdline", "ro\n");
    t_.Write("sys/devices/system/cpu/present", "0-3\n");
    t_.Write("sys/devices/system/cpu/online", "0-3\n");
    t_.Write("sys/devices/system/cpu/isolated", "\n");
    t_.Write("sys/devices/system/cpu/nohz_full", "(null)\n");
    for (int cpu = 0; cpu < 4; ++cpu) {
      const std::string d =
          "sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
      t_.Write(d + "physical_package_id", cpu % 2 == 0 ? "0\n" : "1\n");
      t_.Write(d + "core_id", "0\n");
      t_.Write(d + "thread_siblings_list", cpu % 2 == 0 ? "0,2\n" : "1,3\n");
    }
    t_.Write("sys/devices/system/node/online", "0-1\n");
    for (int node = 0; node < 2; ++node) {
      const std::string d =
          "sys/devices/system/node/node" + std::to_string(node) + "/";
      const std::string n = std::to_string(node);
      t_.Write(d + "cpulist", node == 0 ? "0,2\n" : "1,3\n");
      std::string meminfo = "Node " + n;
      meminfo += " MemTotal: 8388608 kB\nNode " + n;
      meminfo += " MemFree: 4194304 kB\n";
      t_.Write(d + "meminfo", meminfo);
      t_.Write(d + "hugepages/hugepages-2048kB/nr_hugepages", "512\n");
      t_.Write(d + "hugepages/hugepages-2048kB/free_hugepages",
               node == 0 ? "448\n" : "512\n");
    }
    t_.Write("nova.conf",
             "[DEFAULT]\nreserved_huge_pages = node:0,size:2048,count:32\n"
             "[compute]\ncpu_dedicated_set = 1-3\n");
    o_.paths.procfs = t_.Path("proc");
    o_.paths.sysfs = t_.Path("sys");
    o_.nova_config = t_.Path("nova.conf");
  }

  TopologyOptions Options(bool guests) const {
    TopologyOptions options;
    options.paths = o_.paths;
    options.guests_enabled = guests;
    options.census_enabled = false;
    return options;
  }

  // As Collect(); with `rendered`, as a scrape served as text.
  Expected<void> Scrape(TopologyCollector& c,
                        std::vector<prometheus::MetricFamily>& out,
                        std::vector<RenderedSlot>* rendered = nullptr) {
    out.clear();
    IsolationSource src(o_);
    auto snap = src.Reload();
    GuestSampler sampler("/nonexistent");
    ScrapeContext ctx{*snap, reg_, sampler, nullptr, rendered};
    return c.Collect(ctx, out);
  }

  testing::TempTree t_;
  IsolationOptions o_;
  ViolationRegistry reg_;
};

TEST_F(TopologyCollectorTest, TopologyNodesAndSmtSibling) {
  TopologyCollector c(Options(false), nullptr);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(Scrape(c, out));
  auto info = ByLabels(out, "hostiso_cpu_topology_info");
  EXPECT_EQ(info.size(), 4U);
  EXPECT_EQ(info.count("cpu=3,package=1,core=0,numa_node=1,"), 1U);
  EXPECT_EQ(ByLabels(out, "hostiso_numa_memory_total_bytes")["node=1,"],
            8.0 * 1024 * 1024 * 1024);
  EXPECT_EQ(ByLabels(out, "hostiso_numa_memory_free_bytes")["node=0,"],
            4.0 * 1024 * 1024 * 1024);
  auto pool = ByLabels(out, "hostiso_numa_hugepages_pool_bytes");
  EXPECT_EQ(pool["node=0,page_size=2097152,"], 1024.0 * 1024 * 1024);
  EXPECT_EQ(
      ByLabels(
          out,
          "hostiso_numa_hugepages_free_bytes")["node=0,page_size=2097152,"],
      448.0 * 2 * 1024 * 1024);
  EXPECT_EQ(ByLabels(out, "hostiso_numa_hugepages_reserved_bytes")["node=0,"],
            64.0 * 1024 * 1024);
  // Without the guests' placement the host's share is unknown.
  EXPECT_TRUE(
      ByLabels(out, "hostiso_numa_hugepages_reserve_headroom_bytes").empty());
  auto v = reg_.Current(ViolationKind::kSmtSiblingShared);
  ASSERT_EQ(v.size(), 1U);
  EXPECT_EQ(v[0].subject, "cpu 2 (sibling of host cpu 0)");
  EXPECT_EQ(v[0].cpus.ToString(), "2");
}

TEST_F(TopologyCollectorTest, LayoutIsCachedUntilTheOnlineListChanges) {
  TopologyCollector c(Options(false), nullptr);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(Scrape(c, out));
  ASSERT_TRUE(Scrape(c, out));
  EXPECT_EQ(c.LayoutReads(), 1U);
  t_.Write("sys/devices/system/cpu/online", "0-2\n");
  ASSERT_TRUE(Scrape(c, out));
  EXPECT_EQ(c.LayoutReads(), 2U);
  EXPECT_EQ(ByLabels(out, "hostiso_cpu_topology_info").size(), 3U);
  // And at least every layout_max_age.
  TopologyOptions always = Options(false);
  always.layout_max_age = std::chrono::seconds(0);
  TopologyCollector fresh(always, nullptr);
  ASSERT_TRUE(Scrape(fresh, out));
  ASSERT_TRUE(Scrape(fresh, out));
  EXPECT_EQ(fresh.LayoutReads(), 2U);
}

// Served as text, hostiso_cpu_topology_info is one RenderedFamily per
// layout, written in the families' order; a new layout builds a new one.
TEST_F(TopologyCollectorTest, TopologyInfoIsRenderedOncePerLayout) {
  TopologyCollector c(Options(false), nullptr);
  std::vector<prometheus::MetricFamily> out;
  std::vector<RenderedSlot> first, second, third;
  ASSERT_TRUE(Scrape(c, out, &first));
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(first[0].index, 0U);  // its place: the collector's first family
  EXPECT_TRUE(ByLabels(out, "hostiso_cpu_topology_info").empty());
  EXPECT_EQ(ByLabels({first[0].family->family}, "hostiso_cpu_topology_info")
                .count("cpu=3,package=1,core=0,numa_node=1,"),
            1U);
  EXPECT_EQ(first[0].family->text,
            TextExposition::ToString({first[0].family->family}));
  ASSERT_TRUE(Scrape(c, out, &second));
  ASSERT_EQ(second.size(), 1U);
  EXPECT_EQ(second[0].family, first[0].family);
  t_.Write("sys/devices/system/cpu/online", "0-2\n");
  ASSERT_TRUE(Scrape(c, out, &third));
  ASSERT_EQ(third.size(), 1U);
  EXPECT_NE(third[0].family, first[0].family);
  EXPECT_EQ(third[0].family->family.metric.size(), 3U);
}

TEST_F(TopologyCollectorTest, PoolsAreListedWithTheLayoutOnly) {
  TopologyCollector c(Options(false), nullptr);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(Scrape(c, out));
  const std::string pool = "sys/devices/system/node/node0/hugepages/";
  t_.Write(pool + "hugepages-1048576kB/nr_hugepages", "2\n");
  t_.Write(pool + "hugepages-1048576kB/free_hugepages", "1\n");
  // Sizes are fixed at boot: not listed again at every scrape.
  ASSERT_TRUE(Scrape(c, out));
  EXPECT_EQ(ByLabels(out, "hostiso_numa_hugepages_pool_bytes").size(), 2U);
  // The counters themselves are read at every scrape.
  t_.Write(pool + "hugepages-2048kB/nr_hugepages", "256\n");
  ASSERT_TRUE(Scrape(c, out));
  EXPECT_EQ(
      ByLabels(
          out,
          "hostiso_numa_hugepages_pool_bytes")["node=0,page_size=2097152,"],
      512.0 * 1024 * 1024);
  // Listed again with the layout (here: a CPU went offline).
  t_.Write("sys/devices/system/cpu/online", "0-2\n");
  ASSERT_TRUE(Scrape(c, out));
  EXPECT_EQ(c.LayoutReads(), 2U);
  auto pools = ByLabels(out, "hostiso_numa_hugepages_pool_bytes");
  EXPECT_EQ(pools.size(), 3U);
  EXPECT_EQ(pools["node=0,page_size=1073741824,"], 2.0 * 1024 * 1024 * 1024);
}

TEST_F(TopologyCollectorTest, FifoOrOverlongCounterFailsItsNode) {
  const std::string counter =
      "sys/devices/system/node/node1/hugepages/hugepages-2048kB/"
      "free_hugepages";
  TopologyCollector c(Options(false), nullptr);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(Scrape(c, out));
  t_.Remove(counter);
  ASSERT_EQ(::mkfifo(t_.Path(counter).c_str(), 0600), 0);
  auto fifo = Scrape(c, out);
  ASSERT_FALSE(fifo);
  EXPECT_NE(fifo.error().find("free_hugepages: a FIFO"), std::string::npos)
      << fifo.error();
  EXPECT_EQ(ByLabels(out, "hostiso_numa_memory_total_bytes").count("node=1,"),
            0U);
  EXPECT_EQ(ByLabels(out, "hostiso_numa_hugepages_free_bytes").size(), 1U);
  t_.Remove(counter);
  t_.Write(counter, std::string(100, '1') + "\n");
  auto huge = Scrape(c, out);
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().find("free_hugepages: larger than"), std::string::npos)
      << huge.error();
  // Fixed: the node is listed and read again.
  t_.Write(counter, "7\n");
  ASSERT_TRUE(Scrape(c, out));
  EXPECT_EQ(
      ByLabels(
          out,
          "hostiso_numa_hugepages_free_bytes")["node=1,page_size=2097152,"],
      7.0 * 2 * 1024 * 1024);
}

TEST_F(TopologyCollectorTest, GuestsGiveHeadroomAndNumaMisplacement) {
  auto holder = std::make_shared<GuestInventoryHolder>();
  auto inv = std::make_shared<GuestInventory>();
  inv->source = "libvirt";
  inv->taken = std::chrono::steady_clock::now();
  GuestDomain d;
  d.name = "instance-0000002a";
  d.hugepages_backed = true;
  d.memory_bytes = 64ULL * 1024 * 1024;  // 32 pages of node 0
  d.numatune_nodes = CpuSet::FromList({0});
  d.mems_allowed = CpuSet::FromList({0});
  GuestVcpu v;
  v.affinity = CpuSet::FromList({3});  // node 1
  d.vcpus.push_back(v);
  inv->domains.push_back(d);
  holder->Publish(inv);
  TopologyCollector c(Options(true), holder);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(Scrape(c, out));
  // Node 0: 64 pages in use, 32 of them the guest's: the host uses 32 of its
  // 32 reserved pages.
  EXPECT_EQ(
      ByLabels(out, "hostiso_numa_hugepages_reserve_headroom_bytes")["node=0,"],
      0.0);
  auto v2 = reg_.Current(ViolationKind::kNumaMisplacement);
  ASSERT_EQ(v2.size(), 1U);
  EXPECT_EQ(v2[0].subject,
            "instance-0000002a (vcpus on node 1, memory on node 0)");
  EXPECT_EQ(v2[0].cpus.ToString(), "3");
}

TEST_F(TopologyCollectorTest, StaleInventoryIsNotAnInput) {
  auto holder = std::make_shared<GuestInventoryHolder>();
  TopologyOptions options = Options(true);
  options.guests_max_age = std::chrono::seconds(1);
  auto inv = std::make_shared<GuestInventory>();
  inv->source = "libvirt";
  inv->taken = std::chrono::steady_clock::now() - std::chrono::seconds(5);
  GuestDomain d;
  d.name = "g";
  d.numatune_nodes = CpuSet::FromList({0});
  GuestVcpu v;
  v.affinity = CpuSet::FromList({3});
  d.vcpus.push_back(v);
  inv->domains.push_back(d);
  holder->Publish(inv);
  TopologyCollector c(options, holder);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(Scrape(c, out));
  EXPECT_TRUE(reg_.Current(ViolationKind::kNumaMisplacement).empty());
  // Never reported: the registry has nothing to keep.
  EXPECT_EQ(reg_.Onsets(ViolationKind::kNumaMisplacement), 0U);
}

TEST_F(TopologyCollectorTest, BrokenFilesFailTheCollectorNotTheRest) {
  t_.Write("sys/devices/system/node/node1/meminfo", "garbage\n");
  TopologyCollector c(Options(false), nullptr);
  std::vector<prometheus::MetricFamily> out;
  auto r = Scrape(c, out);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("node1/meminfo"), std::string::npos) << r.error();
  EXPECT_EQ(ByLabels(out, "hostiso_cpu_topology_info").size(), 4U);
  auto total = ByLabels(out, "hostiso_numa_memory_total_bytes");
  EXPECT_EQ(total.size(), 1U);
  EXPECT_EQ(total.count("node=0,"), 1U);

  t_.Remove("sys/devices/system/cpu/cpu3/topology/core_id");
  TopologyCollector broken(Options(false), nullptr);
  auto layout = Scrape(broken, out);
  ASSERT_FALSE(layout);
  EXPECT_NE(layout.error().find("cpu3/topology/core_id"), std::string::npos);
  EXPECT_TRUE(ByLabels(out, "hostiso_cpu_topology_info").empty());
}

}  // namespace
}  // namespace hostiso
