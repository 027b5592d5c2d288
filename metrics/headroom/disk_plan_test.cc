#include "metrics/headroom/disk_plan.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

constexpr std::uint64_t kMiB = 1024ULL * 1024;
constexpr std::uint64_t kGiB = 1024 * kMiB;

NovaConfig Nova(const std::string& images_type) {
  NovaConfig n;
  n.images_type = images_type;
  n.reserved_host_disk_mb = 2048;
  n.instances_path = "/var/lib/nova/instances";
  n.snapshots_directory = "/var/lib/nova/snapshots";
  n.images_volume_group = "nova-vg";
  return n;
}

std::vector<std::string> Roles(const DiskPlan& p) {
  std::vector<std::string> r;
  for (const auto& t : p.filesystems)
    r.push_back(std::string(DiskRoleName(t.role)) + " " + t.path);
  return r;
}

TEST(DiskPlanTest, BackendsOfImagesType) {
  for (const char* t : {"default", "qcow2", "raw", "flat", "ploop"}) {
    EXPECT_EQ(BackendOf(t), StorageBackend::kFile) << t;
  }
  EXPECT_EQ(BackendOf("lvm"), StorageBackend::kLvm);
  EXPECT_EQ(BackendOf("rbd"), StorageBackend::kRbd);
}

TEST(DiskPlanTest, NoNovaMeasuresRootOnly) {
  DiskPlan p = PlanDisk(std::nullopt);
  EXPECT_EQ(p.backend, StorageBackend::kNoNova);
  EXPECT_EQ(Roles(p), (std::vector<std::string>{"root /"}));
  EXPECT_FALSE(p.reserved_bytes);
}

TEST(DiskPlanTest, FileBackends) {
  for (const char* type : {"default", "qcow2", "raw", "flat", "ploop"}) {
    DiskPlan p = PlanDisk(Nova(type));
    EXPECT_EQ(p.backend, StorageBackend::kFile);
    EXPECT_EQ(Roles(p), (std::vector<std::string>{
                            "root /", "instances /var/lib/nova/instances",
                            "snapshots /var/lib/nova/snapshots"}));
    EXPECT_EQ(*p.reserved_bytes, 2048 * kMiB);
    EXPECT_TRUE(p.filesystems[1].check_layout);
    EXPECT_TRUE(p.filesystems[1].reserve_target);
    EXPECT_EQ(p.filesystems[1].presence, Presence::kRequired);
    EXPECT_EQ(p.filesystems[1].subject,
              "instances_path /var/lib/nova/instances");
    EXPECT_EQ(p.filesystems[2].presence, Presence::kIfExists);
    EXPECT_FALSE(p.filesystems[2].check_layout);
    EXPECT_TRUE(p.volume_group.empty());
  }
}

TEST(DiskPlanTest, Lvm) {
  DiskPlan p = PlanDisk(Nova("lvm"));
  EXPECT_EQ(p.backend, StorageBackend::kLvm);
  EXPECT_EQ(p.volume_group, "nova-vg");
  EXPECT_EQ(Roles(p), (std::vector<std::string>{
                          "root /", "snapshots /var/lib/nova/snapshots",
                          "instances /var/lib/nova/instances"}));
  EXPECT_TRUE(p.filesystems[1].check_layout);
  EXPECT_EQ(p.filesystems[1].presence, Presence::kNearestExisting);
  EXPECT_FALSE(p.filesystems[2].check_layout);
  EXPECT_FALSE(p.filesystems[2].reserve_target);
}

TEST(DiskPlanTest, Rbd) {
  DiskPlan p = PlanDisk(Nova("rbd"));
  EXPECT_EQ(p.backend, StorageBackend::kRbd);
  EXPECT_EQ(Roles(p), (std::vector<std::string>{
                          "root /", "instances /var/lib/nova/instances"}));
  for (const auto& t : p.filesystems) {
    EXPECT_FALSE(t.check_layout);
    EXPECT_FALSE(t.reserve_target);
  }
}

