#include "metrics/collectors/cgroup_collector.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "metrics/testing/cpu_list.h"
#include "metrics/testing/families.h"
#include "metrics/testing/scrape.h"
#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

using testing::Cpus;

using testing::ByLabels;

// An 8-CPU v1 host, guest CPUs 2-7 (--isolation.guest-cpus): libvirt's
// `machine` confined to them, an operator's ovs.slice spilling onto CPU 2.
class CgroupCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.Write("cpuset/cpuset.effective_cpus", "0-7\n");
    t_.Write("cpuset/machine/cpuset.effective_cpus", "2-7\n");
    t_.Write("cpuset/ovs.slice/cpuset.effective_cpus", "0-2\n");
    t_.Write("cpuacct/cpuacct.usage", "1\n");
    t_.Write("cpuacct/machine/cpuacct.usage", "5000000000\n");
    t_.Write("cpuacct/system.slice/cpuacct.usage", "1500000000\n");
    scrape_.isolation.topology.online = Cpus("0-7");
    scrape_.isolation.roles =
        CpuRoles(GuestSetsFromConfig(std::nullopt, Cpus("2-7")), Cpus("0-7"));
  }
  CgroupCollector Make() {
    return CgroupCollector(
        {t_.Root(), {"system.slice", "user.slice", "init.scope", "ovs.slice"}});
  }
  testing::TempTree t_;
  testing::ScrapeFixture scrape_;
};

TEST_F(CgroupCollectorTest, SeriesAndViolations) {
  CgroupCollector c = Make();
  bool ok = false;
  auto out = scrape_.Scrape(c, &ok);
  ASSERT_TRUE(ok) << scrape_.last_error;
  EXPECT_EQ(ByLabels(out, "hostiso_cgroup_cpuset_info"),
            (std::map<std::string, double>{{"slice=machine,cpus=2-7,", 1},
                                           {"slice=system.slice,cpus=0-7,", 1},
                                           {"slice=ovs.slice,cpus=0-2,", 1}}));
  EXPECT_EQ(ByLabels(out, "hostiso_cgroup_cpu_seconds_total"),
            (std::map<std::string, double>{{"slice=machine,", 5.0},
                                           {"slice=system.slice,", 1.5}}));
  auto host = scrape_.violations.Current(ViolationKind::kHostSliceOnGuestCpu);
  ASSERT_EQ(host.size(), 2U);
  EXPECT_EQ(host[0].subject, "slice ovs.slice");
  EXPECT_EQ(host[0].cpus.ToString(), "2");
  EXPECT_EQ(host[1].subject, "slice system.slice");
  EXPECT_EQ(host[1].cpus.ToString(), "2-7");
  EXPECT_TRUE(scrape_.violations.Current(ViolationKind::kMachineSliceOnHostCpu)
                  .empty());
}

TEST_F(CgroupCollectorTest, MachineSliceOnHostCpus) {
  t_.Write("cpuset/machine/cpuset.effective_cpus", "0-7\n");
  CgroupCollector c = Make();
  scrape_.Scrape(c);
  auto v = scrape_.violations.Current(ViolationKind::kMachineSliceOnHostCpu);
  ASSERT_EQ(v.size(), 1U);
  EXPECT_EQ(v[0].subject, "slice machine");
  EXPECT_EQ(v[0].cpus.ToString(), "0-1");
}

TEST_F(CgroupCollectorTest, CountersNeverGoBackwards) {
  CgroupCollector c = Make();
  scrape_.Scrape(c);
  t_.Write("cpuacct/machine/cpuacct.usage", "4000000000\n");
  auto out = scrape_.Scrape(c);
  EXPECT_EQ(ByLabels(out, "hostiso_cgroup_cpu_seconds_total")["slice=machine,"],
            5.0);
  t_.Write("cpuacct/machine/cpuacct.usage", "6000000000\n");
  out = scrape_.Scrape(c);
  EXPECT_EQ(ByLabels(out, "hostiso_cgroup_cpu_seconds_total")["slice=machine,"],
            6.0);
}

