#include "metrics/detectors/isolcpus_mismatch.h"

#include <gtest/gtest.h>

#include "metrics/testing/cpu_list.h"

namespace hostiso {
namespace {

using testing::Cpus;

CpuRoles Roles(const char* dedicated, const char* shared, const char* present) {
  NovaConfig n;
  if (*dedicated) n.cpu_dedicated_set = Cpus(dedicated);
  if (*shared) n.cpu_shared_set = Cpus(shared);
  return CpuRoles(GuestSetsFromConfig(n, std::nullopt), Cpus(present));
}

TEST(IsolcpusMismatchTest, CleanWhenIsolationMatchesDedicated) {
  EXPECT_TRUE(DetectIsolcpusMismatch(Roles("4-7", "2-3", "0-7"), Cpus("4-7"),
                                     Cpus("0-7"))
                  .empty());
}

TEST(IsolcpusMismatchTest, HostAndSharedCpusIsolated) {
  auto v = DetectIsolcpusMismatch(Roles("4-7", "2-3", "0-7"), Cpus("1-7"),
                                  Cpus("0-7"));
  ASSERT_EQ(v.size(), 3U);
  EXPECT_EQ(v[0].subject, "cpu 1 (host)");
  EXPECT_EQ(v[1].subject, "cpu 2 (shared)");
  EXPECT_EQ(v[2].cpus.ToString(), "3");
}

TEST(IsolcpusMismatchTest, DedicatedSetWithoutAnyIsolation) {
  auto v =
      DetectIsolcpusMismatch(Roles("4-7", "", "0-7"), CpuSet(), Cpus("0-7"));
  ASSERT_EQ(v.size(), 1U);
  EXPECT_EQ(v[0].subject, "nova.conf cpu_dedicated_set");
  EXPECT_EQ(v[0].cpus.ToString(), "4-7");
}

TEST(IsolcpusMismatchTest, OfflineIsolatedCpusIgnored) {
  EXPECT_TRUE(DetectIsolcpusMismatch(Roles("4-7", "", "0-7"), Cpus("1,4-7"),
                                     Cpus("0,2-7"))
                  .empty());
}

}  // namespace
}  // namespace hostiso