FsMeasurement Fs(std::uint64_t size, std::uint64_t free, DevNum dev,
                 std::set<DevNum> disks) {
  FilesystemUsage usage;
  usage.size_bytes = size;
  usage.free_bytes = free;
  usage.identity = StorageIdentity{dev, std::move(disks), ""};
  return FsMeasurement(std::optional<FilesystemUsage>(std::move(usage)));
}
FsMeasurement Skipped() {
  return FsMeasurement(std::optional<FilesystemUsage>());
}

const DevNum kRootDev{8, 1}, kSda{8, 0}, kSdb{8, 16}, kInstDev{8, 17};

TEST(EvaluateDiskTest, FileOwnDiskHasHeadroomAndNoViolation) {
  DiskPlan p = PlanDisk(Nova("qcow2"));
  DiskMeasurements m;
  m.filesystems = {Fs(100 * kGiB, 50 * kGiB, kRootDev, {kSda}),
                   Fs(500 * kGiB, 300 * kGiB, kInstDev, {kSdb}), Skipped()};
  DiskReport r = EvaluateDisk(p, m);
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.series.size(), 2U);
  EXPECT_EQ(r.series[1].role, DiskRole::kInstances);
  EXPECT_EQ(r.series[1].path, "/var/lib/nova/instances");
  EXPECT_EQ(*r.reserved_bytes, 2048.0 * kMiB);
  EXPECT_EQ(*r.headroom_bytes, 300.0 * kGiB - 2048.0 * kMiB);
  EXPECT_TRUE(r.reserve_breaches.empty());
  EXPECT_TRUE(r.layout_violations.empty());
}

TEST(EvaluateDiskTest, FileOnRootFilesystemIsALayoutViolation) {
  DiskPlan p = PlanDisk(Nova("default"));
  DiskMeasurements m;
  m.filesystems = {Fs(100 * kGiB, 50 * kGiB, kRootDev, {kSda}),
                   Fs(100 * kGiB, 50 * kGiB, kRootDev, {kSda}), Skipped()};
  DiskReport r = EvaluateDisk(p, m);
  ASSERT_EQ(r.layout_violations.size(), 1U);
  EXPECT_EQ(r.layout_violations[0].subject,
            "instances_path /var/lib/nova/instances");
}

TEST(EvaluateDiskTest, FileOnAnotherPartitionOfTheRootDiskIsALayoutViolation) {
  DiskPlan p = PlanDisk(Nova("raw"));
  DiskMeasurements m;
  m.filesystems = {Fs(100 * kGiB, 50 * kGiB, kRootDev, {kSda}),
                   Fs(100 * kGiB, 50 * kGiB, DevNum{8, 2}, {kSda}), Skipped()};
  EXPECT_EQ(EvaluateDisk(p, m).layout_violations.size(), 1U);
}

TEST(EvaluateDiskTest, NearlyFullIsABreach) {
  DiskPlan p = PlanDisk(Nova("qcow2"));
  DiskMeasurements m;
  m.filesystems = {Fs(100 * kGiB, 50 * kGiB, kRootDev, {kSda}),
                   Fs(10 * kGiB, 1 * kGiB, kInstDev, {kSdb}), Skipped()};
  DiskReport r = EvaluateDisk(p, m);
  ASSERT_EQ(r.reserve_breaches.size(), 1U);
  EXPECT_EQ(r.reserve_breaches[0].subject,
            "instances_path /var/lib/nova/instances");
  EXPECT_EQ(*r.headroom_bytes, -1.0 * kGiB);
}

TEST(EvaluateDiskTest, MissingInstancesPathIsAnErrorButRootIsServed) {
  DiskPlan p = PlanDisk(Nova("qcow2"));
  DiskMeasurements m;
  FsMeasurement missing =
      Error("/var/lib/nova/instances: No such file or directory");
  m.filesystems = {Fs(100 * kGiB, 50 * kGiB, kRootDev, {kSda}), missing,
                   Skipped()};
  DiskReport r = EvaluateDisk(p, m);
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_NE(r.errors[0].find("instances /var/lib/nova/instances"),
            std::string::npos);
  ASSERT_EQ(r.series.size(), 1U);
  EXPECT_EQ(r.series[0].role, DiskRole::kRoot);
  EXPECT_FALSE(r.headroom_bytes);
  EXPECT_TRUE(r.layout_violations.empty());
}