TEST_F(CgroupCollectorTest, GarbledFileFailsOnlyThatSlice) {
  CgroupCollector c = Make();
  scrape_.Scrape(c);
  t_.Write("cpuacct/system.slice/cpuacct.usage", "garbage\n");
  bool ok = true;
  auto out = scrape_.Scrape(c, &ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(scrape_.last_error.find("system.slice/cpuacct.usage"),
            std::string::npos)
      << scrape_.last_error;
  auto info = ByLabels(out, "hostiso_cgroup_cpuset_info");
  EXPECT_EQ(info.count("slice=system.slice,cpus=0-7,"), 0U);
  EXPECT_EQ(info.count("slice=machine,cpus=2-7,"), 1U);
  // The host-slice detector did not evaluate: its subjects are kept (until
  // the kind's max age), not dropped and re-counted as new onsets later.
  EXPECT_EQ(
      scrape_.violations.Current(ViolationKind::kHostSliceOnGuestCpu).size(),
      2U);
  EXPECT_EQ(scrape_.violations.Onsets(ViolationKind::kHostSliceOnGuestCpu), 2U);
}

TEST_F(CgroupCollectorTest, NoCgroupFilesystemFails) {
  CgroupCollector c({t_.Path("missing"), {"system.slice"}});
  bool ok = true;
  auto out = scrape_.Scrape(c, &ok);
  EXPECT_FALSE(ok);
  EXPECT_TRUE(out.empty());
}

TEST_F(CgroupCollectorTest, SliceNamedTwiceIsOneSeries) {
  CgroupCollector c({t_.Root(), {"system.slice", "machine", "system.slice"}});
  auto out = scrape_.Scrape(c);
  EXPECT_EQ(ByLabels(out, "hostiso_cgroup_cpuset_info").size(), 2U);
}

TEST_F(CgroupCollectorTest, SliceRemovedBetweenScrapesReadsAsAbsent) {
  CgroupCollector c = Make();
  auto out = scrape_.Scrape(c);
  ASSERT_EQ(ByLabels(out, "hostiso_cgroup_cpuset_info")
                .count("slice=ovs.slice,cpus=0-2,"),
            1U);
  // Its files are read without a stat first: their absence must still mean
  // "no such slice", not its parent's cpuset.
  t_.Remove("cpuset/ovs.slice");
  t_.Remove("cpuacct/system.slice");
  bool ok = false;
  out = scrape_.Scrape(c, &ok);
  ASSERT_TRUE(ok) << scrape_.last_error;
  EXPECT_EQ(ByLabels(out, "hostiso_cgroup_cpuset_info"),
            (std::map<std::string, double>{{"slice=machine,cpus=2-7,", 1}}));
  EXPECT_EQ(ByLabels(out, "hostiso_cgroup_cpu_seconds_total"),
            (std::map<std::string, double>{{"slice=machine,", 5.0}}));
  EXPECT_TRUE(
      scrape_.violations.Current(ViolationKind::kHostSliceOnGuestCpu).empty());
}

TEST_F(CgroupCollectorTest, MachineSliceFollowedWhenItGoesAndComes) {
  CgroupCollector c = Make();
  auto out = scrape_.Scrape(c);
  EXPECT_EQ(ByLabels(out, "hostiso_cgroup_cpu_seconds_total")["slice=machine,"],
            5.0);
  t_.Remove("cpuset/machine");
  t_.Remove("cpuacct/machine");
  bool ok = false;
  out = scrape_.Scrape(c, &ok);
  ASSERT_TRUE(ok) << scrape_.last_error;
  EXPECT_EQ(ByLabels(out, "hostiso_cgroup_cpu_seconds_total"),
            (std::map<std::string, double>{{"slice=system.slice,", 1.5}}));
  // Under systemd, libvirt's slice is machine.slice.
  t_.Write("cpuset/machine.slice/cpuset.effective_cpus", "4-7\n");
  t_.Write("cpuacct/machine.slice/cpuacct.usage", "2000000000\n");
  out = scrape_.Scrape(c, &ok);
  ASSERT_TRUE(ok) << scrape_.last_error;
  EXPECT_EQ(ByLabels(out, "hostiso_cgroup_cpuset_info")
                .count("slice=machine.slice,cpus=4-7,"),
            1U);
  EXPECT_EQ(
      ByLabels(out, "hostiso_cgroup_cpu_seconds_total")["slice=machine.slice,"],
      2.0);
}

TEST_F(CgroupCollectorTest, HierarchyDetectedOnceAndAgainAfterAFailure) {
  CgroupCollector c = Make();
  scrape_.Scrape(c);
  scrape_.Scrape(c);
  EXPECT_EQ(c.Detections(), 1U);
  t_.Write("cpuacct/system.slice/cpuacct.usage", "garbage\n");
  bool ok = true;
  scrape_.Scrape(c, &ok);
  EXPECT_FALSE(ok);
  EXPECT_EQ(c.Detections(), 1U);
  t_.Write("cpuacct/system.slice/cpuacct.usage", "1\n");
  scrape_.Scrape(c, &ok);
  EXPECT_TRUE(ok) << scrape_.last_error;
  EXPECT_EQ(c.Detections(), 2U);
}

TEST_F(CgroupCollectorTest, FifoOrOverlongCpusetFailsThatSlice) {
  CgroupCollector c = Make();
  t_.Remove("cpuset/ovs.slice/cpuset.effective_cpus");
  // A FIFO reads as empty (an empty cpuset would parse): still an error.
  ASSERT_EQ(
      ::mkfifo(t_.Path("cpuset/ovs.slice/cpuset.effective_cpus").c_str(), 0600),
      0);
  bool ok = true;
  auto out = scrape_.Scrape(c, &ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(scrape_.last_error.find("ovs.slice/cpuset.effective_cpus: a FIFO"),
            std::string::npos)
      << scrape_.last_error;
  EXPECT_EQ(ByLabels(out, "hostiso_cgroup_cpuset_info").size(), 2U);
  // A long cpuset list (a many-CPU host) is read whole, past the stack
  // buffer.
  t_.Remove("cpuset/ovs.slice/cpuset.effective_cpus");
  std::string list;
  for (int cpu = 0; cpu < 4000; cpu += 2)
    list += (cpu == 0 ? "" : ",") + std::to_string(cpu);
  t_.Write("cpuset/ovs.slice/cpuset.effective_cpus", list + "\n");
  out = scrape_.Scrape(c, &ok);
  EXPECT_TRUE(ok) << scrape_.last_error;
  EXPECT_EQ(ByLabels(out, "hostiso_cgroup_cpuset_info").size(), 3U);
}

TEST_F(CgroupCollectorTest, UnmountedRootFailsAtTheNextScrape) {
  CgroupCollector c({t_.Root(), {"system.slice"}});
  bool ok = false;
  scrape_.Scrape(c, &ok);
  ASSERT_TRUE(ok) << scrape_.last_error;
  // Everything gone after the cached detection: not "no slices", an error.
  t_.Remove("cpuacct");
  t_.Remove("cpuset");
  scrape_.Scrape(c, &ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(scrape_.last_error.find("no cgroup hierarchy"), std::string::npos)
      << scrape_.last_error;
}

TEST(SliceCountersTest, AbsentSliceStartsAfresh) {
  detail::SliceCounters c;
  c.BeginRound();
  EXPECT_EQ(c.Observe("a", 10), 10);
  c.BeginRound();
  EXPECT_EQ(c.Observe("a", 5), 10);
  c.BeginRound();  // "a" absent this round
  c.BeginRound();
  EXPECT_EQ(c.Observe("a", 3), 3);
}

}  // namespace
}  // namespace hostiso
