#include "metrics/sysfs/cpu_topology.h"

#include <cerrno>

#include "metrics/procfs/read_file.h"

namespace hostiso {
namespace {

// nullopt when the file does not exist; an error when it exists but cannot be
// read or parsed.
Expected<std::optional<CpuSet>> ReadOptionalList(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) {
    if (text.failure().code() == ENOENT) return std::optional<CpuSet>();
    return text.failure();
  }
  HOSTISO_ASSIGN_OR_RETURN(
      CpuSet set,
      ParseCpuList(*text, CpuListSyntax::kKernel).WithContext(path));
  return std::optional<CpuSet>(std::move(set));
}

}  // namespace

Expected<SysfsCpuLists> ReadSysfsCpuLists(const std::string& sysfs_root) {
  const std::string dir = JoinPath(sysfs_root, "devices/system/cpu/");
  SysfsCpuLists lists;
  HOSTISO_ASSIGN_OR_RETURN(lists.present, ReadOptionalList(dir + "present"));
  HOSTISO_ASSIGN_OR_RETURN(lists.online, ReadOptionalList(dir + "online"));
  HOSTISO_ASSIGN_OR_RETURN(lists.isolated, ReadOptionalList(dir + "isolated"));
  HOSTISO_ASSIGN_OR_RETURN(lists.nohz_full,
                           ReadOptionalList(dir + "nohz_full"));
  if (lists.present && lists.present->Empty())
    return Error(dir + "present: empty CPU list");
  if (lists.online && lists.online->Empty())
    return Error(dir + "online: empty CPU list");
  return lists;
}

Expected<CpuTopology> ResolveCpuTopology(
    const SysfsCpuLists& sysfs, const KernelCmdline* cmdline,
    const std::optional<CpuSet>& proc_stat_cpus) {
  CpuTopology t;
  if (sysfs.present || sysfs.online) {
    t.present = sysfs.present ? *sysfs.present : *sysfs.online;
    t.online = sysfs.online ? sysfs.online->Intersect(t.present) : t.present;
  } else if (proc_stat_cpus && !proc_stat_cpus->Empty()) {
    t.present = *proc_stat_cpus;
    t.online = *proc_stat_cpus;
    t.cpus_source = kSourceProcStat;
  } else {
    return Error(
        "no CPU list: sysfs has neither cpu/present nor cpu/online, and "
        "/proc/stat lists no CPU");
  }
  if (sysfs.isolated) {
    t.isolated = *sysfs.isolated;
  } else if (cmdline != nullptr) {
    t.isolated = cmdline->isolcpus;
    t.isolated_source = kSourceCmdline;
  } else {
    return Error(
        "kernel isolation unknown: no cpu/isolated in sysfs and the kernel "
        "command line is unreadable");
  }
  if (sysfs.nohz_full) {
    t.nohz_full = *sysfs.nohz_full;
  } else if (cmdline != nullptr) {
    t.nohz_full = cmdline->nohz_full;
    t.nohz_full_source = kSourceCmdline;
  } else {
    return Error(
        "nohz_full unknown: no cpu/nohz_full in sysfs and the kernel command "
        "line is unreadable");
  }
  return t;
}

}  // namespace hostiso