VgMeasurement Vg(std::uint64_t size, std::uint64_t free,
                 std::vector<StorageIdentity> pvs) {
  VolumeGroupUsage v;
  v.info.name = "nova-vg";
  v.info.size_bytes = size;
  v.info.free_bytes = free;
  v.pv_identities = std::move(pvs);
  return v;
}

TEST(EvaluateDiskTest, LvmHeadroomIsVgFree) {
  DiskPlan p = PlanDisk(Nova("lvm"));
  DiskMeasurements m;
  m.filesystems = {Fs(100 * kGiB, 50 * kGiB, kRootDev, {kSda}),
                   Fs(200 * kGiB, 150 * kGiB, DevNum{8, 33}, {DevNum{8, 32}}),
                   Skipped()};
  m.vg =
      Vg(1000 * kGiB, 1 * kGiB, {StorageIdentity{DevNum{8, 16}, {kSdb}, ""}});
  DiskReport r = EvaluateDisk(p, m);
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.series.size(), 3U);
  EXPECT_EQ(r.series[2].role, DiskRole::kVolumeGroup);
  EXPECT_EQ(r.series[2].path, "nova-vg");
  EXPECT_EQ(*r.headroom_bytes, 1.0 * kGiB - 2048.0 * kMiB);
  ASSERT_EQ(r.reserve_breaches.size(), 1U);
  EXPECT_EQ(r.reserve_breaches[0].subject, "images_volume_group nova-vg");
  EXPECT_TRUE(r.layout_violations.empty());
}

TEST(EvaluateDiskTest, LvmSnapshotsOrPvsOnRootDiskAreLayoutViolations) {
  DiskPlan p = PlanDisk(Nova("lvm"));
  DiskMeasurements m;
  m.filesystems = {Fs(100 * kGiB, 50 * kGiB, kRootDev, {kSda}),
                   Fs(100 * kGiB, 50 * kGiB, kRootDev, {kSda}), Skipped()};
  m.vg =
      Vg(1000 * kGiB, 900 * kGiB, {StorageIdentity{DevNum{8, 2}, {kSda}, ""}});
  DiskReport r = EvaluateDisk(p, m);
  ASSERT_EQ(r.layout_violations.size(), 2U);
  EXPECT_EQ(r.layout_violations[0].subject,
            "snapshots_directory /var/lib/nova/snapshots");
  EXPECT_EQ(r.layout_violations[1].subject, "images_volume_group nova-vg");
}

TEST(EvaluateDiskTest, LvmPendingFailedAndUnset) {
  DiskPlan p = PlanDisk(Nova("lvm"));
  DiskMeasurements m;
  m.filesystems = {Fs(100 * kGiB, 50 * kGiB, kRootDev, {kSda}),
                   Fs(100 * kGiB, 50 * kGiB, kInstDev, {kSdb}), Skipped()};
  DiskReport pending = EvaluateDisk(p, m);  // vgs has not answered yet
  EXPECT_TRUE(pending.errors.empty());
  EXPECT_FALSE(pending.headroom_bytes);
  m.vg = VgMeasurement(Error("volume group nova-vg not found"));
  DiskReport r = EvaluateDisk(p, m);
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_NE(r.errors[0].find("not found"), std::string::npos);
  EXPECT_EQ(r.series.size(), 2U);  // the filesystems are still served
  NovaConfig unset = Nova("lvm");
  unset.images_volume_group.clear();
  EXPECT_EQ(EvaluateDisk(PlanDisk(unset), m).errors.size(), 1U);
}

TEST(EvaluateDiskTest, RbdHasNoHeadroomOrViolations) {
  DiskPlan p = PlanDisk(Nova("rbd"));
  DiskMeasurements m;
  m.filesystems = {Fs(100 * kGiB, 1 * kMiB, kRootDev, {kSda}),
                   Fs(100 * kGiB, 1 * kMiB, kRootDev, {kSda})};
  DiskReport r = EvaluateDisk(p, m);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(*r.reserved_bytes, 2048.0 * kMiB);
  EXPECT_FALSE(r.headroom_bytes);
  EXPECT_TRUE(r.reserve_breaches.empty());
  EXPECT_TRUE(r.layout_violations.empty());
}

