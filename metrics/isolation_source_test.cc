#include "metrics/isolation_source.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

class IsolationSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Write("proc/cmdline", "ro isolcpus=managed_irq,domain,2-3\n");
    tree_.Write("sys/devices/system/cpu/present", "0-3\n");
    tree_.Write("sys/devices/system/cpu/online", "0-3\n");
    tree_.Write("sys/devices/system/cpu/isolated", "2-3\n");
    options_.paths.procfs = tree_.Path("proc");
    options_.paths.sysfs = tree_.Path("sys");
    options_.nova_config = tree_.Path("nova.conf");
  }
  // Writes nova.conf and moves its mtime so a same-second rewrite is seen.
  void WriteNova(const std::string& text) {
    tree_.Write("nova.conf", text);
    static int bump = 0;
    struct timeval times[2] = {{1000 + ++bump, 0}, {1000 + bump, 0}};
    ::utimes(tree_.Path("nova.conf").c_str(), times);
  }
  testing::TempTree tree_;
  IsolationOptions options_;
};

TEST_F(IsolationSourceTest, AbsentDefaultNovaConfIsNormal) {
  IsolationSource src(options_);
  auto snap = src.Reload();
  EXPECT_FALSE(snap->nova_present);
  EXPECT_TRUE(snap->nova_load_success);
  EXPECT_FALSE(snap->roles.IsolationConfigured());
  EXPECT_TRUE(snap->cmdline_ok);
  EXPECT_EQ(snap->cmdline.isolcpus.ToString(), "2-3");
  EXPECT_TRUE(snap->topology_ok);
}

TEST_F(IsolationSourceTest, ExplicitMissingNovaConfIsAnError) {
  options_.nova_config_explicit = true;
  IsolationSource src(options_);
  auto snap = src.Reload();
  EXPECT_FALSE(snap->nova_load_success);
  EXPECT_NE(snap->nova_error.find("file not found"), std::string::npos);
}

TEST_F(IsolationSourceTest, ReloadsOnChangeAndKeepsLastGoodOnError) {
  WriteNova("[compute]\ncpu_dedicated_set = 2-3\n");
  IsolationSource src(options_);
  auto s1 = src.Reload();
  ASSERT_TRUE(s1->nova_load_success) << s1->nova_error;
  EXPECT_EQ(s1->roles.DedicatedCpus().ToString(), "2-3");
  EXPECT_EQ(s1->roles.HostCpus().ToString(), "0-1");

  WriteNova("[compute]\ncpu_dedicated_set = 3-2\n");
  auto s2 = src.Reload();
  EXPECT_FALSE(s2->nova_load_success);
  EXPECT_NE(s2->nova_error.find("nova.conf:2:"), std::string::npos)
      << s2->nova_error;
  EXPECT_EQ(s2->roles.DedicatedCpus().ToString(), "2-3");  // last good kept
  EXPECT_EQ(s2->roles_generation, s1->roles_generation);

  WriteNova("[compute]\ncpu_dedicated_set = 3\ncpu_shared_set = 2\n");
  auto s3 = src.Reload();
  EXPECT_TRUE(s3->nova_load_success);
  EXPECT_EQ(s3->roles.DedicatedCpus().ToString(), "3");
  EXPECT_EQ(s3->roles.SharedCpus().ToString(), "2");
  EXPECT_GT(s3->roles_generation, s2->roles_generation);
  EXPECT_EQ(src.Current(), s3);
}

TEST_F(IsolationSourceTest, BrokenSysfsAndCmdlineAreReportedNotFatal) {
  tree_.Write("sys/devices/system/cpu/online", "\n");  // empty: malformed
  tree_.Write("proc/cmdline", "isolcpus=9-1\n");
  IsolationSource src(options_);
  auto snap = src.Reload();
  EXPECT_FALSE(snap->topology_ok);
  EXPECT_NE(snap->topology_error.find("online: empty CPU list"),
            std::string::npos)
      << snap->topology_error;
  EXPECT_FALSE(snap->cmdline_ok);
  EXPECT_NE(snap->cmdline_error.find("isolcpus"), std::string::npos);
}

