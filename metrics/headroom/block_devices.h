#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/expected.h"

namespace hostiso {

// A device number as major:minor (dev_t split portably).
struct DevNum {
  unsigned major = 0;
  unsigned minor = 0;
  auto operator<=>(const DevNum&) const = default;
  std::string ToString() const {
    return std::to_string(major) + ":" + std::to_string(minor);
  }
  static DevNum FromDev(dev_t dev);
  static std::optional<DevNum> Parse(std::string_view text);  // "254:0"
};

// One line of /proc/PID/mountinfo (proc(5)).
struct MountInfoEntry {
  int mount_id = 0;
  int parent_id = 0;
  DevNum dev;
  std::string root;
  std::string mount_point;
  std::string fstype;
  std::string source;
};

// Parses mountinfo text; octal escapes (\040 for a space) are decoded. A
// malformed line is an error naming its number.
Expected<std::vector<MountInfoEntry>> ParseMountInfo(std::string_view text);

// Where a filesystem's data lives, for "does it share a block device with
// the root filesystem?".
struct StorageIdentity {
  DevNum fs_dev;            // st_dev of the path (the filesystem)
  std::set<DevNum> disks;   // whole disks under it; empty when not block-backed
  std::string description;  // e.g. "254:0 (disks 254:0)", for logs
};

// Two filesystems share a block device when they are the same filesystem or
// rest on a common whole disk.
bool SharesBlockDevice(const StorageIdentity& a, const StorageIdentity& b);

// Resolves device numbers to the whole disks they sit on, through
// <sysfs>/dev/block/MAJ:MIN: a partition maps to its disk (the parent
// directory), a device-mapper or md device to the disks under slaves/,
// recursively. A loop device counts as its own disk (its backing file is not
// followed: a loop-mounted image is how tests and some hosts give instances a
// filesystem of their own). Device numbers with no sysfs entry (btrfs,
// overlayfs, tmpfs, NFS report anonymous 0:N numbers) are looked up in
// mountinfo: a mount source that is a block device node stands for them.
class BlockDeviceResolver {
 public:
  BlockDeviceResolver(std::string sysfs, std::vector<MountInfoEntry> mounts);

  // The whole disks under a block device (itself when it is a whole disk
  // without slaves). Empty when sysfs does not know the device.
  std::set<DevNum> DisksOf(DevNum block_dev) const;

  // stat(path) and resolve its filesystem. Error when the path cannot be
  // stat'ed.
  Expected<StorageIdentity> IdentifyPath(const std::string& path) const;
  // A block device node such as an LVM physical volume (/dev/loop0).
  Expected<StorageIdentity> IdentifyBlockNode(const std::string& node) const;
  // A filesystem known by its st_dev.
  StorageIdentity IdentifyFilesystem(DevNum fs_dev) const;

 private:
  void Collect(DevNum dev, int depth, std::set<DevNum>& out) const;
  std::string sysfs_;
  std::vector<MountInfoEntry> mounts_;
};

}  // namespace hostiso