TEST(HostPathTest, PrefixesTheRoot) {
  EXPECT_EQ(HostPath("/", "/var/lib/nova"), "/var/lib/nova");
  EXPECT_EQ(HostPath("/host/", "/var/lib/nova"), "/host/var/lib/nova");
  EXPECT_EQ(HostPath("/host", "/"), "/host");
}

TEST(MeasureFilesystemsTest, RealStatvfsAndPresenceRules) {
  testing::TempTree t;
  t.MakeDir("var/lib/nova/instances");
  NovaConfig n = Nova("lvm");
  n.snapshots_directory = "/var/lib/nova/snapshots/deep";  // not created yet
  n.instances_path = "/var/lib/nova/instances";
  DiskEnvironment env;
  env.rootfs = t.Root();
  DiskPlan p = PlanDisk(n);
  auto mounts = ReadMountInfo(env);
  ASSERT_TRUE(mounts) << mounts.error();
  const BlockDeviceResolver resolver(env.sysfs, *mounts);
  DiskMeasurements m = MeasureFilesystems(p, env, resolver);
  ASSERT_EQ(m.filesystems.size(), 3U);
  for (const auto& fm : m.filesystems) {
    ASSERT_TRUE(fm) << fm.error();
    ASSERT_TRUE(fm->has_value());
  }
  EXPECT_GT((*m.filesystems[0])->size_bytes, 0U);
  EXPECT_EQ((*m.filesystems[1])->measured_path, t.Path("var/lib/nova"));
  // All in one temp directory: the snapshot directory shares the "root".
  DiskReport r = EvaluateDisk(p, m);
  ASSERT_EQ(r.layout_violations.size(), 1U);
  EXPECT_EQ(r.layout_violations[0].subject,
            "snapshots_directory /var/lib/nova/snapshots/deep");

  NovaConfig f = Nova("qcow2");
  f.instances_path = "/missing";
  DiskMeasurements mf = MeasureFilesystems(PlanDisk(f), env, resolver);
  ASSERT_FALSE(mf.filesystems[1]);
  EXPECT_NE(mf.filesystems[1].error().find("missing"), std::string::npos);
  EXPECT_EQ(mf.filesystems[1].failure().code(), ENOENT);
  ASSERT_TRUE(mf.filesystems[2]);
  EXPECT_FALSE(mf.filesystems[2]->has_value());  // skipped
}

}  // namespace
}  // namespace hostiso

namespace hostiso {
namespace {

// The plan from nova.conf text, through the foundation's parser: option
// names, sections and case as operators write them.
TEST(DiskPlanFromNovaConfTest, LvmAndRbdFromText) {
  auto lvm = ParseNovaConfig(
      "[DEFAULT]\nreserved_host_disk_mb = 4096\nstate_path = /srv/nova\n"
      "instances_path = $state_path/instances\n"
      "[libvirt]\nimages_type = LVM\nimages_volume_group = nova-vg\n"
      "snapshots_directory = /srv/snap\n",
      "nova.conf");
  ASSERT_TRUE(lvm) << lvm.error();
  DiskPlan p = PlanDisk(*lvm);
  EXPECT_EQ(p.backend, StorageBackend::kLvm);
  EXPECT_EQ(p.volume_group, "nova-vg");
  EXPECT_EQ(*p.reserved_bytes, 4096 * kMiB);
  EXPECT_EQ(Roles(p),
            (std::vector<std::string>{"root /", "snapshots /srv/snap",
                                      "instances /srv/nova/instances"}));
  auto rbd = ParseNovaConfig("[libvirt]\nimages_type = rbd\n", "nova.conf");
  ASSERT_TRUE(rbd) << rbd.error();
  EXPECT_EQ(PlanDisk(*rbd).backend, StorageBackend::kRbd);
  auto dflt = ParseNovaConfig("[DEFAULT]\n", "nova.conf");
  ASSERT_TRUE(dflt) << dflt.error();
  DiskPlan d = PlanDisk(*dflt);
  EXPECT_EQ(d.backend, StorageBackend::kFile);
  EXPECT_EQ(*d.reserved_bytes, 0U);
  EXPECT_EQ(d.filesystems[1].path, "/var/lib/nova/instances");
}

}  // namespace
}  // namespace hostiso
