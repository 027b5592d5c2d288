#include "metrics/cgroupfs/cgroup_reader.h"

#include <gtest/gtest.h>

#include "metrics/testing/cpu_list.h"
#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

using testing::Cpus;

// A v1 hybrid host as Debian 12 mounts it without systemd-managed cpusets:
// cpuset/ and cpuacct/ hierarchies, libvirt's `machine` in both, systemd's
// slices only in cpuacct (systemd does not manage v1 cpusets).
class CgroupV1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.Write("cpuset/cpuset.effective_cpus", "0-7\n");
    t_.Write("cpuset/cpuset.cpus", "0-7\n");
    t_.Write("cpuset/machine/cpuset.effective_cpus", "2-7\n");
    t_.Write("cpuset/machine/cpuset.cpus", "2-7\n");
    t_.Write("cpuacct/cpuacct.usage", "999000000000\n");
    t_.Write("cpuacct/machine/cpuacct.usage", "5000000000\n");
    t_.Write("cpuacct/system.slice/cpuacct.usage", "1500000000\n");
    t_.MakeDir("unified");
    t_.Write("unified/cgroup.controllers", "\n");
  }
  testing::TempTree t_;
};

TEST_F(CgroupV1Test, DetectsV1Hierarchies) {
  auto h = DetectCgroupHierarchy(t_.Root());
  ASSERT_TRUE(h) << h.error();
  EXPECT_EQ(h->layout, CgroupLayout::kV1);
  EXPECT_EQ(h->cpuset_root, t_.Path("cpuset"));
  EXPECT_EQ(h->cpuacct_root, t_.Path("cpuacct"));
  EXPECT_EQ(FindMachineSlice(*h), "machine");
}

TEST_F(CgroupV1Test, MachineSliceFromBothHierarchies) {
  auto h = DetectCgroupHierarchy(t_.Root());
  auto r = ReadSlice(*h, "machine", Cpus("0-7"));
  ASSERT_TRUE(r) << r.error();
  ASSERT_TRUE(*r);
  EXPECT_EQ((*r)->cpuset.ToString(), "2-7");
  EXPECT_DOUBLE_EQ((*r)->cpu_seconds.value(), 5.0);
}

TEST_F(CgroupV1Test, SliceOnlyInCpuacctRunsOnTheRootCpuset) {
  auto h = DetectCgroupHierarchy(t_.Root());
  auto r = ReadSlice(*h, "system.slice", Cpus("0-7"));
  ASSERT_TRUE(r) << r.error();
  ASSERT_TRUE(*r);
  EXPECT_EQ((*r)->cpuset.ToString(), "0-7");
  EXPECT_DOUBLE_EQ((*r)->cpu_seconds.value(), 1.5);
}

TEST_F(CgroupV1Test, OneScrapeReadsAnAncestorsCpusetOnce) {
  t_.Write("cpuacct/user.slice/cpuacct.usage", "1\n");
  auto h = DetectCgroupHierarchy(t_.Root());
  CpusetCache cache;
  auto a = ReadSlice(*h, "system.slice", Cpus("0-7"), &cache);
  ASSERT_TRUE(a) << a.error();
  // The root's file changes: the same scrape still sees what it read.
  t_.Write("cpuset/cpuset.effective_cpus", "0-3\n");
  auto b = ReadSlice(*h, "user.slice", Cpus("0-7"), &cache);
  ASSERT_TRUE(b) << b.error();
  EXPECT_EQ((*a)->cpuset.ToString(), "0-7");
  EXPECT_EQ((*b)->cpuset.ToString(), "0-7");
  // The next scrape (a new cache) reads it again.
  CpusetCache next;
  auto c = ReadSlice(*h, "user.slice", Cpus("0-7"), &next);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ((*c)->cpuset.ToString(), "0-3");
}

TEST_F(CgroupV1Test, SliceOnlyInCpusetHasNoCpuTime) {
  t_.Write("cpuset/test.slice/cpuset.effective_cpus", "1\n");
  auto h = DetectCgroupHierarchy(t_.Root());
  auto r = ReadSlice(*h, "test.slice", Cpus("0-7"));
  ASSERT_TRUE(r) << r.error();
  ASSERT_TRUE(*r);
  EXPECT_EQ((*r)->cpuset.ToString(), "1");
  EXPECT_FALSE((*r)->cpu_seconds);
}

