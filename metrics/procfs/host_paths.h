#pragma once

#include <cstdint>
#include <string>

namespace hostiso {

// Where the host's kernel files and root filesystem are, as this process sees
// them (--path.procfs, --path.sysfs, --path.rootfs): the real mounts, a
// container's /host/proc, or a fixture tree in tests. Decided once at start-up
// and passed to every reader, as prometheus/procfs's FS object.
struct HostPaths {
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  std::string rootfs = "/";
  // procfs is a real procfs of this process's own PID namespace (its "self"
  // link names our pid), so task ids under it are the ids the kernel's
  // syscalls (sched_getaffinity, clock_gettime on a process CPU clock) take.
  // False for fixture trees and for a host /proc seen from a container with
  // its own PID namespace.
  bool own_pid_namespace = false;

  // Fills own_pid_namespace by looking at the mount (statfs) and the "self"
  // link.
  static HostPaths Detect(std::string procfs, std::string sysfs,
                          std::string rootfs);

  std::string Proc(const std::string& rel) const;
  std::string Sys(const std::string& rel) const;
};

// `path` is a mount of the kernel's procfs (statfs), not a fixture tree.
bool IsProcfsMount(const std::string& path);

// Kernel constants read once: USER_HZ, the unit of /proc/stat and task stat
// times, and the page size, the unit of statm.
double ClockTicksPerSecond();
std::uint64_t PageSizeBytes();

}  // namespace hostiso
