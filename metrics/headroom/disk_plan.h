#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/headroom/block_devices.h"
#include "metrics/headroom/lvm.h"
#include "metrics/nova_config.h"
#include "metrics/violations.h"

namespace hostiso {

// [libvirt] images_type, grouped by where instance disks live.
enum class StorageBackend {
  kNoNova,  // no nova.conf: only the root filesystem is measured
  kFile,    // default, qcow2, raw, flat, ploop: files under instances_path
  kLvm,     // logical volumes in images_volume_group
  kRbd,     // Ceph RBD: no local image storage
};
StorageBackend BackendOf(std::string_view images_type);
std::string_view BackendName(StorageBackend backend);

enum class DiskRole { kInstances, kSnapshots, kRoot, kVolumeGroup };
std::string_view DiskRoleName(DiskRole role);

// What to do when a planned path does not exist.
enum class Presence {
  kRequired,  // an error: the collector fails (instances_path of file backends,
              // "/")
  kIfExists,  // skipped silently
  kNearestExisting,  // measured where it would be created (its nearest existing
                     // ancestor)
};

// One filesystem to measure.
struct DiskTarget {
  DiskRole role;
  std::string path;  // as configured (the "path" label)
  Presence presence = Presence::kRequired;
  bool check_layout =
      false;  // disk_layout: must not share the root filesystem's disk
  bool reserve_target = false;  // its free space carries the disk reservation
  std::string subject;          // violation subject, e.g. "instances_path
                                // /var/lib/nova/instances"
};

// What the disk collector measures for a given nova.conf, and how it judges it.
//   no nova.conf:  root only; no reservation, no violations.
//   file backends: root, instances_path (required; layout and reservation),
//                  snapshots_directory when it exists.
//   lvm:           root, images_volume_group (required; its free space carries
//   the
//                  reservation, its PVs must not share the root's disks),
//                  snapshots_directory (where it is or would be created;
//                  layout), instances_path when it exists (libvirt XML, console
//                  logs).
//   rbd:           root, instances_path when it exists; the reservation is
//   shown
//                  but no headroom or violation applies.
struct DiskPlan {
  StorageBackend backend = StorageBackend::kNoNova;
  std::vector<DiskTarget> filesystems;  // the root filesystem first
  std::string volume_group;             // kLvm only
  std::optional<std::uint64_t>
      reserved_bytes;  // reserved_host_disk_mb, when nova.conf exists
};
DiskPlan PlanDisk(const std::optional<NovaConfig>& nova);

// What statvfs() and the device lookup say of one planned filesystem.
struct FilesystemUsage {
  std::string measured_path;     // the path statvfs() saw (an ancestor for
                                 // kNearestExisting)
  std::uint64_t size_bytes = 0;  // f_blocks x f_frsize
  std::uint64_t free_bytes = 0;  // f_bavail x f_frsize: what an unprivileged
                                 // writer (nova) gets, df's "Avail"
  StorageIdentity identity;
};
// One planned filesystem: its usage, nullopt when it is a kIfExists target
// that does not exist (skipped), or the error that kept it from being
// measured.
using FsMeasurement = Expected<std::optional<FilesystemUsage>>;

// A volume group as vgs reports it, with the disks under its physical
// volumes.
struct VolumeGroupUsage {
  VolumeGroupInfo info;
  std::vector<StorageIdentity> pv_identities;
};
using VgMeasurement = Expected<VolumeGroupUsage>;

struct DiskMeasurements {
  std::vector<FsMeasurement> filesystems;  // parallel to DiskPlan::filesystems
  std::optional<VgMeasurement> vg;         // nullopt: not measured yet
  std::vector<std::string> errors;         // not tied to one target (mountinfo)
};

// One hostiso_disk_size_bytes / hostiso_disk_free_bytes pair.
struct DiskSeries {
  DiskRole role;
  std::string path;
  std::uint64_t size_bytes = 0;
  std::uint64_t free_bytes = 0;
};

// The judged result: what a scrape serves.
struct DiskReport {
  StorageBackend backend = StorageBackend::kNoNova;
  std::vector<DiskSeries> series;
  std::optional<double> reserved_bytes;
  std::optional<double> headroom_bytes;
  std::vector<Violation> reserve_breaches;
  std::vector<Violation> layout_violations;
  std::vector<std::string> errors;  // non-empty: collector success 0
};

// Pure: applies the plan's rules to the measurements.
DiskReport EvaluateDisk(const DiskPlan& plan, const DiskMeasurements& m);

// Where the host's files are as seen by this process ("/" normally; a
// container sees the host root under a mount such as /host).
struct DiskEnvironment {
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  std::string rootfs = "/";
};
std::string HostPath(const std::string& rootfs, const std::string& path);

// <procfs>/self/mountinfo: this process's own view of the mounts, the one its
// stat() calls see (for BlockDeviceResolver).
Expected<std::vector<MountInfoEntry>> ReadMountInfo(const DiskEnvironment& env);

// statvfs() and device identification of every planned filesystem.
DiskMeasurements MeasureFilesystems(const DiskPlan& plan,
                                    const DiskEnvironment& env,
                                    const BlockDeviceResolver& resolver);

// Runs vgs through `runner` and identifies the physical volumes' disks.
VgMeasurement MeasureVolumeGroup(const std::string& vg_name,
                                 const std::string& vgs_binary,
                                 const CommandRunner& runner,
                                 std::chrono::milliseconds timeout,
                                 const BlockDeviceResolver& resolver);

}  // namespace hostiso
