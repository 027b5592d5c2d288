#include "metrics/headroom/disk_plan.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

#include "metrics/procfs/read_file.h"

namespace hostiso {

StorageBackend BackendOf(std::string_view images_type) {
  if (images_type == "lvm") return StorageBackend::kLvm;
  if (images_type == "rbd") return StorageBackend::kRbd;
  // default, qcow2, raw, flat, ploop: image files under instances_path. Nova
  // rejects any other value, so an unknown one is treated like them.
  return StorageBackend::kFile;
}

std::string_view BackendName(StorageBackend backend) {
  switch (backend) {
    case StorageBackend::kNoNova:
      return "none";
    case StorageBackend::kFile:
      return "file";
    case StorageBackend::kLvm:
      return "lvm";
    case StorageBackend::kRbd:
      return "rbd";
  }
  return "unknown";
}

std::string_view DiskRoleName(DiskRole role) {
  switch (role) {
    case DiskRole::kInstances:
      return "instances";
    case DiskRole::kSnapshots:
      return "snapshots";
    case DiskRole::kRoot:
      return "root";
    case DiskRole::kVolumeGroup:
      return "volume_group";
  }
  return "unknown";
}

DiskPlan PlanDisk(const std::optional<NovaConfig>& nova) {
  DiskPlan plan;
  plan.filesystems.push_back(
      DiskTarget{DiskRole::kRoot, "/", Presence::kRequired, false, false, ""});
  if (!nova) return plan;
  plan.backend = BackendOf(nova->images_type);
  const std::int64_t mb =
      nova->reserved_host_disk_mb > 0 ? nova->reserved_host_disk_mb : 0;
  plan.reserved_bytes = static_cast<std::uint64_t>(mb) * 1024 * 1024;
  const std::string instances_subject =
      "instances_path " + nova->instances_path;
  const std::string snapshots_subject =
      "snapshots_directory " + nova->snapshots_directory;
  switch (plan.backend) {
    case StorageBackend::kNoNova:
      break;
    case StorageBackend::kFile:
      plan.filesystems.push_back(
          DiskTarget{DiskRole::kInstances, nova->instances_path,
                     Presence::kRequired, true, true, instances_subject});
      plan.filesystems.push_back(
          DiskTarget{DiskRole::kSnapshots, nova->snapshots_directory,
                     Presence::kIfExists, false, false, snapshots_subject});
      break;
    case StorageBackend::kLvm:
      plan.volume_group = nova->images_volume_group;
      // Nova creates snapshots_directory on first use: judge the filesystem
      // it would be created on.
      plan.filesystems.push_back(DiskTarget{
          DiskRole::kSnapshots, nova->snapshots_directory,
          Presence::kNearestExisting, true, false, snapshots_subject});
      plan.filesystems.push_back(
          DiskTarget{DiskRole::kInstances, nova->instances_path,
                     Presence::kIfExists, false, false, instances_subject});
      break;
    case StorageBackend::kRbd:
      plan.filesystems.push_back(
          DiskTarget{DiskRole::kInstances, nova->instances_path,
                     Presence::kIfExists, false, false, instances_subject});
      break;
  }
  return plan;
}

DiskReport EvaluateDisk(const DiskPlan& plan, const DiskMeasurements& m) {
  DiskReport r;
  r.backend = plan.backend;
  r.errors = m.errors;
  if (plan.reserved_bytes)
    r.reserved_bytes = static_cast<double>(*plan.reserved_bytes);
  const double reserved = r.reserved_bytes.value_or(0);

  const FsMeasurement* root = nullptr;
  for (std::size_t i = 0;
       i < plan.filesystems.size() && i < m.filesystems.size(); ++i) {
    const DiskTarget& t = plan.filesystems[i];
    const FsMeasurement& fm = m.filesystems[i];
    if (fm.skipped) continue;
    if (!fm.ok) {
      r.errors.push_back(std::string(DiskRoleName(t.role)) + " " + t.path +
                         ": " + fm.error);
      continue;
    }
    if (t.role == DiskRole::kRoot && root == nullptr) root = &fm;
    r.series.push_back(
        DiskSeries{t.role, t.path, fm.size_bytes, fm.free_bytes});
    if (t.reserve_target && plan.reserved_bytes) {
      r.headroom_bytes = static_cast<double>(fm.free_bytes) - reserved;
      if (static_cast<double>(fm.free_bytes) < reserved) {
        r.reserve_breaches.push_back(Violation{t.subject, CpuSet{}});
      }
    }
  }
  // Layout: by device numbers, once the root filesystem is known.
  if (root != nullptr && root->identity) {
    for (std::size_t i = 0;
         i < plan.filesystems.size() && i < m.filesystems.size(); ++i) {
      const DiskTarget& t = plan.filesystems[i];
      const FsMeasurement& fm = m.filesystems[i];
      if (!t.check_layout || !fm.ok || !fm.identity) continue;
      if (SharesBlockDevice(*root->identity, *fm.identity)) {
        r.layout_violations.push_back(Violation{t.subject, CpuSet{}});
      }
    }
  }
  if (plan.backend == StorageBackend::kLvm) {
    const std::string subject = "images_volume_group " + plan.volume_group;
    if (plan.volume_group.empty()) {
      r.errors.emplace_back(
          "images_type is lvm but [libvirt] images_volume_group is not set");
    } else if (m.vg) {
      if (!m.vg->ok) {
        r.errors.push_back("volume_group " + plan.volume_group + ": " +
                           m.vg->error);
      } else {
        r.series.push_back(DiskSeries{DiskRole::kVolumeGroup, plan.volume_group,
                                      m.vg->info.size_bytes,
                                      m.vg->info.free_bytes});
        if (plan.reserved_bytes) {
          r.headroom_bytes =
              static_cast<double>(m.vg->info.free_bytes) - reserved;
          if (static_cast<double>(m.vg->info.free_bytes) < reserved) {
            r.reserve_breaches.push_back(Violation{subject, CpuSet{}});
          }
        }
        if (root != nullptr && root->identity) {
          for (const StorageIdentity& pv : m.vg->pv_identities) {
            if (SharesBlockDevice(*root->identity, pv)) {
              r.layout_violations.push_back(Violation{subject, CpuSet{}});
              break;
            }
          }
        }
      }
    }
  }
  return r;
}

std::string HostPath(const std::string& rootfs, const std::string& path) {
  if (rootfs.empty() || rootfs == "/") return path;
  std::string base = rootfs;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  if (path == "/") return base;
  return base + (path.starts_with("/") ? "" : "/") + path;
}

BlockDeviceResolver MakeResolver(const DiskEnvironment& env,
                                 std::vector<std::string>* errors) {
  std::vector<MountInfoEntry> mounts;
  auto text = ReadFile(JoinPath(env.procfs, "self/mountinfo"));
  Expected<std::vector<MountInfoEntry>> parsed =
      text ? ParseMountInfo(*text)
           : Expected<std::vector<MountInfoEntry>>::Error(text.error());
  if (parsed) {
    mounts = std::move(parsed).value();
  } else if (errors != nullptr) {
    errors->push_back(parsed.error());
  }
  return BlockDeviceResolver(env.sysfs, std::move(mounts));
}

namespace {

bool Exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

std::string ParentOf(const std::string& p) {
  std::size_t slash = p.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return p.substr(0, slash);
}

}  // namespace

DiskMeasurements MeasureFilesystems(const DiskPlan& plan,
                                    const DiskEnvironment& env,
                                    const BlockDeviceResolver& resolver) {
  DiskMeasurements m;
  for (const DiskTarget& t : plan.filesystems) {
    FsMeasurement fm;
    std::string host = HostPath(env.rootfs, t.path);
    if (!Exists(host)) {
      const int err = errno;
      if (t.presence == Presence::kIfExists && err == ENOENT) {
        fm.skipped = true;
        m.filesystems.push_back(std::move(fm));
        continue;
      }
      if (t.presence == Presence::kNearestExisting && err == ENOENT) {
        std::string logical = t.path;
        while (logical != "/" && !Exists(HostPath(env.rootfs, logical)))
          logical = ParentOf(logical);
        host = HostPath(env.rootfs, logical);
      }
    }
    fm.measured_path = host;
    struct statvfs vfs;
    if (::statvfs(host.c_str(), &vfs) != 0) {
      fm.error = host + ": " + std::strerror(errno);
      m.filesystems.push_back(std::move(fm));
      continue;
    }
    const std::uint64_t frsize = vfs.f_frsize != 0 ? vfs.f_frsize : vfs.f_bsize;
    fm.size_bytes = static_cast<std::uint64_t>(vfs.f_blocks) * frsize;
    fm.free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * frsize;
    auto id = resolver.IdentifyPath(host);
    if (id) {
      fm.identity = *id;
    } else {
      fm.error = id.error();
      m.filesystems.push_back(std::move(fm));
      continue;
    }
    fm.ok = true;
    m.filesystems.push_back(std::move(fm));
  }
  return m;
}

VgMeasurement MeasureVolumeGroup(const std::string& vg_name,
                                 const std::string& vgs_binary,
                                 const CommandRunner& runner,
                                 std::chrono::milliseconds timeout,
                                 const BlockDeviceResolver& resolver) {
  VgMeasurement vm;
  auto out = runner(VgsCommand(vgs_binary, vg_name), timeout);
  if (!out) {
    vm.error = out.error();
    return vm;
  }
  auto vg = ParseVgsReport(*out, vg_name);
  if (!vg) {
    vm.error = vg.error();
    return vm;
  }
  vm.info = *vg;
  for (const std::string& pv : vm.info.physical_volumes) {
    // A PV that vanished shows as "[unknown]" (skipped by the parser); one
    // that cannot be stat'ed is left out of the layout check.
    if (auto id = resolver.IdentifyBlockNode(pv))
      vm.pv_identities.push_back(*id);
  }
  vm.ok = true;
  return vm;
}

}  // namespace hostiso