TEST_F(IsolationSourceTest, IsolationFallsBackToTheCommandLineOnlyWhenAbsent) {
  tree_.Remove("sys/devices/system/cpu/isolated");
  IsolationSource src(options_);
  auto snap = src.Reload();
  ASSERT_TRUE(snap->topology_ok) << snap->topology_error;
  EXPECT_EQ(snap->topology.isolated.ToString(), "2-3");
  EXPECT_EQ(snap->topology.isolated_source, kSourceCmdline);
  // Present but unreadable as a list: an error, not "nothing isolated".
  tree_.Write("sys/devices/system/cpu/isolated", "abc\n");
  snap = src.RefreshKernelState();
  EXPECT_FALSE(snap->topology_ok);
  EXPECT_NE(snap->topology_error.find("isolated"), std::string::npos);
  // The last good CPU list still gives the roles.
  EXPECT_EQ(snap->topology.present.ToString(), "0-3");
  // Neither sysfs nor a readable command line: unknown, an error.
  tree_.Remove("sys/devices/system/cpu/isolated");
  tree_.Write("proc/cmdline", "isolcpus=9-1\n");
  snap = src.RefreshKernelState();
  EXPECT_FALSE(snap->topology_ok);
  EXPECT_NE(snap->topology_error.find("kernel isolation unknown"),
            std::string::npos);
}

TEST_F(IsolationSourceTest, CpusFromProcStatWithoutPresentAndOnline) {
  tree_.Remove("sys/devices/system/cpu/present");
  tree_.Remove("sys/devices/system/cpu/online");
  tree_.Write("proc/stat", "cpu  1 1 1 1\ncpu0 1 1 1 1\ncpu2 1 1 1 1\n");
  IsolationSource src(options_);
  auto snap = src.Reload();
  ASSERT_TRUE(snap->topology_ok) << snap->topology_error;
  EXPECT_EQ(snap->topology.present.ToString(), "0,2");
  EXPECT_EQ(snap->topology.cpus_source, kSourceProcStat);
  // The ticks it read travel with the snapshot: the CPU collector of the same
  // scrape serves them rather than reading /proc/stat again.
  ASSERT_TRUE(snap->proc_stat);
  ASSERT_TRUE(*snap->proc_stat) << snap->proc_stat->error();
  EXPECT_EQ((*snap->proc_stat)->size(), 2U);
  // One of the two alone stands for both.
  tree_.Write("sys/devices/system/cpu/present", "0-3\n");
  snap = src.RefreshKernelState();
  EXPECT_EQ(snap->topology.online.ToString(), "0-3");
  EXPECT_EQ(snap->topology.cpus_source, kSourceSysfs);
  EXPECT_FALSE(snap->proc_stat);  // not read at all then
}

TEST_F(IsolationSourceTest, ScrapesNeverReadNovaConf) {
  WriteNova("[compute]\ncpu_dedicated_set = 2-3\n");
  IsolationSource src(options_);
  ASSERT_TRUE(src.Reload()->roles.IsolationConfigured());
  // An edit is seen by the next Reload (the isolation worker), not by the
  // scrape path.
  WriteNova("[compute]\ncpu_dedicated_set = 1-3\n");
  EXPECT_EQ(src.RefreshKernelState()->roles.DedicatedCpus().ToString(), "2-3");
  EXPECT_EQ(src.Reload()->roles.DedicatedCpus().ToString(), "1-3");
  // Replaced by a FIFO: an error, the last good configuration kept.
  tree_.Remove("nova.conf");
  ASSERT_EQ(::mkfifo(tree_.Path("nova.conf").c_str(), 0600), 0);
  auto snap = src.Reload();
  EXPECT_FALSE(snap->nova_load_success);
  EXPECT_NE(snap->nova_error.find("FIFO"), std::string::npos);
  EXPECT_EQ(snap->roles.DedicatedCpus().ToString(), "1-3");
}

}  // namespace
}  // namespace hostiso
