#include "metrics/headroom/block_devices.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

TEST(MountInfoTest, ParsesFieldsOptionalTagsAndEscapes) {
  const char* text =
      "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard\n"
      "36 27 0:33 / /var/lib/nova/my\\040instances rw master:7 "
      "propagate_from:2 - btrfs "
      "/dev/sdb2 rw,space_cache\n"
      "40 27 0:40 /sub /mnt/t rw - tmpfs tmpfs rw\n";
  auto m = ParseMountInfo(text);
  ASSERT_TRUE(m) << m.error();
  ASSERT_EQ(m->size(), 3U);
  EXPECT_EQ((*m)[0].dev, (DevNum{254, 0}));
  EXPECT_EQ((*m)[0].mount_point, "/");
  EXPECT_EQ((*m)[0].fstype, "ext4");
  EXPECT_EQ((*m)[0].source, "/dev/vda");
  EXPECT_EQ((*m)[1].mount_point, "/var/lib/nova/my instances");
  EXPECT_EQ((*m)[1].parent_id, 27);
  EXPECT_EQ((*m)[1].fstype, "btrfs");
  EXPECT_EQ((*m)[1].source, "/dev/sdb2");
  EXPECT_EQ((*m)[2].root, "/sub");
  EXPECT_EQ((*m)[2].dev, (DevNum{0, 40}));
}

TEST(MountInfoTest, MalformedLinesAreErrors) {
  auto m = ParseMountInfo(
      "27 1 254:0 / / rw - ext4 /dev/vda rw\n27 1 x / / rw - ext4 /dev/x rw\n");
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().find("line 2"), std::string::npos);
  EXPECT_FALSE(
      ParseMountInfo("27 1 254:0 / / rw ext4 /dev/vda rw\n"));  // no separator
}

TEST(DevNumTest, Parse) {
  EXPECT_EQ(DevNum::Parse("8:16\n"), (DevNum{8, 16}));
  EXPECT_FALSE(DevNum::Parse("8"));
  EXPECT_FALSE(DevNum::Parse("a:b"));
  EXPECT_EQ((DevNum{253, 3}).ToString(), "253:3");
}

// A sysfs tree: sda with partitions sda1 and sda2, sdb, dm-0 (an LV on sda2),
// dm-1 (on sdb), md0 over sda1 and sdb, and loop0.
class BlockDeviceResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Dev("devices/pci/block/sda", "8:0");
    Dev("devices/pci/block/sda/sda1", "8:1", true);
    Dev("devices/pci/block/sda/sda2", "8:2", true);
    Dev("devices/pci/block/sdb", "8:16");
    Dev("devices/virtual/block/dm-0", "253:0");
    Slave("devices/virtual/block/dm-0", "sda2", "devices/pci/block/sda/sda2");
    Dev("devices/virtual/block/dm-1", "253:1");
    Slave("devices/virtual/block/dm-1", "sdb", "devices/pci/block/sdb");
    Dev("devices/virtual/block/md0", "9:0");
    Slave("devices/virtual/block/md0", "sda1", "devices/pci/block/sda/sda1");
    Slave("devices/virtual/block/md0", "sdb", "devices/pci/block/sdb");
    Dev("devices/virtual/block/loop0", "7:0");
  }
  void Dev(const std::string& dir, const std::string& num,
           bool partition = false) {
    t_.Write("sys/" + dir + "/dev", num + "\n");
    if (partition) t_.Write("sys/" + dir + "/partition", "1\n");
    t_.MakeDir("sys/dev/block");
    std::filesystem::create_directory_symlink("../../" + dir,
                                              t_.Path("sys/dev/block/" + num));
  }
  void Slave(const std::string& dir, const std::string& name,
             const std::string& target) {
    t_.MakeDir("sys/" + dir + "/slaves");
    std::filesystem::create_directory_symlink(
        t_.Path("sys/" + target), t_.Path("sys/" + dir + "/slaves/" + name));
  }
  testing::TempTree t_;
};

