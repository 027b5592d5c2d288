#include "metrics/detectors/cgroup_slices.h"

#include <gtest/gtest.h>

#include "metrics/testing/cpu_list.h"

namespace hostiso {
namespace {

using testing::Cpus;

// Host 0-1, shared 2-3, dedicated 4-7.
CpuRoles NovaRoles() {
  NovaConfig n;
  n.cpu_dedicated_set = Cpus("4-7");
  n.cpu_shared_set = Cpus("2-3");
  return CpuRoles(GuestSetsFromConfig(n, std::nullopt), Cpus("0-7"));
}

TEST(HostSliceOnGuestCpuTest, ConfinedHostSlicesAreClean) {
  EXPECT_TRUE(
      DetectHostSliceOnGuestCpu(NovaRoles(), {{"system.slice", Cpus("0-1")},
                                              {"user.slice", Cpus("0")},
                                              {"init.scope", Cpus("0-1")}})
          .empty());
}

TEST(HostSliceOnGuestCpuTest, ReportsTheGuestCpusASliceCovers) {
  auto v = DetectHostSliceOnGuestCpu(
      NovaRoles(), {{"system.slice", Cpus("0-7")},
                    {"user.slice", Cpus("0-1")},
                    {"system.slice/ovs.service", Cpus("1,3")}});
  ASSERT_EQ(v.size(), 2U);
  EXPECT_EQ(v[0].subject, "slice system.slice");
  EXPECT_EQ(v[0].cpus.ToString(), "2-7");
  EXPECT_EQ(v[1].subject, "slice system.slice/ovs.service");
  EXPECT_EQ(v[1].cpus.ToString(), "3");
}

TEST(HostSliceOnGuestCpuTest, NothingWithoutAGuestSet) {
  CpuRoles unconfigured(GuestSetsFromConfig(std::nullopt, std::nullopt),
                        Cpus("0-7"));
  EXPECT_TRUE(
      DetectHostSliceOnGuestCpu(unconfigured, {{"system.slice", Cpus("0-7")}})
          .empty());
}

TEST(HostSliceOnGuestCpuTest, LegacyGuestSetFromTheFlag) {
  CpuRoles roles(GuestSetsFromConfig(std::nullopt, Cpus("1")), Cpus("0-1"));
  auto v = DetectHostSliceOnGuestCpu(roles, {{"system.slice", Cpus("0-1")}});
  ASSERT_EQ(v.size(), 1U);
  EXPECT_EQ(v[0].cpus.ToString(), "1");
}

TEST(MachineSliceOnHostCpuTest, GuestOnlyCpusetIsClean) {
  EXPECT_TRUE(
      DetectMachineSliceOnHostCpu(NovaRoles(), {"machine.slice", Cpus("2-7")})
          .empty());
}

TEST(MachineSliceOnHostCpuTest, ReportsTheHostCpusItCovers) {
  auto v = DetectMachineSliceOnHostCpu(NovaRoles(), {"machine", Cpus("0-7")});
  ASSERT_EQ(v.size(), 1U);
  EXPECT_EQ(v[0].subject, "slice machine");
  EXPECT_EQ(v[0].cpus.ToString(), "0-1");
}

TEST(MachineSliceOnHostCpuTest, NothingWithoutAGuestSet) {
  CpuRoles unconfigured(GuestSetsFromConfig(std::nullopt, std::nullopt),
                        Cpus("0-7"));
  EXPECT_TRUE(
      DetectMachineSliceOnHostCpu(unconfigured, {"machine.slice", Cpus("0-7")})
          .empty());
}

}  // namespace
}  // namespace hostiso
