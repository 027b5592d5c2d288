#include "metrics/cpu_roles.h"

#include <gtest/gtest.h>

#include "metrics/testing/cpu_list.h"

namespace hostiso {
namespace {

using testing::Cpus;

TEST(CpuRolesTest, NoGuestSetMeansEveryCpuShared) {
  CpuRoles r(GuestSetsFromConfig(std::nullopt, std::nullopt), Cpus("0-3"));
  EXPECT_FALSE(r.IsolationConfigured());
  for (int c = 0; c < 4; ++c) EXPECT_EQ(r.RoleOf(c), CpuRole::kShared);
  EXPECT_TRUE(r.HostCpus().Empty());
}

TEST(CpuRolesTest, DedicatedAndShared) {
  NovaConfig n;
  n.cpu_dedicated_set = Cpus("4-7");
  n.cpu_shared_set = Cpus("2-3");
  CpuRoles r(GuestSetsFromConfig(n, std::nullopt), Cpus("0-7"));
  EXPECT_TRUE(r.IsolationConfigured());
  EXPECT_EQ(r.HostCpus().ToString(), "0-1");
  EXPECT_EQ(r.DedicatedCpus().ToString(), "4-7");
  EXPECT_EQ(r.SharedCpus().ToString(), "2-3");
  EXPECT_EQ(r.GuestCpus().ToString(), "2-7");
  EXPECT_EQ(CpuRoleName(r.RoleOf(5)), "dedicated");
}

TEST(CpuRolesTest, LegacyVcpuPinSetIsGuestRole) {
  NovaConfig n;
  n.vcpu_pin_set = Cpus("2-5");
  CpuRoles r(GuestSetsFromConfig(n, std::nullopt), Cpus("0-5"));
  EXPECT_EQ(r.RoleOf(3), CpuRole::kGuest);
  EXPECT_EQ(r.RoleOf(1), CpuRole::kHost);
  // Legacy hosts: cpu_shared_set outside vcpu_pin_set is for emulator threads.
  n.cpu_shared_set = Cpus("1");
  CpuRoles r2(GuestSetsFromConfig(n, std::nullopt), Cpus("0-5"));
  EXPECT_EQ(r2.RoleOf(1), CpuRole::kShared);
  EXPECT_EQ(r2.RoleOf(0), CpuRole::kHost);
}

TEST(CpuRolesTest, FlagOverridesNova) {
  NovaConfig n;
  n.cpu_dedicated_set = Cpus("2-3");
  GuestCpuSets sets = GuestSetsFromConfig(n, Cpus("1"));
  EXPECT_EQ(sets.source, GuestSetSource::kFlag);
  CpuRoles r(sets, Cpus("0-3"));
  EXPECT_EQ(r.RoleOf(1), CpuRole::kGuest);
  EXPECT_EQ(r.RoleOf(2), CpuRole::kHost);
}

TEST(CpuRolesTest, GuestCpusOutsidePresentAreIgnored) {
  NovaConfig n;
  n.cpu_dedicated_set = Cpus("2-63");
  CpuRoles r(GuestSetsFromConfig(n, std::nullopt), Cpus("0-3"));
  EXPECT_EQ(r.DedicatedCpus().ToString(), "2-3");
  EXPECT_EQ(r.RoleOf(40), CpuRole::kHost);  // not present: default
}

}  // namespace
}  // namespace hostiso
