#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "metrics/cpu_set.h"
#include "metrics/expected.h"
#include "metrics/procfs/kernel_cmdline.h"

namespace hostiso {

// The CPU lists the kernel publishes under /sys/devices/system/cpu. A file
// that does not exist is nullopt (older kernels, kernels without NO_HZ_FULL,
// a trimmed container view); a file that exists but cannot be read or parsed
// is an error, never an empty set.
struct SysfsCpuLists {
  std::optional<CpuSet> present;
  std::optional<CpuSet> online;
  std::optional<CpuSet> isolated;   // isolcpus as the kernel applied it
  std::optional<CpuSet> nohz_full;  // "(null)" reads as the empty set
};
Expected<SysfsCpuLists> ReadSysfsCpuLists(const std::string& sysfs_root);

// Where a CPU list came from (hostiso_config_info labels).
inline constexpr std::string_view kSourceSysfs = "sysfs";
inline constexpr std::string_view kSourceCmdline = "cmdline";
inline constexpr std::string_view kSourceProcStat = "proc_stat";

// The CPUs and their kernel isolation, each with the source it came from.
struct CpuTopology {
  CpuSet present;
  CpuSet online;
  std::string_view cpus_source = kSourceSysfs;
  CpuSet isolated;
  std::string_view isolated_source = kSourceSysfs;
  CpuSet nohz_full;
  std::string_view nohz_full_source = kSourceSysfs;
};

// Pure: the fallback rules, where the kernel offers another source.
// - present/online: sysfs; with neither file, the cpuN lines of /proc/stat
//   (`proc_stat_cpus`, the online CPUs); one alone stands for both.
//   A present or online list that is empty is an error: a running kernel has
//   at least one online CPU.
// - isolated and nohz_full: sysfs; without the file, the kernel command line
//   (isolcpus=, nohz_full=). Without either, kernel isolation is unknown: an
//   error, not "nothing isolated".
// `cmdline` is null when /proc/cmdline could not be read.
Expected<CpuTopology> ResolveCpuTopology(
    const SysfsCpuLists& sysfs, const KernelCmdline* cmdline,
    const std::optional<CpuSet>& proc_stat_cpus);

}  // namespace hostiso
