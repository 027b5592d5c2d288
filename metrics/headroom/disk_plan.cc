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

namespace {

// Free space `free_bytes` against the reservation: the headroom, and a breach
// of `subject` when it is short.
void JudgeReserve(const DiskPlan& plan, std::uint64_t free_bytes,
                  const std::string& subject, DiskReport& r) {
  if (!plan.reserved_bytes) return;
  const double reserved = static_cast<double>(*plan.reserved_bytes);
  r.headroom_bytes = static_cast<double>(free_bytes) - reserved;
  if (static_cast<double>(free_bytes) < reserved) {
    r.reserve_breaches.push_back(Violation{subject, CpuSet{}});
  }
}

// The planned filesystems' series, errors and reservation; the root
// filesystem's usage (null when it was not measured).
const FilesystemUsage* EvaluateFilesystems(const DiskPlan& plan,
                                           const DiskMeasurements& m,
                                           DiskReport& r) {
  const FilesystemUsage* root = nullptr;
  for (std::size_t i = 0;
       i < plan.filesystems.size() && i < m.filesystems.size(); ++i) {
    const DiskTarget& t = plan.filesystems[i];
    const FsMeasurement& fm = m.filesystems[i];
    if (!fm) {
      r.errors.push_back(
          fm.failure()
              .WithContext(std::string(DiskRoleName(t.role)) + " " + t.path)
              .message());
      continue;
    }
    if (!fm->has_value()) continue;  // skipped
    const FilesystemUsage& usage = **fm;
    if (t.role == DiskRole::kRoot && root == nullptr) root = &usage;
    r.series.push_back(
        DiskSeries{t.role, t.path, usage.size_bytes, usage.free_bytes});
    if (t.reserve_target) JudgeReserve(plan, usage.free_bytes, t.subject, r);
  }
  return root;
}

// Layout: by device numbers, against the root filesystem.
void EvaluateLayout(const DiskPlan& plan, const DiskMeasurements& m,
                    const FilesystemUsage& root, DiskReport& r) {
  for (std::size_t i = 0;
       i < plan.filesystems.size() && i < m.filesystems.size(); ++i) {
    const DiskTarget& t = plan.filesystems[i];
    const FsMeasurement& fm = m.filesystems[i];
    if (!t.check_layout || !fm || !fm->has_value()) continue;
    if (SharesBlockDevice(root.identity, (*fm)->identity)) {
      r.layout_violations.push_back(Violation{t.subject, CpuSet{}});
    }
  }
}

// The LVM backend's volume group: its series, reservation and whether a
// physical volume shares the root filesystem's disks.
void EvaluateVolumeGroup(const DiskPlan& plan, const DiskMeasurements& m,
                         const FilesystemUsage* root, DiskReport& r) {
  if (plan.volume_group.empty()) {
    r.errors.emplace_back(
        "images_type is lvm but [libvirt] images_volume_group is not set");
    return;
  }
  if (!m.vg) return;  // vgs has not answered yet
  if (!*m.vg) {
    r.errors.push_back(m.vg->failure()
                           .WithContext("volume_group " + plan.volume_group)
                           .message());
    return;
  }
  const std::string subject = "images_volume_group " + plan.volume_group;
  const VolumeGroupUsage& vg = **m.vg;
  r.series.push_back(DiskSeries{DiskRole::kVolumeGroup, plan.volume_group,
                                vg.info.size_bytes, vg.info.free_bytes});
  JudgeReserve(plan, vg.info.free_bytes, subject, r);
  if (root == nullptr) return;
  for (const StorageIdentity& pv : vg.pv_identities) {
    if (SharesBlockDevice(root->identity, pv)) {
      r.layout_violations.push_back(Violation{subject, CpuSet{}});
      return;
    }
  }
}

}  // namespace

DiskReport EvaluateDisk(const DiskPlan& plan, const DiskMeasurements& m) {
  DiskReport r;
  r.backend = plan.backend;
  r.errors = m.errors;
  if (plan.reserved_bytes)
    r.reserved_bytes = static_cast<double>(*plan.reserved_bytes);
  const FilesystemUsage* root = EvaluateFilesystems(plan, m, r);
  if (root != nullptr) EvaluateLayout(plan, m, *root, r);
  if (plan.backend == StorageBackend::kLvm)
    EvaluateVolumeGroup(plan, m, root, r);
  return r;
}

std::string HostPath(const std::string& rootfs, const std::string& path) {
  if (rootfs.empty() || rootfs == "/") return path;
  std::string base = rootfs;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  if (path == "/") return base;
  return base + (path.starts_with("/") ? "" : "/") + path;
}

Expected<std::vector<MountInfoEntry>> ReadMountInfo(
    const DiskEnvironment& env) {
  return ReadAndParse(JoinPath(env.procfs, "self/mountinfo"), ParseMountInfo);
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

// One target: statvfs() where it is (or, for kNearestExisting, where it
// would be created), then the disks under it.
FsMeasurement MeasureFilesystem(const DiskTarget& t, const DiskEnvironment& env,
                                const BlockDeviceResolver& resolver) {
  std::string host = HostPath(env.rootfs, t.path);
  if (!Exists(host)) {
    const int err = errno;
    if (t.presence == Presence::kIfExists && err == ENOENT) {
      return FsMeasurement(std::optional<FilesystemUsage>());
    }
    if (t.presence == Presence::kNearestExisting && err == ENOENT) {
      std::string logical = t.path;
      while (logical != "/" && !Exists(HostPath(env.rootfs, logical)))
        logical = ParentOf(logical);
      host = HostPath(env.rootfs, logical);
    }
  }
  struct statvfs vfs;
  if (::statvfs(host.c_str(), &vfs) != 0) {
    const int err = errno;
    return Error(host + ": " + std::strerror(err), err);
  }
  FilesystemUsage usage;
  usage.measured_path = host;
  const std::uint64_t frsize = vfs.f_frsize != 0 ? vfs.f_frsize : vfs.f_bsize;
  usage.size_bytes = static_cast<std::uint64_t>(vfs.f_blocks) * frsize;
  usage.free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * frsize;
  HOSTISO_ASSIGN_OR_RETURN(usage.identity, resolver.IdentifyPath(host));
  return FsMeasurement(std::optional<FilesystemUsage>(std::move(usage)));
}

}  // namespace

DiskMeasurements MeasureFilesystems(const DiskPlan& plan,
                                    const DiskEnvironment& env,
                                    const BlockDeviceResolver& resolver) {
  DiskMeasurements m;
  for (const DiskTarget& t : plan.filesystems) {
    m.filesystems.push_back(MeasureFilesystem(t, env, resolver));
  }
  return m;
}

VgMeasurement MeasureVolumeGroup(const std::string& vg_name,
                                 const std::string& vgs_binary,
                                 const CommandRunner& runner,
                                 std::chrono::milliseconds timeout,
                                 const BlockDeviceResolver& resolver) {
  HOSTISO_ASSIGN_OR_RETURN(const std::string report,
                           runner(VgsCommand(vgs_binary, vg_name), timeout));
  VolumeGroupUsage vg;
  HOSTISO_ASSIGN_OR_RETURN(vg.info, ParseVgsReport(report, vg_name));
  for (const std::string& pv : vg.info.physical_volumes) {
    // A PV that vanished shows as "[unknown]" (skipped by the parser); one
    // that cannot be stat'ed is left out of the layout check.
    if (auto id = resolver.IdentifyBlockNode(pv))
      vg.pv_identities.push_back(*id);
  }
  return vg;
}

}  // namespace hostiso
