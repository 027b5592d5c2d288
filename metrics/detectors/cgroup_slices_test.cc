#include "metrics/detectors/cgroup_slices.h"

#include <gtest/gtest.h>

namespace hostiso {
namespace {

CpuSet L(const char* s) { return *ParseCpuList(s); }

// Host 0-1, shared 2-3, dedicated 4-7.
CpuRoles NovaRoles() {
  NovaConfig n;
  n.cpu_dedicated_set = L("4-7");
  n.cpu_shared_set = L("2-3");
  return CpuRoles(GuestSetsFromConfig(n, std::nullopt), L("0-7"));
}

TEST(HostSliceOnGuestCpuTest, ConfinedHostSlicesAreClean) {
  EXPECT_TRUE(
      DetectHostSliceOnGuestCpu(NovaRoles(), {{"system.slice", L("0-1")},
                                              {"user.slice", L("0")},
                                              {"init.scope", L("0-1")}})
          .empty());
}

TEST(HostSliceOnGuestCpuTest, ReportsTheGuestCpusASliceCovers) {
  auto v = DetectHostSliceOnGuestCpu(NovaRoles(),
                                     {{"system.slice", L("0-7")},
                                      {"user.slice", L("0-1")},
                                      {"system.slice/ovs.service", L("1,3")}});
  ASSERT_EQ(v.size(), 2U);
  EXPECT_EQ(v[0].subject, "slice system.slice");
  EXPECT_EQ(v[0].cpus.ToString(), "2-7");
  EXPECT_EQ(v[1].subject, "slice system.slice/ovs.service");
  EXPECT_EQ(v[1].cpus.ToString(), "3");
}

TEST(HostSliceOnGuestCpuTest, NothingWithoutAGuestSet) {
  CpuRoles unconfigured(GuestSetsFromConfig(std::nullopt, std::nullopt),
                        L("0-7"));
  EXPECT_TRUE(
      DetectHostSliceOnGuestCpu(unconfigured, {{"system.slice", L("0-7")}})
          .empty());
}

TEST(HostSliceOnGuestCpuTest, LegacyGuestSetFromTheFlag) {
  CpuRoles roles(GuestSetsFromConfig(std::nullopt, L("1")), L("0-1"));
  auto v = DetectHostSliceOnGuestCpu(roles, {{"system.slice", L("0-1")}});
  ASSERT_EQ(v.size(), 1U);
  EXPECT_EQ(v[0].cpus.ToString(), "1");
}

TEST(MachineSliceOnHostCpuTest, GuestOnlyCpusetIsClean) {
  EXPECT_TRUE(
      DetectMachineSliceOnHostCpu(NovaRoles(), {"machine.slice", L("2-7")})
          .empty());
}

TEST(MachineSliceOnHostCpuTest, ReportsTheHostCpusItCovers) {
  auto v = DetectMachineSliceOnHostCpu(NovaRoles(), {"machine", L("0-7")});
  ASSERT_EQ(v.size(), 1U);
  EXPECT_EQ(v[0].subject, "slice machine");
  EXPECT_EQ(v[0].cpus.ToString(), "0-1");
}

TEST(MachineSliceOnHostCpuTest, NothingWithoutAGuestSet) {
  CpuRoles unconfigured(GuestSetsFromConfig(std::nullopt, std::nullopt),
                        L("0-7"));
  EXPECT_TRUE(
      DetectMachineSliceOnHostCpu(unconfigured, {"machine.slice", L("0-7")})
          .empty());
}

}  // namespace
}  // namespace hostiso