TEST_F(BlockDeviceResolverTest, DisksUnderDevices) {
  BlockDeviceResolver r(t_.Path("sys"), {});
  using S = std::set<DevNum>;
  EXPECT_EQ(r.DisksOf({8, 0}), (S{{8, 0}}));
  EXPECT_EQ(r.DisksOf({8, 1}), (S{{8, 0}}));
  EXPECT_EQ(r.DisksOf({8, 2}), (S{{8, 0}}));
  EXPECT_EQ(r.DisksOf({253, 0}), (S{{8, 0}}));
  EXPECT_EQ(r.DisksOf({253, 1}), (S{{8, 16}}));
  EXPECT_EQ(r.DisksOf({9, 0}), (S{{8, 0}, {8, 16}}));
  EXPECT_EQ(r.DisksOf({7, 0}), (S{{7, 0}}));
  EXPECT_TRUE(r.DisksOf({0, 45}).empty());
}

TEST_F(BlockDeviceResolverTest, SharingDecisions) {
  BlockDeviceResolver r(t_.Path("sys"), {});
  StorageIdentity root = r.IdentifyFilesystem({8, 1});       // / on sda1
  StorageIdentity same_part = r.IdentifyFilesystem({8, 1});  // a directory of /
  StorageIdentity other_part = r.IdentifyFilesystem({8, 2});  // sda2: same disk
  StorageIdentity lv_on_sda = r.IdentifyFilesystem({253, 0});
  StorageIdentity lv_on_sdb = r.IdentifyFilesystem({253, 1});
  StorageIdentity raid = r.IdentifyFilesystem({9, 0});
  StorageIdentity loop = r.IdentifyFilesystem({7, 0});
  StorageIdentity tmpfs = r.IdentifyFilesystem({0, 45});
  EXPECT_TRUE(SharesBlockDevice(root, same_part));
  EXPECT_TRUE(SharesBlockDevice(root, other_part));
  EXPECT_TRUE(SharesBlockDevice(root, lv_on_sda));
  EXPECT_FALSE(SharesBlockDevice(root, lv_on_sdb));
  EXPECT_TRUE(SharesBlockDevice(root, raid));
  EXPECT_FALSE(SharesBlockDevice(root, loop));
  EXPECT_FALSE(SharesBlockDevice(root, tmpfs));
  EXPECT_TRUE(SharesBlockDevice(tmpfs, r.IdentifyFilesystem({0, 45})));
  EXPECT_EQ(lv_on_sda.description, "253:0 (disks 8:0)");
}

TEST_F(BlockDeviceResolverTest, AnonymousDeviceWithNonBlockSourceHasNoDisks) {
  auto mounts = ParseMountInfo(
      "50 27 0:50 / /srv rw - overlay overlay rw\n"
      "51 27 0:51 / /x rw - tmpfs /dev/null rw\n");
  ASSERT_TRUE(mounts);
  BlockDeviceResolver r(t_.Path("sys"), *mounts);
  EXPECT_TRUE(r.IdentifyFilesystem({0, 50}).disks.empty());
  EXPECT_TRUE(r.IdentifyFilesystem({0, 51}).disks.empty());
}

TEST_F(BlockDeviceResolverTest, PathsAndBlockNodes) {
  BlockDeviceResolver r(t_.Path("sys"), {});
  auto id = r.IdentifyPath(t_.Root());
  ASSERT_TRUE(id) << id.error();
  struct stat st;
  ASSERT_EQ(::stat(t_.Root().c_str(), &st), 0);
  EXPECT_EQ(id->fs_dev, DevNum::FromDev(st.st_dev));
  auto missing = r.IdentifyPath(t_.Path("nope"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("nope"), std::string::npos);
  auto not_block = r.IdentifyBlockNode("/dev/null");
  ASSERT_FALSE(not_block);
  EXPECT_NE(not_block.error().find("not a block device"), std::string::npos);
}

}  // namespace
}  // namespace hostiso

namespace hostiso {
namespace {

// On the machine running the tests: a filesystem on a real block device
// resolves to at least one whole disk through the real sysfs.
TEST(BlockDeviceResolverLiveTest, RootFilesystemResolvesToADisk) {
  struct stat st;
  ASSERT_EQ(::stat("/", &st), 0);
  const DevNum root = DevNum::FromDev(st.st_dev);
  if (!std::filesystem::exists("/sys/dev/block/" + root.ToString())) {
    GTEST_SKIP() << "/ is not on a block device sysfs knows ("
                 << root.ToString() << ")";
  }
  BlockDeviceResolver r("/sys", {});
  auto id = r.IdentifyPath("/");
  ASSERT_TRUE(id) << id.error();
  EXPECT_FALSE(id->disks.empty()) << id->description;
}

}  // namespace
}  // namespace hostiso
