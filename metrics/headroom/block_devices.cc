#include "metrics/headroom/block_devices.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "metrics/procfs/read_file.h"
#include "metrics/text.h"

namespace hostiso {

DevNum DevNum::FromDev(dev_t dev) { return DevNum{major(dev), minor(dev)}; }

std::optional<DevNum> DevNum::Parse(std::string_view text) {
  text = TrimSpace(text);
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto ma = ParseUint(text.substr(0, colon));
  auto mi = ParseUint(text.substr(colon + 1));
  if (!ma || !mi || *ma > 0xffffffffu || *mi > 0xffffffffu) return std::nullopt;
  return DevNum{static_cast<unsigned>(*ma), static_cast<unsigned>(*mi)};
}

namespace {

// Decodes the \ooo escapes the kernel writes for space, tab, newline and
// backslash in mountinfo paths.
std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' &&
        s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
        s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 +
                                      (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

Expected<std::vector<MountInfoEntry>> ParseMountInfo(std::string_view text) {
  std::vector<MountInfoEntry> out;
  int line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    if (TrimSpace(line).empty()) continue;
    std::vector<std::string_view> f = SplitFields(line);
    // id parent maj:min root mount_point options [optional...] - fstype source
    // super_options
    std::size_t sep = 6;
    while (sep < f.size() && f[sep] != "-") ++sep;
    auto bad = [&](const char* what) {
      return Error("mountinfo line " + std::to_string(line_no) + ": " + what);
    };
    if (f.size() < 6 || sep + 2 >= f.size()) {
      return bad(
          "expected 'ID PARENT MAJ:MIN ROOT MOUNT OPTS ... - TYPE SOURCE "
          "OPTS'");
    }
    MountInfoEntry e;
    auto id = ParseInt(f[0]);
    auto parent = ParseInt(f[1]);
    auto dev = DevNum::Parse(f[2]);
    if (!id || !parent || !dev) return bad("expected numeric ids and MAJ:MIN");
    e.mount_id = static_cast<int>(*id);
    e.parent_id = static_cast<int>(*parent);
    e.dev = *dev;
    e.root = Unescape(f[3]);
    e.mount_point = Unescape(f[4]);
    e.fstype = std::string(f[sep + 1]);
    e.source = Unescape(f[sep + 2]);
    out.push_back(std::move(e));
  }
  return out;
}

bool SharesBlockDevice(const StorageIdentity& a, const StorageIdentity& b) {
  if (a.fs_dev == b.fs_dev) return true;
  for (const DevNum& d : a.disks) {
    if (b.disks.count(d) > 0) return true;
  }
  return false;
}

BlockDeviceResolver::BlockDeviceResolver(std::string sysfs,
                                         std::vector<MountInfoEntry> mounts)
    : sysfs_(std::move(sysfs)), mounts_(std::move(mounts)) {}

void BlockDeviceResolver::Collect(DevNum dev, int depth,
                                  std::set<DevNum>& out) const {
  // Stacks deeper than this (dm on md on partitions...) do not exist in
  // practice; the limit only guards against a cycle in a broken fixture.
  if (depth > 8) return;
  namespace fs = std::filesystem;
  const std::string dir = JoinPath(sysfs_, "dev/block/" + dev.ToString());
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  // A partition: its sysfs directory sits inside the whole disk's, and
  // "dir/.." resolves through the symlink to that disk.
  if (fs::exists(dir + "/partition", ec)) {
    auto parent = ReadFile(dir + "/../dev");
    if (parent) {
      if (auto p = DevNum::Parse(*parent)) {
        Collect(*p, depth + 1, out);
        return;
      }
    }
    out.insert(dev);
    return;
  }
  bool had_slave = false;
  fs::directory_iterator it(dir + "/slaves", ec);
  if (!ec) {
    for (const auto& slave : it) {
      auto num = ReadFile(slave.path().string() + "/dev");
      if (!num) continue;
      if (auto d = DevNum::Parse(*num)) {
        had_slave = true;
        Collect(*d, depth + 1, out);
      }
    }
  }
  if (!had_slave) out.insert(dev);
}

std::set<DevNum> BlockDeviceResolver::DisksOf(DevNum block_dev) const {
  std::set<DevNum> out;
  Collect(block_dev, 0, out);
  return out;
}

namespace {
std::string Describe(const StorageIdentity& id) {
  std::string s = id.fs_dev.ToString();
  if (!id.disks.empty()) {
    s += " (disks";
    // Appended piecewise: `" " + d.ToString()` trips GCC 12's -Wrestrict
    // false positive at -O3.
    for (const DevNum& d : id.disks) {
      s += ' ';
      s += d.ToString();
    }
    s += ")";
  }
  return s;
}
}  // namespace

StorageIdentity BlockDeviceResolver::IdentifyFilesystem(DevNum fs_dev) const {
  StorageIdentity id;
  id.fs_dev = fs_dev;
  id.disks = DisksOf(fs_dev);
  if (id.disks.empty()) {
    // Anonymous device numbers (btrfs, overlayfs...): the mount source, when
    // it is a block device node, says which disk holds the data.
    for (const MountInfoEntry& m : mounts_) {
      if (m.dev != fs_dev || !m.source.starts_with("/dev/")) continue;
      struct stat st;
      if (::stat(m.source.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) {
        id.disks = DisksOf(DevNum::FromDev(st.st_rdev));
        if (id.disks.empty()) id.disks.insert(DevNum::FromDev(st.st_rdev));
        break;
      }
    }
  }
  id.description = Describe(id);
  return id;
}

Expected<StorageIdentity> BlockDeviceResolver::IdentifyPath(
    const std::string& path) const {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    return Error(path + ": " + std::strerror(err), err);
  }
  return IdentifyFilesystem(DevNum::FromDev(st.st_dev));
}

Expected<StorageIdentity> BlockDeviceResolver::IdentifyBlockNode(
    const std::string& node) const {
  struct stat st;
  if (::stat(node.c_str(), &st) != 0) {
    const int err = errno;
    return Error(node + ": " + std::strerror(err), err);
  }
  if (!S_ISBLK(st.st_mode)) {
    return Error(node + ": not a block device");
  }
  StorageIdentity id;
  // A block node is not a filesystem: give it a device number no filesystem
  // has (its own rdev) so only the disks decide.
  id.fs_dev = DevNum::FromDev(st.st_rdev);
  id.disks = DisksOf(id.fs_dev);
  if (id.disks.empty()) id.disks.insert(id.fs_dev);
  id.description = Describe(id);
  return id;
}

}  // namespace hostiso
