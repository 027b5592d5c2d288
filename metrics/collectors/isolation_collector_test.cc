#include "metrics/collectors/isolation_collector.h"

#include <gtest/gtest.h>

#include "metrics/testing/families.h"
#include "metrics/testing/scrape.h"
#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

using testing::ByLabels;

// The isolation snapshot of the tree (proc/, sys/, nova.conf) as the
// isolation worker loads it, in a scrape fixture.
void LoadSnapshot(const testing::TempTree& t, testing::ScrapeFixture& scrape) {
  IsolationOptions o;
  o.paths.procfs = t.Path("proc");
  o.paths.sysfs = t.Path("sys");
  o.nova_config = t.Path("nova.conf");
  IsolationSource src(o);
  scrape.isolation = *src.Reload();
}

TEST(IsolationCollectorTest, RolesFlagsAndMismatch) {
  testing::TempTree t;
  t.Write("proc/cmdline", "isolcpus=1,4-5 nohz_full=4-5\n");
  t.Write("sys/devices/system/cpu/present", "0-5\n");
  t.Write("sys/devices/system/cpu/online", "0-4\n");
  t.Write("sys/devices/system/cpu/isolated", "1,4-5\n");
  t.Write("sys/devices/system/cpu/nohz_full", "4-5\n");
  t.Write("nova.conf",
          "[compute]\ncpu_dedicated_set = 4-5\ncpu_shared_set = 2-3\n"
          "[libvirt]\nimages_type = rbd\n");
  testing::ScrapeFixture scrape;
  LoadSnapshot(t, scrape);
  IsolationCollector c;
  bool ok = false;
  const auto out = scrape.Scrape(c, &ok);
  ASSERT_TRUE(ok) << scrape.last_error;

  auto roles = ByLabels(out, "hostiso_cpu_role");
  EXPECT_EQ(roles.size(), 6U);
  EXPECT_EQ(roles.count("cpu=0,role=host,"), 1U);
  EXPECT_EQ(roles.count("cpu=3,role=shared,"), 1U);
  EXPECT_EQ(roles.count("cpu=5,role=dedicated,"), 1U);
  auto online = ByLabels(out, "hostiso_cpu_online");
  EXPECT_EQ(online["cpu=5,"], 0);
  EXPECT_EQ(online["cpu=4,"], 1);
  auto isolated = ByLabels(out, "hostiso_cpu_isolated");
  EXPECT_EQ(isolated.size(), 5U);  // online CPUs only
  EXPECT_EQ(isolated["cpu=1,"], 1);
  EXPECT_EQ(ByLabels(out, "hostiso_cpu_nohz_full")["cpu=4,"], 1);
  EXPECT_EQ(ByLabels(out, "hostiso_isolation_configured")[""], 1);
  auto info = ByLabels(out, "hostiso_config_info");
  ASSERT_EQ(info.size(), 1U);
  EXPECT_NE(
      info.begin()->first.find("cpu_dedicated_set=4-5,cpu_shared_set=2-3,"),
      std::string::npos)
      << info.begin()->first;
  EXPECT_NE(info.begin()->first.find("images_type=rbd"), std::string::npos);
  auto v = scrape.violations.Current(ViolationKind::kIsolcpusMismatch);
  ASSERT_EQ(v.size(), 1U);
  EXPECT_EQ(v[0].subject, "cpu 1 (host)");
}

TEST(IsolationCollectorTest, FailsWithoutSysfsButStillReportsConfig) {
  testing::TempTree t;
  testing::ScrapeFixture scrape;
  LoadSnapshot(t, scrape);
  IsolationCollector c;
  bool ok = true;
  const auto out = scrape.Scrape(c, &ok);
  EXPECT_FALSE(ok);
  EXPECT_EQ(ByLabels(out, "hostiso_isolation_configured")[""], 0);
  EXPECT_TRUE(ByLabels(out, "hostiso_cpu_role").empty());
}

}  // namespace
}  // namespace hostiso
