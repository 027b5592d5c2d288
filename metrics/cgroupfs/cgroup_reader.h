#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "metrics/cpu_set.h"
#include "metrics/expected.h"
#include "metrics/procfs/kept_files.h"

namespace hostiso {

// How the host mounts cgroups under the cgroup root (--path.cgroupfs, by
// default <sysfs>/fs/cgroup).
enum class CgroupLayout {
  // cgroup2 mounted at the root: the root holds `cgroup.controllers`.
  kV2,
  // One hierarchy per controller: <root>/cpuset, <root>/cpuacct (or the
  // co-mounted cpu,cpuacct). A hybrid host's extra <root>/unified (cgroup2
  // with no controllers) is not used.
  kV1,
};

struct CgroupHierarchy {
  CgroupLayout layout = CgroupLayout::kV2;
  // v2: both are the root. v1: the cpuset and cpuacct hierarchies; empty
  // when that controller is not mounted.
  std::string cpuset_root;
  std::string cpuacct_root;
  // v1 hybrid: <root>/unified, the cgroup2 hierarchy systemd (and libvirt)
  // place every process in without controllers. Its cpu.stat usage_usec is
  // the CPU time of a cgroup missing from the cpuacct hierarchy: libvirt
  // leaves guests out of a cpuacct hierarchy not co-mounted with cpu (seen on
  // Debian 12 here: cpuacct:/ but 0::/machine/qemu-...). Empty otherwise.
  std::string unified_root;
};

// Looks at `root` (a few stat calls): v2 when `cgroup.controllers` is there,
// else v1 when a cpuset or cpuacct hierarchy is. An error when neither (no
// cgroup filesystem at the path, or a wrong --path.cgroupfs).
Expected<CgroupHierarchy> DetectCgroupHierarchy(const std::string& root);

// One cgroup (a systemd slice or scope, libvirt's `machine`) as read now.
struct SliceReading {
  // The CPUs its tasks may run on. v2: `cpuset.cpus.effective`; v1:
  // `cpuset.effective_cpus`, or `cpuset.cpus` on kernels without it. A cgroup
  // without its own cpuset file (v2 with the cpuset controller not enabled for
  // it; v1 where the slice exists only in the cpuacct hierarchy, as systemd
  // makes them) runs on its nearest ancestor's cpuset; with no cpuset file up
  // to the root (no cpuset controller at all) on every online CPU.
  CpuSet cpuset;
  // CPU time of its tasks and descendants: v2 `cpu.stat` usage_usec, v1
  // `cpuacct.usage`, or on a v1 hybrid host the unified hierarchy's
  // `cpu.stat` for a cgroup missing from cpuacct. nullopt when the kernel
  // keeps none for it.
  std::optional<double> cpu_seconds;
};

// The cpuset files read during one scrape, by cgroup directory (nullopt: the
// directory has none), so slices inheriting from one ancestor (the root, for
// systemd's slices on v1) read its file once.
using CpusetCache = std::map<std::string, std::optional<CpuSet>>;

// Reads the cgroup at `slice` (a relative path such as "system.slice" or
// "machine"). nullopt when it exists in no hierarchy (or vanished while being
// read): not an error. An unreadable or malformed file is an error naming it.
// `cache`, when given, is shared by the slices of one scrape; `kept`, when
// given, keeps the files open across scrapes (the collector's). The files are
// read first; the slice's directories are stat-ed only when it has no
// CPU-time file (absent, or removed while being read).
Expected<std::optional<SliceReading>> ReadSlice(
    const CgroupHierarchy& h, const std::string& slice, const CpuSet& online,
    CpusetCache* cache = nullptr, KeptKernfsFiles* kept = nullptr);

// libvirt's machine slice: `machine.slice` under systemd, `machine` when
// libvirtd runs without systemd (it then creates it itself). nullopt when
// neither exists (no guest started since boot, or no libvirt).
std::optional<std::string> FindMachineSlice(const CgroupHierarchy& h);

}  // namespace hostiso
