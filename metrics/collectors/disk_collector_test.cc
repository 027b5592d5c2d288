#include "metrics/collectors/disk_collector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "metrics/testing/families.h"
#include "metrics/testing/scrape.h"
#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

using testing::ByLabels;

class DiskCollectorTest : public ::testing::Test {
 protected:
  DiskCollectorOptions Options() {
    DiskCollectorOptions o;
    o.env.rootfs = t_.Root();
    o.runner = [this](const std::vector<std::string>& argv,
                      std::chrono::milliseconds) {
      ++vgs_calls_;
      last_argv_ = argv;
      return Expected<std::string>(vgs_output_);
    };
    return o;
  }
  // Scrapes until `pred` holds (the VG arrives a moment after the filesystems).
  bool ScrapeUntil(DiskCollector& c, std::vector<prometheus::MetricFamily>& out,
                   const std::function<bool(bool)>& pred) {
    for (int i = 0; i < 100; ++i) {
      bool ok = false;
      out = scrape_.Scrape(c, &ok);
      if (pred(ok)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  testing::TempTree t_;
  testing::ScrapeFixture scrape_;
  ViolationRegistry& reg_ = scrape_.violations;
  std::atomic<int> vgs_calls_{0};
  std::vector<std::string> last_argv_;
  std::string vgs_output_ =
      R"({"report":[{"vg":[{"vg_name":"nova-vg","vg_size":"1073741824","vg_free":"536870912","pv_name":"/dev/null"}]}]})";
};

TEST_F(DiskCollectorTest, FileBackendOnTheRootFilesystem) {
  t_.MakeDir("var/lib/nova/instances");
  NovaConfig nova;
  nova.images_type = "qcow2";
  nova.reserved_host_disk_mb = 1;
  DiskCollector c(Options(),
                  [nova] { return std::optional<NovaConfig>(nova); });
  c.Start();
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(ScrapeUntil(c, out, [](bool ok) { return ok; }));
  auto size = ByLabels(out, "hostiso_disk_size_bytes");
  auto free = ByLabels(out, "hostiso_disk_free_bytes");
  EXPECT_GT(size["role=root,path=/,"], 0);
  EXPECT_GT(size["role=instances,path=/var/lib/nova/instances,"], 0);
  EXPECT_EQ(
      size.count("role=snapshots,path=/var/lib/nova/instances/snapshots,"), 0U);
  const double inst_free = free["role=instances,path=/var/lib/nova/instances,"];
  EXPECT_EQ(ByLabels(out, "hostiso_disk_reserved_bytes")[""], 1024.0 * 1024.0);
  // Free space moves with other processes' writes: compare loosely.
  EXPECT_NEAR(ByLabels(out, "hostiso_disk_reserve_headroom_bytes")[""],
              inst_free - 1048576.0, 64.0 * 1024 * 1024);
  auto layout = reg_.Current(ViolationKind::kDiskLayout);
  ASSERT_EQ(layout.size(), 1U);
  EXPECT_EQ(layout[0].subject, "instances_path /var/lib/nova/instances");
  EXPECT_TRUE(reg_.Current(ViolationKind::kDiskReserveBreach).empty());
  EXPECT_EQ(vgs_calls_.load(), 0);
  c.Stop(std::chrono::seconds(2));
}

TEST_F(DiskCollectorTest, MissingInstancesPathFailsButServesRoot) {
  NovaConfig nova;
  nova.instances_path = "/nope/instances";
  DiskCollector c(Options(),
                  [nova] { return std::optional<NovaConfig>(nova); });
  c.Start();
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(ScrapeUntil(c, out, [&](bool ok) {
    return !ok && !ByLabels(out, "hostiso_disk_size_bytes").empty();
  }));
  auto size = ByLabels(out, "hostiso_disk_size_bytes");
  EXPECT_EQ(size.size(), 1U);
  EXPECT_EQ(size.count("role=root,path=/,"), 1U);
  EXPECT_TRUE(ByLabels(out, "hostiso_disk_reserve_headroom_bytes").empty());
}

TEST_F(DiskCollectorTest, LvmVolumeGroupThroughVgs) {
  NovaConfig nova;
  nova.images_type = "lvm";
  nova.images_volume_group = "nova-vg";
  nova.reserved_host_disk_mb = 1024;
  DiskCollector c(Options(),
                  [nova] { return std::optional<NovaConfig>(nova); });
  c.Start();
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(ScrapeUntil(c, out, [&](bool) {
    return ByLabels(out, "hostiso_disk_size_bytes")
               .count("role=volume_group,path=nova-vg,") > 0;
  }));
  EXPECT_EQ(
      ByLabels(out,
               "hostiso_disk_size_bytes")["role=volume_group,path=nova-vg,"],
      1073741824.0);
  EXPECT_EQ(
      ByLabels(out,
               "hostiso_disk_free_bytes")["role=volume_group,path=nova-vg,"],
      536870912.0);
  EXPECT_EQ(ByLabels(out, "hostiso_disk_reserve_headroom_bytes")[""],
            536870912.0 - 1073741824.0);
  auto breach = reg_.Current(ViolationKind::kDiskReserveBreach);
  ASSERT_EQ(breach.size(), 1U);
  EXPECT_EQ(breach[0].subject, "images_volume_group nova-vg");
  ASSERT_FALSE(last_argv_.empty());
  EXPECT_EQ(last_argv_.back(), "nova-vg");
  // Scrapes in quick succession do not rerun vgs (30 s interval).
  const int calls = vgs_calls_.load();
  for (int i = 0; i < 5; ++i) scrape_.Scrape(c);
  EXPECT_EQ(vgs_calls_.load(), calls);
}

TEST_F(DiskCollectorTest, MissingVolumeGroupFailsTheCollector) {
  vgs_output_ = R"({"report":[{"vg":[]}]})";
  NovaConfig nova;
  nova.images_type = "lvm";
  nova.images_volume_group = "gone-vg";
  DiskCollector c(Options(),
                  [nova] { return std::optional<NovaConfig>(nova); });
  c.Start();
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(ScrapeUntil(
      c, out, [&](bool ok) { return !ok && vgs_calls_.load() > 0; }));
  EXPECT_EQ(ByLabels(out, "hostiso_disk_size_bytes").count("role=root,path=/,"),
            1U);
}

TEST_F(DiskCollectorTest, NoNovaRootOnly) {
  DiskCollector c(Options(), [] { return std::optional<NovaConfig>(); });
  c.Start();
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(ScrapeUntil(c, out, [](bool ok) { return ok; }));
  EXPECT_EQ(ByLabels(out, "hostiso_disk_size_bytes").size(), 1U);
  EXPECT_TRUE(ByLabels(out, "hostiso_disk_reserved_bytes").empty());
  EXPECT_TRUE(reg_.Current(ViolationKind::kDiskLayout).empty());
}

TEST_F(DiskCollectorTest, StopIsIdempotentAndBounded) {
  DiskCollector c(Options(), [] { return std::optional<NovaConfig>(); });
  c.Start();
  EXPECT_TRUE(c.Stop(std::chrono::seconds(2)));
  EXPECT_TRUE(c.Stop(std::chrono::seconds(2)));
}

TEST_F(DiskCollectorTest, ScrapesNeverWaitForTheMeasurement) {
  // Not started: no worker will ever measure, so a scrape that waited for a
  // measurement would never return. It answers, failing, with no series.
  DiskCollector c(Options(), [] { return std::optional<NovaConfig>(); });
  bool ok = true;
  EXPECT_TRUE(scrape_.Scrape(c, &ok).empty());
  EXPECT_FALSE(ok);
  EXPECT_NE(scrape_.last_error.find("no disk measurement yet"),
            std::string::npos);
  c.MeasureOnce();
  scrape_.Scrape(c, &ok);
  EXPECT_TRUE(ok) << scrape_.last_error;
}

}  // namespace
}  // namespace hostiso