TEST_F(CgroupV1Test, HybridUnifiedHierarchyWhenNotInCpuacct) {
  // As on this Debian 12 machine: libvirt leaves the guests out of a cpuacct
  // hierarchy not co-mounted with cpu, but they are in the unified one.
  t_.Remove("cpuacct/machine/cpuacct.usage");
  t_.Remove("cpuacct/machine");
  t_.Write("unified/machine/cpu.stat", "usage_usec 722062315\nuser_usec 1\n");
  auto h = DetectCgroupHierarchy(t_.Root());
  ASSERT_TRUE(h) << h.error();
  EXPECT_EQ(h->unified_root, t_.Path("unified"));
  auto r = ReadSlice(*h, "machine", Cpus("0-7"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ((*r)->cpuset.ToString(), "2-7");
  EXPECT_DOUBLE_EQ((*r)->cpu_seconds.value(), 722.062315);
  // A slice only the unified hierarchy has still exists (root cpuset).
  t_.Write("unified/init.scope/cpu.stat", "usage_usec 5000000\n");
  r = ReadSlice(*h, "init.scope", Cpus("0-7"));
  ASSERT_TRUE(r) << r.error();
  ASSERT_TRUE(*r);
  EXPECT_EQ((*r)->cpuset.ToString(), "0-7");
  EXPECT_DOUBLE_EQ((*r)->cpu_seconds.value(), 5.0);
}

TEST_F(CgroupV1Test, OldKernelWithoutEffectiveCpus) {
  t_.Write("cpuset/old.slice/cpuset.cpus", "3\n");
  auto h = DetectCgroupHierarchy(t_.Root());
  auto r = ReadSlice(*h, "old.slice", Cpus("0-7"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ((*r)->cpuset.ToString(), "3");
}

TEST_F(CgroupV1Test, AbsentSliceIsNotAnError) {
  auto h = DetectCgroupHierarchy(t_.Root());
  auto r = ReadSlice(*h, "user.slice", Cpus("0-7"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_FALSE(*r);
}

TEST_F(CgroupV1Test, GarbledFilesAreErrorsNamingThem) {
  t_.Write("cpuacct/machine/cpuacct.usage", "lots\n");
  auto h = DetectCgroupHierarchy(t_.Root());
  auto r = ReadSlice(*h, "machine", Cpus("0-7"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("machine/cpuacct.usage"), std::string::npos)
      << r.error();
  t_.Write("cpuacct/machine/cpuacct.usage", "1\n");
  t_.Write("cpuset/machine/cpuset.effective_cpus", "7-2\n");
  r = ReadSlice(*h, "machine", Cpus("0-7"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("machine/cpuset.effective_cpus"), std::string::npos)
      << r.error();
}

TEST_F(CgroupV1Test, CoMountedCpuAndCpuacct) {
  testing::TempTree t;
  t.Write("cpu,cpuacct/system.slice/cpuacct.usage", "2000000000\n");
  auto h = DetectCgroupHierarchy(t.Root());
  ASSERT_TRUE(h) << h.error();
  EXPECT_EQ(h->cpuacct_root, t.Path("cpu,cpuacct"));
  EXPECT_TRUE(h->cpuset_root.empty());
  // No cpuset hierarchy: every online CPU.
  auto r = ReadSlice(*h, "system.slice", Cpus("0-3"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ((*r)->cpuset.ToString(), "0-3");
  EXPECT_DOUBLE_EQ((*r)->cpu_seconds.value(), 2.0);
}

// cgroup2 as systemd mounts it: the cpuset controller enabled for
// system.slice (AllowedCPUs=) but not for user.slice.
class CgroupV2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.Write("cgroup.controllers", "cpuset cpu io memory pids\n");
    t_.Write("cpuset.cpus.effective", "0-7\n");
    t_.Write("cpu.stat", "usage_usec 1\n");
    t_.Write("system.slice/cpuset.cpus.effective", "0-2\n");
    t_.Write("system.slice/cpu.stat",
             "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
    t_.Write("user.slice/cpu.stat", "usage_usec 750000\n");
    t_.Write("machine.slice/cpuset.cpus.effective", "2-7\n");
    t_.Write("machine.slice/cpu.stat", "usage_usec 9000000\n");
  }
  testing::TempTree t_;
};

TEST_F(CgroupV2Test, DetectsV2) {
  auto h = DetectCgroupHierarchy(t_.Root());
  ASSERT_TRUE(h) << h.error();
  EXPECT_EQ(h->layout, CgroupLayout::kV2);
  EXPECT_EQ(FindMachineSlice(*h), "machine.slice");
}

TEST_F(CgroupV2Test, OwnCpusetAndUsage) {
  auto h = DetectCgroupHierarchy(t_.Root());
  auto r = ReadSlice(*h, "system.slice", Cpus("0-7"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ((*r)->cpuset.ToString(), "0-2");
  EXPECT_DOUBLE_EQ((*r)->cpu_seconds.value(), 2.5);
}

TEST_F(CgroupV2Test, WithoutCpusetControllerInheritsFromTheParent) {
  auto h = DetectCgroupHierarchy(t_.Root());
  auto r = ReadSlice(*h, "user.slice", Cpus("0-7"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ((*r)->cpuset.ToString(), "0-7");
  EXPECT_DOUBLE_EQ((*r)->cpu_seconds.value(), 0.75);
  t_.Write("system.slice/ovs.service/cpu.stat", "usage_usec 1\n");
  r = ReadSlice(*h, "system.slice/ovs.service", Cpus("0-7"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ((*r)->cpuset.ToString(), "0-2");
}

TEST_F(CgroupV2Test, NoCpusetControllerAtAllMeansEveryOnlineCpu) {
  t_.Remove("cpuset.cpus.effective");
  auto h = DetectCgroupHierarchy(t_.Root());
  auto r = ReadSlice(*h, "user.slice", Cpus("0-5"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ((*r)->cpuset.ToString(), "0-5");
}

TEST_F(CgroupV2Test, GarbledCpuStat) {
  t_.Write("system.slice/cpu.stat", "user_usec 5\n");
  auto h = DetectCgroupHierarchy(t_.Root());
  auto r = ReadSlice(*h, "system.slice", Cpus("0-7"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("system.slice/cpu.stat: no usage_usec"),
            std::string::npos)
      << r.error();
}

TEST(CgroupHierarchyTest, NoCgroupsAtTheRootIsAnError) {
  testing::TempTree t;
  EXPECT_FALSE(DetectCgroupHierarchy(t.Root()));
  EXPECT_FALSE(DetectCgroupHierarchy(t.Path("missing")));
}

}  // namespace
}  // namespace hostiso
